"""`role`: run an existing Ansible role, `role: NAME_OR_PATH` or `role: {name, vars}` (ansible.builtin.include_role).

include_role rather than import_role: its own task is the run's anchor for the role (its events, then the
role's tasks on that host, are the `role` task's result), its `when` is tested once rather than copied onto
every task of the role, and `loop` can run a role once per item.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..calls import jinja_values
from ..nodes import NodeReader
from ..roles import FoundRole, RoleMissing, find_role
from ._core import AnsibleCall, Argument, CoreModule


@dataclass(frozen=True)
class RoleArguments:
    role: FoundRole
    vars: dict[str, Any] = field(default_factory=dict)  # the role's variables for this call


class Role(CoreModule):
    name = "role"
    fqcn = "ansible.builtin.include_role"
    arguments = (Argument("name", "text", required=True), Argument("vars", "variables"))
    free_form = "name"
    # Ansible's strategy includes the role's tasks: there is no module to run as a job.
    background = False
    foreground_reason = "a role's tasks are included by Ansible's strategy"

    def read(self, reader: NodeReader, node: yaml.Node) -> RoleArguments | None:
        values, complete = self.read_values(reader, node)
        if not complete:
            return None
        runbook_dir: Path = reader.source.parent
        requirements = runbook_dir / "requirements.yml"
        try:
            found = find_role(values["name"], runbook_dir, requirements if requirements.is_file() else None)
        except RoleMissing as missing:
            reader.error(node, str(missing))
            return None
        return RoleArguments(found, values.get("vars") or {})

    def to_ansible(self, args: RoleArguments, files_prefix: str) -> AnsibleCall:
        keywords = {"vars": jinja_values(args.vars)} if args.vars else {}
        return AnsibleCall(self.fqcn, {"name": args.role.name}, keywords)


MODULE = Role()
