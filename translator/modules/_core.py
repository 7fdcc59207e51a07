"""What a core module is: its argument schema, its Ansible mapping, whether it can run in the
background, and how its result reads. Each public file of this package defines one, as MODULE."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from ..nodes import NodeReader, hint
from ..options import OPTION_KEYS, read_timeout


@dataclass(frozen=True)
class Argument:
    name: str
    kind: str  # how it is read: "text", "mode", "boolean", "mapping" (names to values),
    # "variables" (variable names to values) or "seconds"
    required: bool = False
    aliases: tuple[str, ...] = ()  # other names it is given by, such as automatejs-core's (`command` for `cmd`)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class AnsibleCall:
    """What one call compiles to: the module, its arguments, and the task keywords it needs."""

    fqcn: str
    args: Any
    keywords: dict[str, Any] = field(default_factory=dict)


class CoreModule:
    name: str = ""  # the runbook key, the same as the file's name
    fqcn: str = ""  # the Ansible module it compiles to
    arguments: tuple[Argument, ...] = ()
    free_form: str | None = None  # the argument a plain string stands for (`shell: ls` is its cmd)
    background: bool = True  # can run as an Ansible async job inside a parallel block
    foreground_reason: str = ""  # why not, in words for `plan`
    reports_change: bool = True  # False: Ansible's "changed" reads as ok in the results

    def read(self, reader: NodeReader, node: yaml.Node) -> Any | None:
        """The typed arguments of a task's value, or None once every problem with them is reported."""
        values, complete = self.read_values(reader, node)
        checked = self.check(values, reader, node)
        return self.typed(values) if complete and checked else None

    def check(self, values: dict[str, Any], reader: NodeReader, node: yaml.Node) -> bool:
        """Checks beyond each argument's type, on the arguments that could be read; False after reporting."""
        return True

    def typed(self, values: dict[str, Any]) -> Any:
        raise NotImplementedError

    def task_options(self, args: Any) -> dict[str, Any]:
        """Task keywords its arguments carry (TaskOptions fields), as automatejs-core's `shell: {timeout}`."""
        return {}

    def to_ansible(self, args: Any, files_prefix: str) -> AnsibleCall:
        """`files_prefix` leads a leaf of an included runbook to the files of its own role."""
        raise NotImplementedError

    def read_values(self, reader: NodeReader, node: yaml.Node) -> tuple[dict[str, Any], bool]:
        """The arguments that could be read, and whether they all could."""
        if self.free_form and isinstance(node, yaml.ScalarNode) and node.tag != "!vault":
            value = reader.text(node, self.name)
            return ({}, False) if value is None else ({self.free_form: value}, True)
        spec = {name: argument for argument in self.arguments for name in argument.names}
        if not isinstance(node, yaml.MappingNode):
            reader.plain(node)
            required = [a.name for a in self.arguments if a.required]
            reader.error(node, f"'{self.name}' takes a mapping with {', '.join(required)}"
                               + (" (or a plain string)" if self.free_form else ""))
            return {}, False
        values: dict[str, Any] = {}
        complete = True
        given = reader.key_nodes(node)
        named: dict[str, str] = {}  # argument -> the name it was given by
        for key, (key_node, value_node) in given.items():
            argument = spec.get(key)
            if argument is None:
                reader.plain(value_node)
                reader.error(key_node, self.unknown_argument(key, spec))
                complete = False
                continue
            if argument.name in named:
                reader.error(key_node, f"'{key}' and '{named[argument.name]}' are the same argument "
                                       f"of '{self.name}'; give one")
                complete = False
                continue
            named[argument.name] = key
            value = _read(reader, argument, value_node)
            if value is None:
                complete = False
            else:
                values[argument.name] = value
        for argument in self.arguments:
            if argument.required and not set(argument.names) & given.keys():
                reader.error(node, f"'{self.name}' needs '{argument.name}'")
                complete = False
        return values, complete

    def unknown_argument(self, key: str, spec: dict[str, Argument]) -> str:
        if key in OPTION_KEYS:
            return (f"'{key}' is a task keyword, not an argument of '{self.name}': write it beside "
                    f"'{self.name}', at the task's level")
        listed = ", ".join(a.name + (f" (or {', '.join(a.aliases)})" if a.aliases else "") for a in self.arguments)
        return f"'{self.name}' has no argument '{key}'{hint(key, spec)}; its arguments: {listed}"


def _read(reader: NodeReader, argument: Argument, node: yaml.Node) -> Any | None:
    what = argument.name
    if argument.kind == "mode":
        return reader.mode(node, what)
    if argument.kind == "boolean":
        return reader.boolean(node, what)
    if argument.kind == "seconds":
        return read_timeout(reader, node)
    if argument.kind == "variables":
        return reader.variables(node, what)
    if argument.kind == "mapping":
        if not isinstance(node, yaml.MappingNode):
            reader.plain(node)
            reader.error(node, f"'{what}' must be a mapping of names to values, not {_shape(node)}")
            return None
        return {name: reader.plain(value) for name, (_, value) in reader.key_nodes(node).items()}
    value = reader.text(node, what)
    if value is not None and argument.required and not str(value).strip():
        reader.error(node, f"'{what}' must not be empty")
        return None
    return value


def _shape(node: yaml.Node) -> str:
    return "a list" if isinstance(node, yaml.SequenceNode) else f"'{getattr(node, 'value', '')}'"
