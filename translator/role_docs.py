"""Reads a runbook's `galaxy:` and `vars_doc:` keys: how the role `export --role` writes describes itself.

    galaxy:                          # meta/main.yml's galaxy_info; `export --role` options override it
      author: Jane Doe
      license: Apache-2.0            # an SPDX identifier
      namespace: acme
      min_ansible_version: '2.17'
      platforms: {Debian: [bookworm], Ubuntu: [jammy]}
    vars_doc:                        # the role's argument specs and README
      db_password: {description: Password of the service's database user, required: true}
      app_root: Where the code is installed  # a string is the description
"""

from __future__ import annotations

from typing import Any

import yaml

from .model import GalaxyMeta, VarDoc
from .nodes import NodeReader, variable_name_problem

GALAXY_KEYS = {"author", "license", "namespace", "min_ansible_version", "platforms"}
VAR_DOC_KEYS = {"description", "required", "type"}
# The types Ansible's argument spec validation knows (ansible.module_utils.common.parameters).
SPEC_TYPES = ("str", "int", "float", "bool", "list", "dict", "path", "raw", "jsonarg", "json", "bytes", "bits")


def read_galaxy(reader: NodeReader, node: yaml.Node | None) -> GalaxyMeta:
    if node is None:
        return GalaxyMeta()
    if not isinstance(node, yaml.MappingNode):
        reader.plain(node)
        reader.error(node, "'galaxy' must be a mapping with any of: " + ", ".join(sorted(GALAXY_KEYS)))
        return GalaxyMeta()
    fields = reader.mapping(node, GALAXY_KEYS, "galaxy")
    texts = {key: reader.string(fields.get(key), f"galaxy.{key}") for key in GALAXY_KEYS - {"platforms"}}
    return GalaxyMeta(**texts, platforms=_platforms(reader, fields.get("platforms")))


def _platforms(reader: NodeReader, node: yaml.Node | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`{Debian: [bookworm, trixie], EL: ['9']}`, or a list of names (every version)."""
    if node is None:
        return ()
    value = reader.plain(node)
    if isinstance(value, list) and value and all(isinstance(name, str) and name for name in value):
        return tuple((name, ("all",)) for name in value)
    if isinstance(value, dict) and value and all(_versions(versions) is not None for versions in value.values()):
        return tuple((name, _versions(versions) or ("all",)) for name, versions in value.items())
    reader.error(node, "'galaxy.platforms' maps platform names to their versions, like "
                       "{Debian: [bookworm], Ubuntu: [jammy]}, or lists names, like [Debian, Ubuntu]")
    return ()


def _versions(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    if all(isinstance(item, (str, int, float)) and not isinstance(item, bool) for item in items):
        return tuple(str(item) for item in items)
    return None


def read_vars_doc(reader: NodeReader, node: yaml.Node | None, defaults: dict[str, Any]) -> tuple[VarDoc, ...]:
    """Each entry, checked against the runbook's own defaults: a required variable has none."""
    if node is None:
        return ()
    if not isinstance(node, yaml.MappingNode):
        reader.plain(node)
        reader.error(node, "'vars_doc' maps variable names to a description, or to "
                           "{description, required, type}")
        return ()
    docs = []
    for name, (key_node, value_node) in reader.key_nodes(node).items():
        problem = variable_name_problem(name)
        if problem:
            reader.error(key_node, problem)
        doc = _var_doc(reader, name, value_node)
        if doc is None:
            continue
        if doc.required and name in defaults:
            reader.error(key_node, f"'{name}' is marked required but the runbook gives it a default "
                                   "(in vars or var.yml); drop one of them")
        docs.append(doc)
    return tuple(docs)


def _var_doc(reader: NodeReader, name: str, node: yaml.Node) -> VarDoc | None:
    if isinstance(node, yaml.ScalarNode):
        description = reader.string(node, f"vars_doc.{name}")
        return VarDoc(name, description) if description else None
    if not isinstance(node, yaml.MappingNode):
        reader.plain(node)
        reader.error(node, f"'vars_doc.{name}' must be a description or {{description, required, type}}")
        return None
    fields = reader.mapping(node, VAR_DOC_KEYS, f"vars_doc.{name}")
    description = reader.string(fields.get("description"), f"vars_doc.{name}.description", required_in=node)
    required = reader.boolean(fields.get("required"), f"vars_doc.{name}.required") or False
    kind = None
    if "type" in fields:
        kind = reader.choice(fields["type"], SPEC_TYPES, "str", f"vars_doc.{name}.type")
    return VarDoc(name, description, required, kind) if description else None
