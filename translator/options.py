"""Reads the keywords a task carries besides its module (when, sudo, timeout, vars...) into TaskOptions."""

from __future__ import annotations

from typing import Any

import yaml

from .model import TaskOptions
from .nodes import NodeReader, variable_name_problem

OPTION_KEYS = {"when", "sudo", "sudo_user", "ignore_errors", "timeout", "retries", "delay", "until",
               "tags", "vars", "register", "no_log"}
# Options that only make sense for one module run, not for a whole block.
LEAF_ONLY_OPTIONS = {"timeout", "retries", "delay", "until", "register"}


def read_options(reader: NodeReader, keys: dict[str, tuple[yaml.Node, yaml.Node]], leaf: bool) -> TaskOptions:
    """Every option of a task, each problem reported at its key or value."""
    values: dict[str, Any] = {}
    for key in sorted(OPTION_KEYS & keys.keys(), key=lambda k: keys[k][0].start_mark.index):
        key_node, node = keys[key]
        if not leaf and key in LEAF_ONLY_OPTIONS:
            reader.error(key_node, f"'{key}' applies to one module run, not to a serial or parallel block")
            continue
        values[key] = _option(reader, key, node)
    when = values.get("when")
    values["when"] = tuple(when if isinstance(when, list) else [when]) if when is not None else ()
    tags = values.get("tags")
    values["tags"] = tuple([tags] if isinstance(tags, str) else tags or ())
    values["vars"] = values.get("vars") or {}
    return TaskOptions(**values)


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
