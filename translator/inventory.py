"""Converts an AutomateJS inventory.yml (groups of addresses or host objects) to Ansible's YAML form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

HOST_KEYS = {"host": "ansible_host", "port": "ansible_port", "username": "ansible_user",
             "keyfile": "ansible_ssh_private_key_file"}


class InventoryProblem(ValueError):
    pass


def convert(data: Any, directory: Path) -> dict[str, Any]:
    """`{group: [address | {host, port, username, keyfile, name?}]}` → `{all: {children: ...}}`."""
    if not isinstance(data, dict) or not data:
        raise InventoryProblem("an AutomateJS inventory maps group names to lists of hosts")
    groups: dict[str, Any] = {}
    for group, members in data.items():
        if not isinstance(members, list):
            raise InventoryProblem(f"group '{group}' must be a list of addresses or host objects")
        hosts: dict[str, Any] = {}
        for member in members:
            name, variables = _host(member, directory, group)
            hosts[_unique(name, hosts)] = variables or None
        groups[str(group)] = {"hosts": hosts}
    return {"all": {"children": groups}}


def _host(member: Any, directory: Path, group: str) -> tuple[str, dict[str, Any]]:
    if isinstance(member, str):
        return member, {}
    if not isinstance(member, dict) or "host" not in member:
        raise InventoryProblem(f"a host of group '{group}' must be an address or an object with 'host'")
    unknown = set(member) - set(HOST_KEYS) - {"name"}
    if unknown:
        raise InventoryProblem(f"unknown host key(s) in group '{group}': {', '.join(sorted(unknown))} "
                               f"(known: name, {', '.join(HOST_KEYS)})")
    variables = {HOST_KEYS[key]: value for key, value in member.items() if key in HOST_KEYS}
    if "ansible_ssh_private_key_file" in variables:
        variables["ansible_ssh_private_key_file"] = str((directory / str(member["keyfile"])).resolve())
    name = str(member.get("name") or member["host"])
    return name, variables


def _unique(name: str, taken: dict[str, Any]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}_{number}", number + 1
    return candidate
