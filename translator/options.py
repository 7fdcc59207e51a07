"""Reads the keywords a task carries besides its module (when, sudo, timeout, vars, loop, notify...) into
TaskOptions; ANSIBLE_KEYWORDS is the one table of Ansible's own keywords: how each is read, inherited, emitted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from .model import TaskOptions
from .nodes import NodeReader, hint, variable_name_problem


@dataclass(frozen=True)
class Keyword:
    """One of Ansible's task keywords, kept under its own name and emitted as itself."""

    kind: str  # how it is read: boolean, text, condition, flag (true/false or ${expr}), count, mapping, ...
    leaf_only: bool = False  # means something for one module run only, not for a serial or parallel block
    # Why a parallel block's children cannot carry it, and what to do instead; empty when they can. These are
    # the keywords Ansible's strategy applies, and the strategy does not run the children (the dispatcher does,
    # through TaskExecutor, which applies the others): a block carrying one has it on its dispatcher.
    not_in_parallel: str = ""

    @property
    def strategy(self) -> bool:
        return bool(self.not_in_parallel)


_STRATEGY = "Ansible's strategy {does}, and it does not run a parallel block's children; "

ANSIBLE_KEYWORDS: dict[str, Keyword] = {
    "loop": Keyword("loop", leaf_only=True),
    "loop_control": Keyword("loop_control", leaf_only=True),
    "notify": Keyword("names", leaf_only=True),  # inside parallel: notified after the dispatcher (emit.py)
    "changed_when": Keyword("condition", leaf_only=True),
    "failed_when": Keyword("condition", leaf_only=True),
    "delegate_to": Keyword("text"),
    "run_once": Keyword("boolean", not_in_parallel=_STRATEGY.format(does="picks the one host")
                        + "put 'run_once' on the parallel block itself, or move the task out of the block"),
    "environment": Keyword("environment"),
    "become_method": Keyword("become_method"),
    "check_mode": Keyword("flag"),
    "diff": Keyword("flag"),
    "args": Keyword("mapping", leaf_only=True),
    "any_errors_fatal": Keyword("boolean", not_in_parallel=_STRATEGY.format(does="stops the other hosts")
                                + "put 'any_errors_fatal' on the parallel block itself"),
    "throttle": Keyword("count", not_in_parallel=_STRATEGY.format(does="limits the hosts at a time")
                        + "put 'throttle' on the parallel block itself"),
}
# `with_<lookup>`: a loop over what the lookup plugin returns, for every lookup Ansible has.
WITH_LOOKUP = Keyword("loop", leaf_only=True)
# The lookups people loop with, for a "did you mean" (any other lookup plugin is accepted too).
_LOOKUPS = {"items", "list", "dict", "fileglob", "lines", "nested", "subelements", "together", "sequence",
            "indexed_items", "flattened", "first_found", "random_choice", "inventory_hostnames", "file"}
LOOP_CONTROL_KEYS = {"loop_var", "index_var", "label", "pause", "extended", "extended_allitems", "break_when"}

OPTION_KEYS = {"when", "sudo", "sudo_user", "become_user", "ignore_errors", "timeout", "retries", "delay",
               "until", "tags", "vars", "register", "no_log", *ANSIBLE_KEYWORDS}
# Options that only make sense for one module run, not for a whole block.
LEAF_ONLY_OPTIONS = {"timeout", "retries", "delay", "until", "register",
                     *(name for name, keyword in ANSIBLE_KEYWORDS.items() if keyword.leaf_only)}


def keyword(name: str) -> Keyword | None:
    """The Ansible keyword a task key is, `with_items` and its kin included."""
    if name.startswith("with_"):
        return WITH_LOOKUP
    return ANSIBLE_KEYWORDS.get(name)


def is_option(name: str) -> bool:
    return name in OPTION_KEYS or name.startswith("with_")


def read_options(reader: NodeReader, keys: dict[str, tuple[yaml.Node, yaml.Node]], leaf: bool) -> TaskOptions:
    """Every option of a task, each problem reported at its key or value."""
    if not any(map(is_option, keys)):
        return TaskOptions()  # what the rest would make of no option, for many tasks
    values: dict[str, Any] = {}
    found: dict[str, Any] = {}
    for key in filter(is_option, keys):  # in the runbook's order, which key_nodes keeps
        key_node, node = keys[key]
        if not leaf and (key in LEAF_ONLY_OPTIONS or key.startswith("with_")):
            reader.error(key_node, f"'{key}' applies to one module run, not to a serial or parallel block")
            continue
        if keyword(key) is not None:
            found[key] = _ansible_keyword(reader, key, key_node, node)
            continue
        if key == "become_user" and "sudo_user" in keys:
            reader.error(key_node, "'become_user' and 'sudo_user' are the same keyword; give one")
            continue
        values["sudo_user" if key == "become_user" else key] = _option(reader, key, node)
    loops = [key for key in found if key == "loop" or key.startswith("with_")]
    for key in loops[1:]:
        reader.error(keys[key][0], f"a task has one loop: '{key}' and '{loops[0]}' both give one; keep one")
    if "loop_control" in found and not loops:
        reader.error(keys["loop_control"][0], "'loop_control' shapes a loop: add 'loop' (or 'with_...')")
    values["keywords"] = {key: value for key, value in found.items() if value is not None}
    when = values.get("when")
    values["when"] = tuple(when if isinstance(when, list) else [when]) if when is not None else ()
    tags = values.get("tags")
    values["tags"] = tuple([tags] if isinstance(tags, str) else tags or ())
    values["vars"] = values.get("vars") or {}
    return TaskOptions(**values)


def strategy_keywords(values: dict[str, Any]) -> dict[str, Any]:
    """The keywords Ansible's strategy applies (see Keyword.strategy)."""
    return {name: value for name, value in values.items() if keyword(name).strategy}


def read_timeout(reader: NodeReader, node: yaml.Node) -> int | None:
    """A time limit in whole seconds, at least one."""
    seconds = reader.whole_number(node, "timeout", "seconds")
    if seconds == 0:  # Ansible reads 0 as "no limit", the opposite of what it looks like
        reader.error(node, "'timeout: 0' would mean no time limit at all; give at least 1 second, "
                           "or leave timeout out for no limit")
        return None
    return seconds


def _option(reader: NodeReader, key: str, node: yaml.Node) -> Any:
    if key in ("sudo", "ignore_errors", "no_log"):
        return reader.boolean(node, key)
    if key == "timeout":
        return read_timeout(reader, node)
    if key in ("retries", "delay"):
        return reader.whole_number(node, key, "tries" if key == "retries" else "seconds")
    if key == "sudo_user":
        return reader.string(node, key)
    if key == "register":
        value = reader.string(node, key)
        problem = variable_name_problem(value) if value else ""
        if problem:
            reader.error(node, f"'register' must be a variable name: {problem}")
        return value
    if key == "vars":
        return reader.variables(node, "vars")
    if key in ("when", "until"):
        return reader.condition(node, key)
    value = reader.plain(node)
    if not (isinstance(value, str) or (isinstance(value, list) and all(isinstance(t, str) for t in value))):
        reader.error(node, "'tags' must be a tag or a list of tags")
        return ()
    return value


def _ansible_keyword(reader: NodeReader, name: str, key_node: yaml.Node, node: yaml.Node) -> Any:
    """An Ansible keyword's value as the runbook wrote it (`${}` kept), None once a problem is reported."""
    kind = keyword(name).kind
    if kind == "condition":
        return reader.condition(node, name)
    if kind == "boolean":
        return reader.boolean(node, name)
    if kind == "count":
        count = reader.whole_number(node, name, "tasks at a time")
        if count == 0:
            reader.error(node, f"'{name}: 0' would mean no limit; give at least 1, or leave it out")
            return None
        return count
    value = reader.plain(node)
    if kind == "text":
        return reader.string(node, name)
    if kind == "become_method":
        method = reader.string(node, name)
        if method and "${" not in method and become_plugin(method) is None:
            reader.error(node, f"'{name}': Ansible has no become plugin '{method}' (sudo, su, runas...)")
            return None
        return method
    if kind == "flag":
        if isinstance(value, bool) or (isinstance(value, str) and "${" in value):
            return value
        reader.error(node, f"'{name}' must be true, false or an expression such as '${{dry_run}}'")
        return None
    if kind == "names":
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
            reader.error(node, f"'{name}' must be the name of a handler, or a list of them")
            return None
        return tuple(names)
    if kind == "loop":
        return _loop(reader, name, key_node, node, value)
    if kind == "loop_control":
        if not isinstance(value, dict):
            reader.error(node, "'loop_control' must be a mapping such as {loop_var: host, label: '${host}'}")
            return None
        for key, (control_key, _) in reader.key_nodes(node).items():
            if key not in LOOP_CONTROL_KEYS:
                reader.error(control_key, f"unknown loop_control key '{key}'{hint(key, LOOP_CONTROL_KEYS)}")
        return value
    if kind == "environment":
        if isinstance(value, dict) or (isinstance(value, str) and "${" in value):
            return value
        reader.error(node, "'environment' must be a mapping of variable names to values, or '${expression}'")
        return None
    if not isinstance(value, dict):  # "mapping": args
        reader.error(node, f"'{name}' must be a mapping")
        return None
    return value


def _loop(reader: NodeReader, name: str, key_node: yaml.Node, node: yaml.Node, value: Any) -> Any:
    """`loop` takes a list or an expression giving one; `with_<lookup>` whatever that lookup takes."""
    if name.startswith("with_"):
        lookup = name[len("with_"):]
        if not lookup_exists(lookup):
            reader.error(key_node, f"'{name}': Ansible has no lookup plugin '{lookup}'{hint(lookup, _LOOKUPS)}")
            return None
        return value
    if isinstance(value, list) or (isinstance(value, str) and ("${" in value or "{{" in value)):
        return value
    reader.error(node, "'loop' must be a list, or an expression giving one such as '${users}'")
    return None


def become_plugin(name: str) -> str | None:
    """The full name of the become plugin a `become_method` names (su: ansible.builtin.su), None if none."""
    from .modules._ansible import plugin_fqcn  # the modules package reads options: imported when first asked

    return plugin_fqcn("become", name)


def lookup_exists(name: str) -> bool:
    """Whether Ansible (with the installed collections) has a lookup plugin of this name, as `with_<name>`."""
    from .modules._ansible import plugin_fqcn

    return plugin_fqcn("lookup", name) is not None
