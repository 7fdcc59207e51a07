"""`file`: copy `source` (from the runbook's files/) to `destination` (ansible.builtin.copy).

With automatejs-core's `mkdir: true` the destination's missing directories are created first: the
helper collection's `copy` action, which is ansible.builtin.copy plus that step.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from ..calls import jinja_values
from ..loader import exists, is_file
from ..nodes import NodeReader
from ._core import AnsibleCall, Argument, CoreModule

COPY_ARGUMENTS = (
    Argument("source", "text", required=True),
    Argument("destination", "text", required=True),
    Argument("mode", "mode"),
    Argument("owner", "text"),
    Argument("group", "text"),
    Argument("backup", "boolean"),
    Argument("force", "boolean"),
    Argument("mkdir", "boolean"),
)
# ansible.builtin.copy and .template, and the creation of missing directories before them.
WITH_PARENTS = {"ansible.builtin.copy": "rb2ansible.runbook.copy",
                "ansible.builtin.template": "rb2ansible.runbook.template"}


@dataclass(frozen=True)
class CopyArguments:
    source: str  # relative to the runbook's files/ (templates/ for a template)
    destination: str
    mode: str | None = None  # an octal string or a symbolic mode; None keeps the source's
    owner: str | None = None
    group: str | None = None
    backup: bool | None = None
    force: bool | None = None
    mkdir: bool | None = None  # create the destination's missing directories first, as automatejs-core did
    # Without `mode`, the source file's own, read when the runbook is: the export's copy of the file is the
    # user's alone (0600), so Ansible's `mode: preserve` would give every destination 0600.
    source_mode: str | None = None


class File(CoreModule):
    name = "file"
    fqcn = "ansible.builtin.copy"
    arguments = COPY_ARGUMENTS
    folder = "files"  # where `source` is read from, beside the runbook
    background = False
    foreground_reason = "ansible.builtin.copy runs through an action plugin that Ansible cannot run async"

    def typed(self, values: dict[str, Any]) -> CopyArguments:
        return CopyArguments(**values)

    def read(self, reader: NodeReader, node: yaml.Node) -> CopyArguments | None:
        args = super().read(reader, node)
        if args is None or args.mode is not None:
            return args
        path = self.source_path(reader, args.source)
        if path is None or not is_file(path):  # a directory: its files get the modes of their export copies
            return args
        return replace(args, source_mode=f"{stat.S_IMODE(path.stat().st_mode):04o}")

    def source_path(self, reader: NodeReader, source: Any) -> Path | None:
        """Where the source is read from beside the runbook; None when its name is computed at run time."""
        if not isinstance(source, str) or "${" in source or "{{" in source:
            return None
        return reader.source.parent / self.folder / source

    def check(self, values: dict[str, Any], reader: NodeReader, node: yaml.Node) -> bool:
        """Sources are read beside the runbook: catch a typo now, unless the name is computed at run time."""
        source = values.get("source")
        path = self.source_path(reader, source)
        if path is None or exists(path):  # a file, or a directory to copy
            return True
        reader.error(argument_node(node, "source"),
                     f"'{self.name}' source not found: {self.folder}/{source} (beside {reader.source.name})")
        return False

    def to_ansible(self, args: CopyArguments, files_prefix: str) -> AnsibleCall:
        return AnsibleCall(writer(self.fqcn, args), jinja_values(self.copy_arguments(args, files_prefix)))

    def copy_arguments(self, args: CopyArguments, files_prefix: str) -> dict[str, Any]:
        copy: dict[str, Any] = {
            "src": f"{files_prefix}{self.folder}/{args.source}" if files_prefix else args.source,
            "dest": args.destination,
            "mode": args.mode or args.source_mode or "preserve",
        }
        return {**copy, **file_options(args)}


def writer(fqcn: str, args: CopyArguments) -> str:
    """The action that writes the file: Ansible's own, or the helper collection's that first makes directories."""
    return WITH_PARENTS[fqcn] if args.mkdir else fqcn


def file_options(args: CopyArguments) -> dict[str, Any]:
    """The arguments every way of writing a file shares, as given."""
    options = {name: getattr(args, name) for name in ("owner", "group", "backup", "force")
               if getattr(args, name) is not None}
    return {**options, "mkdir": True} if args.mkdir else options


def argument_node(mapping: yaml.Node, key: str) -> yaml.Node:
    """The value node of one argument, to report at; the whole mapping when it is not there."""
    for key_node, value_node in getattr(mapping, "value", ()):
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return value_node
    return mapping


MODULE = File()
