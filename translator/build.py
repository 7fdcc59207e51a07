"""Builds the typed runbook model from loaded YAML: the runbook's keys and its tasks, every problem collected.

The stages it leans on, one file each: nodes.py reads YAML nodes into typed values, options.py a
task's keywords, resolution.py its module key, arguments.py (and each core module) its arguments,
includes.py nested runbooks.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from . import inventory as automatejs_inventory
from .arguments import read_arguments
from .errors import Diagnostic, Diagnostics, Location, RunbookInvalid
from .includes import read_include, runbook_file
from .loader import is_file, load_node, location_of
from .model import ModuleCall, ParallelBlock, Runbook, SerialBlock, Task, TaskOptions, VarsFile
from .nodes import NodeReader, hint
from .options import OPTION_KEYS, is_option, keyword, read_options
from .resolution import BROKEN, ModuleResolver
from .role_docs import read_galaxy, read_vars_doc
from .roles import check_requirements

__all__ = ["load_runbook", "runbook_file"]

RUNBOOK_KEYS = {"name", "description", "hosts", "sudo", "vars", "vars_files", "flow", "facts",
                "strategy", "rolling", "tasks", "handlers", "galaxy", "vars_doc"}


def load_runbook(path: Path) -> Runbook:
    source = runbook_file(Path(path))
    node = load_node(source)
    build = _Build()
    runbook = _RunbookBuilder(source, build).runbook(node)
    build.diagnostics.raise_if_any()
    return replace(runbook, warnings=tuple(sorted(build.diagnostics.warnings, key=lambda d: d.location)))


@dataclass
class _Build:
    """What a runbook and the runbooks it includes share while they are built."""

    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    resolver: ModuleResolver = field(default_factory=ModuleResolver)
    leaves: int = 0  # leaves numbered across every runbook, so each id is unique

    def next_leaf(self) -> int:
        self.leaves += 1
        return self.leaves


class _RunbookBuilder:
    def __init__(self, source: Path, build: _Build, parent_path: tuple[str, ...] = (),
                 scope: tuple[str, ...] = (), including: tuple[Path, ...] = (), in_parallel: bool = False):
        self.source = source
        self.folder = source.parent  # one Path, hashed once: module names are resolved per name and folder
        self.build = build
        self.reader = NodeReader(source, build.diagnostics)
        self.parent_path = parent_path  # where an included runbook's tasks sit in the including one
        self.scope = scope
        self.including = including  # the runbooks that include this one, to refuse cycles
        self.names: dict[str, Location] = {}  # task names seen so far: each is unique in its runbook
        self.in_parallel = in_parallel  # whether the tasks being read are children of a parallel block
        self.inlined = in_parallel  # an included runbook run inside a parallel block: its tasks join that role
        self.notified: list[tuple[str, yaml.Node]] = []  # each handler a `notify` names, where it is named

    # -- the runbook ---------------------------------------------------------------------------

    def runbook(self, node: yaml.Node | None) -> Runbook:
        reader = self.reader
        if not isinstance(node, yaml.MappingNode):
            where = Location(self.source, 1, 1) if node is None else reader.at(node)
            raise RunbookInvalid([Diagnostic(where, "a runbook is a mapping with at least 'name' and 'tasks'")])
        fields = reader.mapping(node, RUNBOOK_KEYS, "runbook")
        name = self.name(node, fields.get("name"))
        directory = self.source.parent
        tasks_node = fields.get("tasks")
        if tasks_node is None:
            reader.error(node, "missing 'tasks': a runbook needs a list of tasks")
        flow = reader.choice(fields.get("flow"), ("serial", "parallel"), "serial", "flow")
        self.in_parallel = self.in_parallel or flow == "parallel"
        children = self.task_list(tasks_node, self.parent_path, "tasks") if tasks_node is not None else ()
        handlers = self.handlers(fields.get("handlers"))
        if is_file(directory / "requirements.yml"):
            check_requirements(NodeReader(directory / "requirements.yml", self.build.diagnostics),
                               directory / "requirements.yml")
        root_class = ParallelBlock if flow == "parallel" else SerialBlock
        root = root_class(name or "", self.parent_path, children, TaskOptions(), reader.at(tasks_node or node))
        variables = reader.variables(fields.get("vars"), "vars")
        vars_files = self.vars_files(directory / "var.yml", fields.get("vars_files"))
        defaults = {**variables, **{name: None for vf in vars_files for name in (vf.values or {})}}
        return Runbook(
            name=name or "",
            description=reader.string(fields.get("description"), "description") or "",
            source=self.source,
            hosts=self.hosts(fields.get("hosts")),
            sudo=reader.boolean(fields.get("sudo"), "sudo") or False,
            vars=variables,
            vars_files=vars_files,
            flow=flow,
            facts=reader.boolean(fields.get("facts"), "facts") or False,
            strategy=reader.choice(fields.get("strategy"), ("linear", "free"), "linear", "strategy"),
            rolling=self.rolling(fields.get("rolling")),
            root=root,
            inventory=self.inventory(directory / "inventory.yml"),
            handlers=handlers,
            requirements=directory / "requirements.yml" if is_file(directory / "requirements.yml") else None,
            vars_doc=read_vars_doc(reader, fields.get("vars_doc"), defaults),
            galaxy=read_galaxy(reader, fields.get("galaxy")),
        )

    def handlers(self, node: yaml.Node | None) -> tuple[ModuleCall, ...]:
        """`handlers:`: module calls run once, at the end of the play (or where Ansible flushes them), on each
        host where a task that notified them changed something. Every `notify` must name one."""
        handlers: list[ModuleCall] = []
        if node is not None and not isinstance(node, yaml.SequenceNode):
            self.reader.plain(node)
            self.reader.error(node, "'handlers' must be a list of tasks")
        elif node is not None:
            self.in_parallel = False  # handlers run in the play, whatever the top level's flow
            for item in node.value:
                handler = self.task(item, self.parent_path)
                if handler is not None and not isinstance(handler, ModuleCall):
                    self.reader.error(item, "a handler is one module call, not a block or an include")
                elif handler is not None:
                    handlers.append(replace(handler, handler=True))
        known = {handler.name for handler in handlers}
        for name, where in self.notified:
            if name not in known:
                self.reader.error(where, f"'notify' names '{name}', which is not one of this runbook's "
                                         f"handlers{hint(name, known) if known else ' (it has none)'}")
        return tuple(handlers)

    def name(self, runbook: yaml.MappingNode, node: yaml.Node | None) -> str | None:
        """The runbook's name; without one, its project's name, as AutomateJS took the directory's."""
        if node is not None:
            return self.reader.string(node, "name")
        default = self.source.parent.resolve().name if self.source.name == "run.yml" else self.source.stem
        self.reader.warning(runbook, f"the runbook has no 'name'; it is named after its "
                                     f"{'directory' if self.source.name == 'run.yml' else 'file'}: '{default}'")
        return default

    def hosts(self, node: yaml.Node | None) -> str:
        if node is None:
            return "localhost"
        value = self.reader.plain(node)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = ",".join(value)
        if not isinstance(value, str) or not value.strip():
            self.reader.error(node, "'hosts' must be an Ansible host pattern such as 'web' or '${host}'")
            return "localhost"
        return value

    def vars_files(self, var_yml: Path, node: yaml.Node | None) -> tuple[VarsFile, ...]:
        paths = [var_yml] if is_file(var_yml) else []
        if node is not None and not isinstance(node, yaml.SequenceNode):
            self.reader.error(node, "'vars_files' must be a list of file paths")
        elif node is not None:
            for item in node.value:
                name = self.reader.string(item, "vars_files entry")
                if name is not None and not is_file(self.source.parent / name):
                    self.reader.error(item, f"vars file not found: {self.source.parent / name}")
                elif name is not None:
                    paths.append(self.source.parent / name)
        return tuple(self.vars_file(path) for path in paths)

    def vars_file(self, path: Path) -> VarsFile:
        if path.read_bytes().startswith(b"$ANSIBLE_VAULT"):
            return VarsFile(path, None)  # decrypted by Ansible at run time, never by us
        node = load_node(path)
        if node is None:
            return VarsFile(path, {})
        return VarsFile(path, NodeReader(path, self.build.diagnostics).variables(node, path.name))

    def rolling(self, node: yaml.Node | None) -> int | str | None:
        if node is None:
            return None
        value = self.reader.plain(node)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        share = value[:-1] if isinstance(value, str) and value.endswith("%") else ""
        if share.isascii() and share.isdigit() and 0 < int(share) <= 100:  # not "²%": isdigit, but no int
            return value
        self.reader.error(node, "'rolling' is a number of hosts per batch (like 2) or a share (like '30%')")
        return None

    def inventory(self, path: Path) -> dict | None:
        if not is_file(path):
            return None
        node = load_node(path)
        try:
            data = NodeReader(path, self.build.diagnostics).plain(node) if node else None
            return automatejs_inventory.convert(data)
        except automatejs_inventory.InventoryProblem as problem:
            where = location_of(node, path) if node else Location(path, 1, 1)
            self.build.diagnostics.error(where, str(problem))
            return None

    # -- tasks ---------------------------------------------------------------------------------

    def task_list(self, node: yaml.Node, parent: tuple[str, ...], what: str) -> tuple[Task, ...]:
        if not isinstance(node, yaml.SequenceNode):
            self.reader.plain(node)
            self.reader.error(node, f"'{what}' must be a list of tasks")
            return ()
        if not node.value:  # `automatejs init` writes `tasks: []`: a project to fill in, not a mistake
            where = f"'{what}' of task '{parent[-1]}'" if parent and what != "tasks" else f"'{what}'"
            self.reader.warning(node, f"{where} is empty: nothing to run there")
        return tuple(t for t in (self.task(item, parent) for item in node.value) if t is not None)

    def task(self, node: yaml.Node, parent: tuple[str, ...]) -> Task | None:
        """One task, or None once all its problems are reported: its name, its module key, its
        options and its module's arguments are each checked, whatever the others' state."""
        reader = self.reader
        if not isinstance(node, yaml.MappingNode):
            reader.plain(node)
            reader.error(node, "a task is a mapping with a 'name' and one module, like {name: hello, echo: hi}")
            return None
        keys = reader.key_nodes(node)
        name = self.task_name(node, keys)
        resolved, unknown = {}, []
        for key, (key_node, _) in keys.items():
            if key != "name" and not is_option(key):
                info = self.build.resolver.resolve(key, self.folder, reader, key_node)
                resolved.update({key: info}) if info else unknown.append(key)
        for key in unknown:
            message = self.build.resolver.unknown_key_message(key, self.source.parent, bool(resolved),
                                                               OPTION_KEYS | {"name"})
            reader.error(keys[key][0], message)
            reader.plain(keys[key][1])
        if len(resolved) > 1:
            reader.error(keys[list(resolved)[1]][0],
                         f"task '{name}' has more than one module key: {', '.join(resolved)} (one per task)")
        if not resolved and not unknown:
            reader.error(node, f"task '{name}' has no module: add one key such as 'shell' or 'echo'")
        is_block = len(resolved) == 1 and next(iter(resolved.values())).kind == "flow"
        options = read_options(reader, keys, leaf=not is_block)
        self.check_keywords(keys, options)
        path = (*parent, name or "")
        bodies = [self.body(key, info, name or "", path, keys, options, reader.at(node))
                  for key, info in resolved.items()]
        if len(bodies) != 1 or unknown or name is None:
            return None
        return bodies[0]

    def check_keywords(self, keys: dict[str, tuple[yaml.Node, yaml.Node]], options) -> None:
        """What a task's Ansible keywords need from where they are: handlers to notify, a strategy to apply them."""
        if "notify" in options.keywords:
            self.notified += [(name, keys["notify"][1]) for name in options.keywords["notify"]]
            if self.inlined:
                self.reader.error(keys["notify"][0], "'notify' cannot be used in a runbook included inside a "
                                                     "parallel block: its tasks run in the including runbook's "
                                                     "role, where its handlers are not; include it outside the block")
        if self.in_parallel:
            for key in options.keywords:
                if keyword(key).strategy:
                    self.reader.error(keys[key][0], f"'{key}' cannot be used inside a parallel block: "
                                                    f"{keyword(key).not_in_parallel}")

    def task_name(self, node: yaml.MappingNode, keys: dict[str, tuple[yaml.Node, yaml.Node]]) -> str | None:
        if "name" not in keys:
            self.reader.error(node, "this task has no 'name': every task needs one, unique in the runbook")
            return None
        key_node, value_node = keys["name"]
        name = self.reader.string(value_node, "name")
        if name in self.names:
            first = self.names[name]
            self.reader.error(key_node, f"duplicate task name '{name}' (first used at line {first.line})")
        elif name is not None:
            self.names[name] = self.reader.at(node)
        return name

    def body(self, key: str, info, name: str, path: tuple[str, ...], keys: dict[str, tuple[yaml.Node, yaml.Node]],
             options: TaskOptions, location: Location) -> Task | None:
        """What the task's module key makes of its value: a block, an include, or a module call."""
        node = keys[key][1]
        if info.kind == BROKEN:
            self.reader.plain(node)  # still report bad `${` inside
            return None
        if key == "include":
            return read_include(self.reader, node, name=name, path=path, options=options, location=location,
                                scope=self.scope, including=self.including, build=self.included(name, path))
        if info.kind == "flow":
            outer, self.in_parallel = self.in_parallel, self.in_parallel or key == "parallel"
            children = self.task_list(node, path, key)
            self.in_parallel = outer
            if not children:
                return None  # empty (warned) or all wrong (reported): nothing to run or to show
            block = SerialBlock if key == "serial" else ParallelBlock
            return block(name, path, children, options, location)
        if "args" in options.keywords and info.core is not None:
            self.reader.error(keys["args"][0], f"'args' gives arguments to an Ansible module; write the arguments "
                                               f"of '{key}' under '{key}' itself")
        if key == "role" and self.in_parallel:
            self.reader.error(keys[key][0], "a 'role' task cannot run inside a parallel block: Ansible includes a "
                                            "role's tasks through its strategy, which does not run the block's "
                                            "children; run the role before or after the block")
        args = read_arguments(self.reader, info, node)
        if args is None:
            return None
        options = self.lift_options(info, args, keys, options)
        return ModuleCall(name, path, key, args, options, location, self.build.next_leaf(), self.scope, info)

    def lift_options(self, info, args, keys: dict[str, tuple[yaml.Node, yaml.Node]],
                     options: TaskOptions) -> TaskOptions:
        """Task keywords given among a module's arguments, as automatejs-core's `shell: {timeout}`."""
        lifted = info.core.task_options(args) if info.core is not None else {}
        for option in lifted.keys() & keys.keys():
            self.reader.error(keys[option][0], f"'{option}' is given twice: here and among the arguments "
                                               f"of '{info.key}'; keep one")
        return replace(options, **lifted) if lifted else options

    def included(self, name: str, path: tuple[str, ...]):
        def build(source: Path, chain: tuple[Path, ...]) -> Runbook | None:
            nested = _RunbookBuilder(source, self.build, path, (*self.scope, name), chain, self.in_parallel)
            try:
                return nested.runbook(load_node(source))
            except RunbookInvalid as invalid:  # e.g. not even a mapping: report it with the rest
                self.build.diagnostics.items.extend(invalid.diagnostics)
                return None
        return build
