"""Turns loaded YAML nodes into the typed runbook model, collecting every structural error."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml

from . import easy_modules, modules, variables
from . import inventory as automatejs_inventory
from .errors import Diagnostic, Diagnostics, Location, RunbookInvalid
from .loader import exists, is_dir, is_file, load_node, location_of, scalar_value
from .model import (
    IncludeBlock,
    ModuleCall,
    ModuleInfo,
    ParallelBlock,
    Runbook,
    SerialBlock,
    Task,
    TaskOptions,
    VarsFile,
    VaultText,
)

RUNBOOK_KEYS = {"name", "description", "hosts", "sudo", "vars", "vars_files", "flow", "facts",
                "strategy", "rolling", "tasks"}
OPTION_KEYS = {"when", "sudo", "sudo_user", "ignore_errors", "timeout", "retries", "delay", "until",
               "tags", "vars", "register", "no_log"}
# Options that only make sense for one module run, not for a whole block.
LEAF_ONLY_OPTIONS = {"timeout", "retries", "delay", "until", "register"}
CORE_ARGUMENTS = {
    "file": ({"source", "destination"}, {"mode", "owner", "group", "backup", "force"}),
    "template": ({"source", "destination"}, {"mode", "owner", "group", "backup", "force", "variables"}),
    "shell": ({"cmd"}, {"chdir", "creates", "removes", "executable", "env", "stdin"}),
}
RUNBOOK_FILE = "run.yml"


def runbook_file(path: Path) -> Path:
    """A runbook is a file, or a directory holding run.yml (the AutomateJS layout)."""
    return path / RUNBOOK_FILE if is_dir(path) else path


def load_runbook(path: Path) -> Runbook:
    source = runbook_file(Path(path))
    node = load_node(source)
    diagnostics = Diagnostics()
    runbook = _Builder(source, diagnostics, _Counter()).runbook(node)
    diagnostics.raise_if_any()
    return runbook


class _Counter:
    """Numbers leaves across a runbook and the runbooks it includes, so every id is unique."""

    def __init__(self) -> None:
        self.value = 0

    def next(self) -> int:
        self.value += 1
        return self.value


class _Builder:
    def __init__(self, source: Path, diagnostics: Diagnostics, counter: _Counter,
                 parent_path: tuple[str, ...] = (), scope: tuple[str, ...] = (),
                 including: tuple[Path, ...] = ()):
        self.source = source
        self.diagnostics = diagnostics
        self.counter = counter
        self.parent_path = parent_path  # where an included runbook's tasks sit in the including one
        self.scope = scope
        self.including = including  # the runbooks that include this one, to refuse cycles

    def at(self, node: yaml.Node) -> Location:
        return location_of(node, self.source)

    def error(self, node: yaml.Node, message: str) -> None:
        self.diagnostics.error(self.at(node), message)

    # -- the runbook ---------------------------------------------------------------------------

    def runbook(self, node: yaml.Node | None) -> Runbook | None:
        if not isinstance(node, yaml.MappingNode):
            where = Location(self.source, 1, 1) if node is None else self.at(node)
            raise RunbookInvalid([Diagnostic(where, "a runbook is a mapping with at least 'name' and 'tasks'")])
        fields = self.mapping(node, RUNBOOK_KEYS, "runbook")
        name = self.string(fields.get("name"), "name", required_in=node)
        directory = self.source.parent
        tasks_node = fields.get("tasks")
        if tasks_node is None:
            self.error(node, "missing 'tasks': a runbook needs a list of tasks")
        flow = self.choice(fields.get("flow"), ("serial", "parallel"), "serial", "flow")
        options = TaskOptions()
        children = self.task_list(tasks_node, self.parent_path, "tasks") if tasks_node is not None else ()
        root_class = ParallelBlock if flow == "parallel" else SerialBlock
        root = root_class(name or "", self.parent_path, children, options, self.at(tasks_node or node))
        self.check_unique_names(root)
        return Runbook(
            name=name or "",
            description=self.string(fields.get("description"), "description") or "",
            source=self.source,
            hosts=self.hosts(fields.get("hosts")),
            sudo=self.boolean(fields.get("sudo"), "sudo") or False,
            vars=self.variables(fields.get("vars"), "vars"),
            vars_files=self.vars_files(directory / "var.yml", fields.get("vars_files")),
            flow=flow,
            facts=self.boolean(fields.get("facts"), "facts") or False,
            strategy=self.choice(fields.get("strategy"), ("linear", "free"), "linear", "strategy"),
            rolling=self.rolling(fields.get("rolling")),
            root=root,
            inventory=self.inventory(directory / "inventory.yml"),
        )

    def hosts(self, node: yaml.Node | None) -> str:
        if node is None:
            return "localhost"
        value = self.plain(node)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = ",".join(value)
        if not isinstance(value, str) or not value.strip():
            self.error(node, "'hosts' must be an Ansible host pattern such as 'web' or '${host}'")
            return "localhost"
        return value

    def vars_files(self, var_yml: Path, node: yaml.Node | None) -> tuple[VarsFile, ...]:
        paths = [(var_yml, None)] if var_yml.is_file() else []
        if node is not None and not isinstance(node, yaml.SequenceNode):
            self.error(node, "'vars_files' must be a list of file paths")
        elif node is not None:
            for item in node.value:
                name = self.string(item, "vars_files entry")
                if name is not None and not is_file(self.source.parent / name):
                    self.error(item, f"vars file not found: {self.source.parent / name}")
                elif name is not None:
                    paths.append((self.source.parent / name, item))
        return tuple(self.vars_file(path) for path, _ in paths)

    def vars_file(self, path: Path) -> VarsFile:
        if path.read_bytes().startswith(b"$ANSIBLE_VAULT"):
            return VarsFile(path, None)  # decrypted by Ansible at run time, never by us
        node = load_node(path)
        if node is None:
            return VarsFile(path, {})
        nested = _Builder(path, self.diagnostics, self.counter)
        return VarsFile(path, nested.variables(node, path.name))

    def rolling(self, node: yaml.Node | None) -> int | str | None:
        if node is None:
            return None
        value = self.plain(node)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        share = value[:-1] if isinstance(value, str) and value.endswith("%") else ""
        if share.isascii() and share.isdigit() and 0 < int(share) <= 100:  # not "²%": isdigit, but no int
            return value
        self.error(node, "'rolling' is a number of hosts per batch (like 2) or a share (like '30%')")
        return None

    # -- tasks ---------------------------------------------------------------------------------

    def task_list(self, node: yaml.Node, parent: tuple[str, ...], what: str) -> tuple[Task, ...]:
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, f"'{what}' must be a list of tasks")
            return ()
        if not node.value:
            self.error(node, f"'{what}' is empty")
        return tuple(t for t in (self.task(item, parent) for item in node.value) if t is not None)

    def task(self, node: yaml.Node, parent: tuple[str, ...]) -> Task | None:
        if not isinstance(node, yaml.MappingNode):
            self.error(node, "a task is a mapping with a 'name' and one module, like {name: hello, echo: hi}")
            return None
        keys = self.key_nodes(node)
        if "name" not in keys:
            self.error(node, "this task has no 'name': every task needs one, unique in the runbook")
        name = self.string(keys.get("name", (None, None))[1], "name")
        location = self.at(node)
        resolved, unknown = {}, []
        for key in keys:
            if key != "name" and key not in OPTION_KEYS:
                info = self.resolve(key, keys[key][0])
                resolved.update({key: info}) if info else unknown.append(key)
        for key in unknown:
            self.error(keys[key][0], self.unknown_key_message(key, bool(resolved)))
        if len(resolved) > 1:
            self.error(keys[list(resolved)[1]][0],
                       f"task '{name}' has more than one module key: {', '.join(resolved)} (one per task)")
        if not resolved and not unknown:
            self.error(node, f"task '{name}' has no module: add one key such as 'shell' or 'echo'")
        if len(resolved) != 1 or unknown or any(i.kind == "broken" for i in resolved.values()):
            for key in resolved:
                self.plain(keys[key][1])  # still report bad `${` inside
            return None
        key, info = next(iter(resolved.items()))
        value_node = keys[key][1]
        name = name or ""
        path = (*parent, name)
        options = self.options(keys, leaf=info.kind != "flow")
        if key == "include":
            return self.include(name, path, value_node, self.options(keys, leaf=False), location)
        if info.kind == "flow":
            children = self.task_list(value_node, path, key)
            block = SerialBlock if key == "serial" else ParallelBlock
            return block(name, path, children, options, location)
        return ModuleCall(name, path, key, self.arguments(key, value_node), options, location, self.counter.next(),
                          self.scope, info)

    def resolve(self, key: str, key_node: yaml.Node):
        """Resolve a module key now, so a broken or unbundlable easy module is a located error."""
        try:
            info = modules.resolve(key, self.source.parent)
            if info is not None and info.kind == "easy":
                easy_modules.build_ansible_module(info.easy)  # checks its imports; cached for emission
            return info
        except easy_modules.EasyModuleError as problem:
            self.error(key_node, str(problem))
            return ModuleInfo(key, None, "broken", False)  # known, but not usable: no second error

    def suggestions(self, key: str) -> list[str]:
        try:
            return modules.suggestions(key, self.source.parent)
        except easy_modules.EasyModuleError:
            return modules.suggestions(key)

    def include(self, name: str, path: tuple[str, ...], node: yaml.Node, options: TaskOptions,
                location: Location) -> IncludeBlock | None:
        value = self.plain(node)
        if not isinstance(value, dict) or not isinstance(value.get("runbook"), str):
            self.error(node, "'include' takes {runbook: path, vars: {...}}")
            return None
        for unknown in sorted(set(value) - {"runbook", "vars"}):
            self.error(node, f"'include' has no argument '{unknown}'{_hint(unknown, {'runbook', 'vars'})}")
        include_vars = value.get("vars") or {}
        if not isinstance(include_vars, dict):
            self.error(node, "the 'vars' of an include must be a mapping")
            include_vars = {}
        target = self.source.parent / value["runbook"]
        source = runbook_file(target).resolve()
        if not is_file(source):
            self.error(node, f"included runbook not found: {target}")
            return None
        chain = (*self.including, self.source.resolve())
        if source in chain:
            cycle = " -> ".join(p.name if p.parent == source.parent else str(p) for p in (*chain, source))
            self.error(node, f"include cycle: {cycle}")
            return None
        nested = _Builder(source, self.diagnostics, self.counter, path, (*self.scope, name), chain)
        try:
            runbook = nested.runbook(load_node(source))
        except RunbookInvalid as invalid:  # e.g. not even a mapping: report it with the rest
            self.diagnostics.items.extend(invalid.diagnostics)
            return None
        options = TaskOptions(**{**options.__dict__, "vars": {**options.vars, **include_vars}})
        return IncludeBlock(name, path, (runbook.root,), options, location, runbook, self.scope)

    def unknown_key_message(self, key: str, has_module: bool) -> str:
        option = difflib.get_close_matches(key, sorted(OPTION_KEYS | {"name"}), n=1)
        if has_module or option:
            return f"unknown task key '{key}'" + (f" (did you mean '{option[0]}'?)" if option else "")
        hint = self.suggestions(key)
        return f"unknown module '{key}'" + (f" (did you mean {' or '.join(repr(h) for h in hint)}?)" if hint else "")

    def arguments(self, key: str, node: yaml.Node) -> Any:
        value = self.plain(node)
        if key == "echo":
            return value
        if key == "shell" and isinstance(value, str):
            return {"cmd": value}
        if key in CORE_ARGUMENTS:
            required, optional = CORE_ARGUMENTS[key]
            if not isinstance(value, dict):
                self.error(node, f"'{key}' takes a mapping with {', '.join(sorted(required))}")
                return {}
            for missing in sorted(required - value.keys()):
                self.error(node, f"'{key}' needs '{missing}'")
            for unknown in sorted(value.keys() - required - optional):
                self.error(node, f"'{key}' has no argument '{unknown}'{_hint(unknown, required | optional)}")
            self.check_source(key, value.get("source"), node)
            return value
        if value is not None and not isinstance(value, (dict, str)):
            self.error(node, f"the arguments of '{key}' must be a mapping (or a free-form string)")
        return value

    def check_source(self, key: str, source: Any, node: yaml.Node) -> None:
        """file and template read from the runbook's files/ and templates/: catch a typo now."""
        folder = {"file": "files", "template": "templates"}.get(key)
        if folder is None or not isinstance(source, str) or "${" in source or "{{" in source:
            return
        if not exists(self.source.parent / folder / source):  # a file, or a directory to copy
            self.error(node, f"'{key}' source not found: {folder}/{source} (beside {self.source.name})")

    def options(self, keys: dict[str, tuple[yaml.Node, yaml.Node]], leaf: bool) -> TaskOptions:
        values: dict[str, Any] = {}
        for key in OPTION_KEYS & keys.keys():
            key_node, node = keys[key]
            if not leaf and key in LEAF_ONLY_OPTIONS:
                self.error(key_node, f"'{key}' applies to one module run, not to a serial or parallel block")
                continue
            values[key] = self.option(key, node)
        when = values.get("when")
        values["when"] = tuple(when if isinstance(when, list) else [when]) if when is not None else ()
        tags = values.get("tags")
        values["tags"] = tuple([tags] if isinstance(tags, str) else tags or ())
        values["vars"] = values.get("vars") or {}
        return TaskOptions(**values)

    def option(self, key: str, node: yaml.Node) -> Any:
        if key in ("sudo", "ignore_errors", "no_log"):
            return self.boolean(node, key)
        if key in ("timeout", "retries", "delay"):
            return self.positive_int(node, key)
        if key in ("sudo_user", "register"):
            value = self.string(node, key)
            if key == "register" and value and not value.isidentifier():
                self.error(node, "'register' must be a variable name")
            return value
        if key == "vars":
            return self.variables(node, "vars")
        value = self.plain(node)
        if key == "tags" and not (isinstance(value, str) or
                                  (isinstance(value, list) and all(isinstance(t, str) for t in value))):
            self.error(node, "'tags' must be a tag or a list of tags")
            return ()
        if key in ("when", "until") and not isinstance(value, (str, bool, list)):
            self.error(node, f"'{key}' must be a condition such as \"${{x}} == 'y'\"")
            return None
        return value

    def check_unique_names(self, root: Task) -> None:
        seen: dict[str, Location] = {}

        def visit(task: Task) -> None:
            if task.name in seen:
                first = seen[task.name]
                self.diagnostics.error(task.location,
                                       f"duplicate task name '{task.name}' (first used at line {first.line})")
            elif task.name:
                seen[task.name] = task.location
            if not isinstance(task, IncludeBlock):  # an included runbook's names are its own
                for child in getattr(task, "children", ()):
                    visit(child)

        for child in root.children:
            visit(child)

    # -- values --------------------------------------------------------------------------------

    def mapping(self, node: yaml.MappingNode, allowed: set[str], what: str) -> dict[str, yaml.Node]:
        fields = {}
        for key, (key_node, value_node) in self.key_nodes(node).items():
            if key not in allowed:
                self.error(key_node, f"unknown {what} key '{key}'{_hint(key, allowed)}")
            else:
                fields[key] = value_node
        return fields

    def key_nodes(self, node: yaml.MappingNode) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        keys: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = self.plain(key_node)
            if not isinstance(key, str):
                self.error(key_node, "keys must be strings")
            elif key in keys:
                self.error(key_node, f"duplicate key '{key}'")
            else:
                keys[key] = (key_node, value_node)
        return keys

    def plain(self, node: yaml.Node) -> Any:
        """A node as plain data; `!vault` stays encrypted; every `${` is checked on the way."""
        if node.tag == "!vault":
            return VaultText(str(node.value))
        if isinstance(node, yaml.MappingNode):
            return {key: self.plain(value) for key, (_, value) in self.key_nodes(node).items()}
        if isinstance(node, yaml.SequenceNode):
            return [self.plain(item) for item in node.value]
        if node.tag.startswith("!"):
            self.error(node, f"unsupported YAML tag '{node.tag}' (only !vault is understood)")
            return node.value
        value = scalar_value(node)
        if isinstance(value, str):
            try:
                variables.split(value)
            except variables.ExpressionError as exc:
                self.error(node, str(exc))
        return value

    def variables(self, node: yaml.Node | None, what: str) -> dict[str, Any]:
        if node is None:
            return {}
        value = self.plain(node)
        if not isinstance(value, dict):
            self.error(node, f"'{what}' must be a mapping of variable names to values")
            return {}
        for key in value:
            if not key.isidentifier():
                self.error(node, f"'{key}' is not a valid variable name")
        return value

    def string(self, node: yaml.Node | None, what: str, required_in: yaml.Node | None = None) -> str | None:
        if node is None:
            if required_in is not None:
                self.error(required_in, f"missing '{what}'")
            return None
        value = self.plain(node)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            self.error(node, f"'{what}' must be a non-empty string")
            return None
        return value

    def boolean(self, node: yaml.Node | None, what: str) -> bool | None:
        if node is None:
            return None
        value = self.plain(node)
        if not isinstance(value, bool):
            self.error(node, f"'{what}' must be true or false")
            return None
        return value

    def positive_int(self, node: yaml.Node, what: str) -> int | None:
        value = self.plain(node)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.error(node, f"'{what}' must be a whole number of {'seconds' if what != 'retries' else 'tries'}")
            return None
        return value

    def choice(self, node: yaml.Node | None, allowed: tuple[str, ...], default: str, what: str) -> str:
        if node is None:
            return default
        value = self.plain(node)
        if value not in allowed:
            self.error(node, f"'{what}' must be one of: {', '.join(allowed)}")
            return default
        return value

    def inventory(self, path: Path) -> dict[str, Any] | None:
        if not path.is_file():
            return None
        node = load_node(path)
        try:
            data = _Builder(path, self.diagnostics, self.counter).plain(node) if node else None
            return automatejs_inventory.convert(data, path.parent)
        except automatejs_inventory.InventoryProblem as problem:
            self.diagnostics.error(location_of(node, path) if node else Location(path, 1, 1), str(problem))
            return None


def _hint(word: str, choices) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""

