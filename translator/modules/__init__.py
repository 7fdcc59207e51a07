"""Which module a runbook task key names: a core module (one file each in this package), an easy
module, or an Ansible module; and what rb2ansible knows about it (ModuleInfo)."""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from functools import cache
from pathlib import Path

from .. import easy_modules
from ..model import ModuleInfo
from . import _ansible
from ._core import CoreModule

# Words of the runbook language that hold tasks rather than do work.
FLOW_KEYS = ("serial", "parallel", "include")

EASY_COLLECTION = "rb2ansible.easy"


@cache
def core_names() -> tuple[str, ...]:
    """The core modules: every public file of this package is one, named after the file."""
    return tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")))


@cache
def core(name: str) -> CoreModule | None:
    """The core module a runbook key names, found by its file name as easy modules are."""
    if name not in core_names():
        return None
    return importlib.import_module(f"{__name__}.{name}").MODULE


# The runbook's own words and the Ansible module each compiles to (None: a flow construct).
CORE_MODULES: dict[str, str | None] = {**{name: core(name).fqcn for name in core_names()},
                                       **dict.fromkeys(FLOW_KEYS)}


def resolve(key: str, runbook_dir: Path | None = None,
            installed: easy_modules.InstalledModules | None = None) -> ModuleInfo | None:
    """The module a task key names, or None when neither rb2ansible nor Ansible knows it.

    Order: the runbook's own words (echo, shell, serial...), then easy modules (the runbook's
    modules/, rb2ansible's, installed packages'), then Ansible's modules and actions.
    Raises EasyModuleError for an easy module file that is there but broken. `installed`: the installed
    packages' modules as read for the names resolved before (read here when not given).
    """
    if key in FLOW_KEYS:
        return ModuleInfo(key, None, "flow", False)
    module = core(key)
    if module is not None:
        return ModuleInfo(key, module.fqcn, "core", module.background, module.foreground_reason, core=module)
    easy = easy_modules.find(key, runbook_dir, installed) if runbook_dir is not None else None
    if easy is not None:
        # Plain JSON-protocol modules: Ansible runs them as async jobs like any other module.
        return ModuleInfo(key, f"{EASY_COLLECTION}.{easy.ansible_name}", "easy", True, easy=easy)
    fqcn = _ansible.fqcn(key)
    if fqcn is None or _ansible.is_structural(fqcn):
        return None
    once = _ansible.runs_once_for_all(fqcn)
    if _ansible.runs_async(fqcn):
        return ModuleInfo(key, fqcn, "ansible", True, once_for_all=once)
    reason = f"{fqcn} runs through an action plugin that Ansible cannot run async"
    return ModuleInfo(key, fqcn, "ansible", False, reason, once_for_all=once)


def suggestions(key: str, runbook_dir: Path | None = None) -> list[str]:
    """Close names for a key nobody knows: the core modules, easy modules, then Ansible's builtins."""
    easy = [m.name for m in easy_modules.available(runbook_dir)] if runbook_dir is not None else []
    names = list(dict.fromkeys([*CORE_MODULES, *easy, *sorted(_ansible.builtin_short_names())]))
    return difflib.get_close_matches(key, names, n=3, cutoff=0.6)


def argument_spec(fqcn: str) -> _ansible.ArgumentSpec | None:
    """The arguments an Ansible module documents, read once per module."""
    return _ansible.argument_spec(fqcn)
