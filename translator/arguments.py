"""Reads a task's module arguments into typed values: a core module's by its own schema, an Ansible
module's against the arguments its documentation declares."""

from __future__ import annotations

from typing import Any

import yaml

from . import modules
from .model import ModuleArguments, ModuleInfo
from .nodes import NodeReader, hint


def read_arguments(reader: NodeReader, info: ModuleInfo, node: yaml.Node) -> Any | None:
    """The typed arguments of a call, or None once every problem with them is reported."""
    if info.core is not None:
        return info.core.read(reader, node)
    value = reader.plain(node)
    if value is not None and not isinstance(value, (dict, str)):
        reader.error(node, f"the arguments of '{info.key}' must be a mapping (or a free-form string)")
        return None
    if info.kind == "ansible" and value is not None and not _known_arguments(reader, info, node):
        return None
    return ModuleArguments(value)


def _known_arguments(reader: NodeReader, info: ModuleInfo, node: yaml.Node) -> bool:
    spec = modules.argument_spec(info.fqcn)
    if spec is None or spec.any_keys:
        return True  # nothing documented to check against, or the keys are the user's own names
    if isinstance(node, yaml.ScalarNode):
        if spec.free_form or "=" in str(node.value):  # `shell: ls`, or Ansible's key=value form
            return True
        reader.error(node, f"'{info.key}' takes a mapping of arguments: {', '.join(spec.documented)}")
        return False
    known = True
    for key_node, _ in node.value if isinstance(node, yaml.MappingNode) else ():
        name = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if isinstance(name, str) and name not in spec.names:
            reader.error(key_node, f"'{info.key}' has no argument '{name}'{hint(name, spec.names)}; "
                                   f"its arguments: {', '.join(spec.documented)}")
            known = False
    return known
