"""Which Ansible collections a compiled runbook's tasks use, and the version of each installed here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from .emit import COLLECTION, Compiled
from .modules import EASY_COLLECTION

# ansible-core's own: they come with Ansible itself, nothing to install.
CORE_NAMESPACES = ("ansible.builtin", "ansible.legacy")


@dataclass(frozen=True, order=True)
class CollectionUse:
    name: str  # namespace.collection
    version: str | None  # installed here; None when Ansible found the module but no version is recorded
    helper: bool = False  # one of rb2ansible's own, vendored into the export rather than fetched


def collections_used(compiled: Compiled) -> list[CollectionUse]:
    """rb2ansible's helper collections (vendored), then every other collection a task's module comes from."""
    from . import __version__

    helpers = [CollectionUse(COLLECTION, _helper_version(), helper=True)]
    if any(leaf.target.kind == "easy" for leaf in compiled.leaves):
        helpers.append(CollectionUse(EASY_COLLECTION, __version__, helper=True))
    names = {".".join(leaf.target.fqcn.split(".")[:2]) for leaf in compiled.leaves
             if leaf.target.kind == "ansible" and leaf.target.fqcn and leaf.target.fqcn.count(".") >= 2}
    others = sorted(CollectionUse(name, installed_version(name)) for name in names - {*CORE_NAMESPACES, COLLECTION})
    return helpers + others


def _helper_version() -> str:
    from .role_files import collection_source

    return str(yaml.safe_load((collection_source() / "galaxy.yml").read_text())["version"])


def installed_version(name: str) -> str | None:
    """The version of the copy Ansible loads: MANIFEST.json of an installed collection, galaxy.yml of a source tree."""
    folder = _collection_folder(name)
    if folder is None:
        return None
    manifest, galaxy = folder / "MANIFEST.json", folder / "galaxy.yml"
    try:
        if manifest.is_file():
            return str(json.loads(manifest.read_text())["collection_info"]["version"])
        if galaxy.is_file():
            return str(yaml.safe_load(galaxy.read_text())["version"])
    except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError):
        return None  # a collection without readable metadata still runs; its version is unknown
    return None


def _collection_folder(name: str) -> Path | None:
    from ansible.utils.collection_loader._collection_finder import _get_collection_path

    from .modules._ansible import _plugin_loaders

    _plugin_loaders()  # installs Ansible's collection finder with the configured collections paths
    try:
        return Path(_get_collection_path(name))
    except (ValueError, ImportError):
        return None
