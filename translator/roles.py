"""Finds the existing Ansible roles a runbook's `role:` tasks name, and says how to install a missing one."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from .loader import is_dir, load_node

# What makes a directory a role: Ansible needs at least one of these.
_ROLE_PARTS = ("tasks", "meta", "handlers", "defaults", "vars")


@dataclass(frozen=True)
class FoundRole:
    """A role as the emitted `include_role` names it, and the directory copied into the project (None: a
    collection's role, which Ansible finds among the installed collections)."""

    name: str
    source: Path | None


class RoleMissing(Exception):
    """The message says where rb2ansible looked and the `ansible-galaxy` command that installs the role."""


def find_role(wanted: str, runbook_dir: Path, requirements: Path | None) -> FoundRole:
    """A path (`./roles/web`), a role of the runbook's `roles/`, a collection's role (`ns.collection.role`),
    or a role in Ansible's roles_path (where `ansible-galaxy role install` puts it), in that order."""
    if wanted.startswith(("./", "../", "/")):
        source = (runbook_dir / wanted).resolve()
        if not _is_role(source):
            raise RoleMissing(f"no role at {wanted}: a role is a directory with tasks/ (or meta/, handlers/...)")
        return FoundRole(source.name, source)
    if "/" in wanted or not wanted.strip():
        raise RoleMissing(f"'{wanted}' is neither a role name nor a path starting with ./")
    if _is_role(runbook_dir / "roles" / wanted):
        return FoundRole(wanted, (runbook_dir / "roles" / wanted).resolve())
    if wanted.count(".") >= 2:
        namespace, collection, role = wanted.split(".", 2)
        if any(_is_role(Path(p) / "ansible_collections" / namespace / collection / "roles" / role)
               for p in collections_paths()):
            return FoundRole(wanted, None)
        raise RoleMissing(f"role '{wanted}' not found: the collection {namespace}.{collection} is not installed "
                          f"or has no role '{role}'; install it with: "
                          + _install_hint(f"ansible-galaxy collection install {namespace}.{collection}", requirements))
    for folder in roles_paths():
        if _is_role(Path(folder) / wanted):
            return FoundRole(wanted, (Path(folder) / wanted).resolve())
    raise RoleMissing(f"role '{wanted}' not found in roles/ beside the runbook nor in Ansible's roles_path; "
                      f"install it with: "
                      + _install_hint(f"ansible-galaxy role install {wanted}", requirements))


def _install_hint(command: str, requirements: Path | None) -> str:
    if requirements is None:
        return command
    return f"ansible-galaxy install -r {requirements.name} (the runbook's requirements.yml), or {command}"


def _is_role(folder: Path) -> bool:
    return is_dir(folder) and any(is_dir(folder / part) for part in _ROLE_PARTS)


@cache
def roles_paths() -> tuple[str, ...]:
    """Ansible's roles_path as its configuration (ansible.cfg, ANSIBLE_ROLES_PATH) gives it."""
    from ansible import constants

    return tuple(os.path.expanduser(p) for p in constants.DEFAULT_ROLES_PATH)


@cache
def collections_paths() -> tuple[str, ...]:
    """Where Ansible finds collections: its collections_path, then (as it does by default) Python's path."""
    from ansible import constants

    paths = [os.path.expanduser(p) for p in constants.COLLECTIONS_PATHS]
    if constants.COLLECTIONS_SCAN_SYS_PATH:
        paths += [p for p in sys.path if is_dir(Path(p) / "ansible_collections")]
    return tuple(paths)



def check_requirements(reader, path: Path) -> None:
    """requirements.yml beside the runbook is honoured by checking, at validation, that every role and
    collection it lists is installed: the run then finds them as Ansible would (nothing is installed for you)."""
    node = load_node(path)
    fix = f"run: ansible-galaxy install -r {path.name}"
    for item, name in _listed(reader, node, "roles"):
        if "://" in name or name.endswith((".tar.gz", ".git")):
            continue  # installed under a name only its source knows
        try:
            find_role(name, path.parent, None)
        except RoleMissing:
            reader.error(item, f"{path.name} lists role '{name}', which is not installed; {fix}")
    for item, name in _listed(reader, node, "collections"):
        if name.count(".") == 1 and not any(is_dir(Path(p) / "ansible_collections" / name.replace(".", "/"))
                                            for p in collections_paths()):
            reader.error(item, f"{path.name} lists collection '{name}', which is not installed; {fix}")


def _listed(reader, node: yaml.Node | None, kind: str) -> list[tuple[yaml.Node, str]]:
    """The entries of a requirements file's roles (a bare list is roles) or collections, each with its name."""
    if isinstance(node, yaml.MappingNode):
        node = reader.key_nodes(node).get(kind, (None, None))[1]
    elif kind != "roles":
        node = None
    if not isinstance(node, yaml.SequenceNode):
        return []
    listed = []
    for item in node.value:
        value = reader.plain(item)
        name = (value.get("name") or value.get("src")) if isinstance(value, dict) else value
        if isinstance(name, str) and name:
            listed.append((item, name))
    return listed
