"""Ansible inventories (as data, INI or YAML) for lab hosts reached as root with the session key."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import yaml


class LabHost(Protocol):
    name: str
    address: str


# Lab hosts get new host keys every session. Ansible checks host keys unless told otherwise (and rb2ansible
# follows it), so every lab inventory turns checking off explicitly, in Ansible's own variable; ssh is also
# told to remember nothing, so no test writes a key into this machine's known_hosts.
NO_HOST_KEY_CHECKING = {
    "ansible_host_key_checking": "false",
    "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
}


def host_vars(private_key: Path) -> dict[str, str]:
    """Connection settings shared by every lab host."""
    return {
        "ansible_user": "root",
        "ansible_ssh_private_key_file": str(private_key),
        "ansible_python_interpreter": "/usr/bin/python3",
        **NO_HOST_KEY_CHECKING,
    }


def inventory_data(hosts: Sequence[LabHost], private_key: Path, group: str = "lab") -> dict:
    """The inventory as YAML-shaped data; also accepted as is by ansible_runner.run(inventory=...)."""
    return {
        "all": {
            "vars": host_vars(private_key),
            "children": {group: {"hosts": {h.name: {"ansible_host": h.address} for h in hosts}}},
        }
    }


def render_ini(hosts: Sequence[LabHost], private_key: Path, group: str = "lab") -> str:
    lines = [f"[{group}]"]
    lines += [f"{h.name} ansible_host={h.address}" for h in hosts]
    lines += ["", "[all:vars]"]
    # INI values with spaces need quoting; shlex.quote gives the single quotes Ansible understands.
    lines += [f"{key}={shlex.quote(value)}" for key, value in host_vars(private_key).items()]
    return "\n".join(lines) + "\n"


def write_inventory(path: Path, hosts: Sequence[LabHost], private_key: Path, group: str = "lab") -> Path:
    """Write an INI inventory, or a YAML one when path ends in .yml or .yaml."""
    if path.suffix in (".yml", ".yaml"):
        text = yaml.safe_dump(inventory_data(hosts, private_key, group), sort_keys=False)
    else:
        text = render_ini(hosts, private_key, group)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
