"""Copies `-i` inventory sources into a private data directory's inventory/, with their group_vars/host_vars.

Ansible reads group_vars/ and host_vars/ beside each inventory source it is given (beside a file, or
inside a directory). The private data directory gives Ansible one source, DIR/inventory, so:

- one source is copied as it is: a file with the group_vars/ and host_vars/ beside it, or a directory's content;
- several sources each keep their own part (NN_name), and their variables are merged into
  inventory/group_vars/<group>/NN_... (and host_vars), where Ansible reads a directory's files in name order,
  so a later source still overrides an earlier one, as with several `-i`.

A YAML file in AutomateJS's inventory form is written in Ansible's form instead (translator/inventory.py),
and a host list (`-i 'web1,web2:2222,'`) as the YAML inventory Ansible's host_list plugin would make of it.
A file whose extension Ansible skips inside an inventory directory is renamed so that it is read (`_file_name`).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from . import inventory as automatejs_inventory
from . import yamlout
from .errors import RunbookInvalid, UsageError
from .loader import load_data, read_text

VARS_DIRS = ("group_vars", "host_vars")
HOST_LIST_FILE = "host_list.yml"
# Extensions ansible-core skips in an inventory directory (INVENTORY_IGNORE_EXTS; `.ini` too before 2.19), though it
# reads such a file given on its own with -i.
SKIPPED_IN_DIRECTORIES = (".pyc", ".pyo", ".swp", ".bak", ".rpm", ".md", ".txt", ".rst", ".orig", ".ini", ".cfg",
                          ".retry")


class HostList(str):
    """An -i value that names hosts rather than a file: `host1,host2,`, as ansible-playbook's -i takes it."""


def copy_inventories(sources: tuple[Path | HostList, ...], folder: Path) -> dict[Path, Path]:
    """Fill `folder` (which exists, empty); returns every file written -> the user's file it copies."""
    origins: dict[Path, Path] = {}
    if len(sources) == 1:
        source = sources[0]
        if isinstance(source, HostList):
            _write_host_list(source, folder / HOST_LIST_FILE)
        elif source.is_dir():
            _copy_tree(source, folder, origins)
        else:
            _copy_source(source, folder / _file_name(source), origins)
            for name in VARS_DIRS:
                if (source.parent / name).is_dir():
                    _copy_tree(source.parent / name, folder / name, origins)
        return origins
    for number, source in enumerate(sources, start=1):
        if isinstance(source, HostList):
            _write_host_list(source, folder / f"{number:02d}_{HOST_LIST_FILE}")
            continue
        part = folder / f"{number:02d}_{source.name if source.is_dir() else _file_name(source)}"
        if source.is_dir():
            _copy_tree(source, part, origins, skip=VARS_DIRS)
        else:
            _copy_source(source, part, origins)
        for name in VARS_DIRS:
            _merge_vars(_base(source) / name, folder / name, f"{number:02d}", origins)
    return origins


def _write_host_list(hosts: HostList, target: Path) -> None:
    """The hosts as Ansible's host_list inventory plugin reads them (its own address parser, `name:port`),
    written in YAML: the private data directory's inventory is a directory of files."""
    from ansible.errors import AnsibleError
    from ansible.parsing.utils.addresses import parse_address

    found: dict[str, dict[str, int] | None] = {}
    for entry in (entry.strip() for entry in hosts.split(",")):
        if not entry:
            continue
        try:
            name, port = parse_address(entry, allow_ranges=False)
        except AnsibleError:
            name, port = entry, None
        found.setdefault(name, {"ansible_port": port} if port else None)
    target.write_text(yamlout.document({"all": {"hosts": found}}))


def _file_name(source: Path) -> str:
    """The copy's name: hosts.ini becomes hosts_ini, which ansible-core 2.18 reads in a directory too."""
    if source.suffix in SKIPPED_IN_DIRECTORIES:
        return f"{source.stem}_{source.suffix[1:]}"
    return source.name


def _base(source: Path) -> Path:
    return source if source.is_dir() else source.parent


def _merge_vars(vars_dir: Path, target: Path, prefix: str, origins: dict[Path, Path]) -> None:
    """Each group's (host's) files, in the order Ansible reads them, into target/<name>/<prefix>_NNN_file."""
    if not vars_dir.is_dir():
        return
    from ansible.parsing.dataloader import DataLoader

    loader = DataLoader()
    names = {_entity(entry) for entry in vars_dir.iterdir() if not entry.name.startswith(".")}
    for name in sorted(names):
        for index, found in enumerate(loader.find_vars_files(str(vars_dir), name)):
            path = Path(found)
            _copy_file(path, target / name / f"{prefix}_{index:03d}_{path.name}", origins)


def _entity(entry: Path) -> str:
    """The group or host a vars entry belongs to: `web.yml`, `web.yaml`, `web.json`, `web` or `web/`."""
    return entry.stem if entry.is_file() and entry.suffix in (".yml", ".yaml", ".json") else entry.name


def _copy_tree(source: Path, target: Path, origins: dict[Path, Path], skip: tuple[str, ...] = (),
               above: tuple[Path, ...] = ()) -> None:
    """Hidden entries are left out: Ansible does not read them, and they are where credentials hide.
    A link back to a directory being copied is left out too, or the copy would never end."""
    real = source.resolve()
    if real in above:
        return
    for entry in sorted(source.iterdir()):
        if entry.name.startswith(".") or entry.name in skip:
            continue
        if entry.is_dir():
            _copy_tree(entry, target / entry.name, origins, above=(*above, real))
        elif entry.is_file():
            _copy_file(entry, target / entry.name, origins)


def _copy_source(source: Path, target: Path, origins: dict[Path, Path]) -> None:
    """An inventory file given with -i, as it is; one in AutomateJS's form (`automatejs -i` took those) is
    converted to Ansible's YAML form, as a project's own inventory.yml is."""
    if not automatejs_inventory.is_automatejs_form(data := _yaml_data(source)):
        _copy_file(source, target, origins)
        return
    try:
        converted = automatejs_inventory.convert(data)
    except automatejs_inventory.InventoryProblem as problem:
        raise UsageError(f"-i {source}: {problem}") from None
    target.write_text(yamlout.document(converted))
    origins[target] = source.resolve()


def key_directory(sources: tuple[Path | HostList, ...], runbook_directory: Path) -> Path:
    """Where the key files an AutomateJS inventory names relatively are: beside the first `-i` source in that
    form, else beside the runbook's own inventory.yml. (A host list names no key file.)"""
    for source in sources:
        in_automatejs_form = isinstance(source, Path) and source.is_file() and \
            automatejs_inventory.is_automatejs_form(_yaml_data(source))
        if in_automatejs_form:
            return source.resolve().parent
    return runbook_directory.resolve()


def _yaml_data(source: Path) -> Any:
    if source.suffix not in (".yml", ".yaml"):
        return None
    try:
        return load_data(read_text(source), str(source))
    except RunbookInvalid:
        return None  # Ansible's to read (inline !vault values, say) and to judge


def _copy_file(source: Path, target: Path, origins: dict[Path, Path]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)  # keeps an inventory script executable
    origins[target] = source.resolve()
