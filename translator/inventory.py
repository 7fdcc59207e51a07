"""Converts an AutomateJS inventory.yml to Ansible's YAML form, in every shape AutomateJS wrote one.

A group maps to one address (`localhost: localhost`, its first version), a list of addresses, or a
list of host objects: `{host, port, username, keyfile}` (what its SSH transport read) or `{name,
user, keyfile}` (what `automatejs init` writes). A host object's address is `host`, else `name`; its
inventory name is `name`, else the address.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Each key of a host object and the Ansible variable it sets.
HOST_KEYS = {"host": "ansible_host", "port": "ansible_port", "username": "ansible_user", "user": "ansible_user",
             "keyfile": "ansible_ssh_private_key_file"}
KNOWN_KEYS = ("name", "host", "port", "username", "user", "keyfile")
# Where relative key files are: the AutomateJS inventory's own directory, which `run` passes at run time.
KEY_DIR_VAR = "rb2ansible_key_dir"
KEY_DIR = f"{{{{ {KEY_DIR_VAR} | default(inventory_dir) }}}}/"


class InventoryProblem(ValueError):
    pass


def is_automatejs_form(data: Any) -> bool:
    """Whether inventory data is AutomateJS's: groups map to an address or a list, where Ansible's YAML form
    maps each group to a mapping (`hosts`, `children`, `vars`) or to nothing, and an inventory plugin's
    configuration names its `plugin`."""
    return (isinstance(data, dict) and "plugin" not in data
            and any(isinstance(members, (str, list)) for members in data.values()))


def convert(data: Any) -> dict[str, Any]:
    """`{group: address | [address | host object]}` → `{all: {children: {group: {hosts: ...}}}}`."""
    if not isinstance(data, dict) or not data:
        raise InventoryProblem("an AutomateJS inventory maps group names to an address or a list of hosts")
    groups: dict[str, Any] = {}
    for group, members in data.items():
        if isinstance(members, (str, int, float)) and not isinstance(members, bool):
            members = [str(members)]  # `group: address`, as the first automatejs init wrote
        if not isinstance(members, list):
            raise InventoryProblem(f"group '{group}' must be an address or a list of addresses or host objects")
        hosts: dict[str, Any] = {}
        for member in members:
            name, variables = _host(member, group)
            hosts[_unique(name, hosts)] = variables or None
        groups[str(group)] = {"hosts": hosts}
    return {"all": {"children": groups}}


def _host(member: Any, group: str) -> tuple[str, dict[str, Any]]:
    if isinstance(member, str):
        return member, {}
    if not isinstance(member, dict) or not (member.get("host") or member.get("name")):
        raise InventoryProblem(f"a host of group '{group}' must be an address or an object with 'host' or 'name'")
    unknown = set(member) - set(KNOWN_KEYS)
    if "password" in unknown:
        raise InventoryProblem(f"a host of group '{group}' has a 'password': rb2ansible does not read passwords "
                               "from inventory.yml; use --ask-pass, or a Vault-encrypted ansible_password in "
                               "host_vars with -i")
    if unknown:
        raise InventoryProblem(f"unknown host key(s) in group '{group}': {', '.join(sorted(unknown))} "
                               f"(known: {', '.join(KNOWN_KEYS)})")
    if "user" in member and "username" in member and member["user"] != member["username"]:
        raise InventoryProblem(f"a host of group '{group}' has both 'user' and 'username', and they differ; keep one")
    address = str(member.get("host") or member["name"])
    variables = {HOST_KEYS[key]: value for key, value in member.items() if key in HOST_KEYS}
    if member.get("keyfile") is not None:
        variables["ansible_ssh_private_key_file"] = _key_path(str(member["keyfile"]))
    return str(member.get("name") or address), variables


def _key_path(keyfile: str) -> str:
    """A key file relative to the inventory keeps the name the user gave, found in the directory `run` names
    (KEY_DIR_VAR, given in memory), else beside the exported inventory: no path of this machine is written
    into an export. `~/...` and absolute names stay as they are, for SSH to read."""
    if keyfile.startswith("~") or Path(keyfile).is_absolute():
        return keyfile
    return KEY_DIR + Path(keyfile).as_posix()


def relative_key_files(inventory: dict[str, Any]) -> list[str]:
    """The key files a converted inventory names relatively, as the user gave them."""
    names = {variables["ansible_ssh_private_key_file"][len(KEY_DIR):]
             for group in inventory["all"]["children"].values() for variables in group["hosts"].values()
             if variables and str(variables.get("ansible_ssh_private_key_file", "")).startswith(KEY_DIR)}
    return sorted(names)


def _unique(name: str, taken: dict[str, Any]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}_{number}", number + 1
    return candidate
