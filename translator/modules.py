"""Which module a runbook task key names, and whether Ansible can run it in the background."""

from __future__ import annotations

import contextlib
import difflib
import inspect
import io
import pkgutil
from functools import cache
from pathlib import Path

from . import easy_modules
from .model import ModuleInfo

# The runbook's own modules and the Ansible module each compiles to (None: a flow construct).
CORE_MODULES: dict[str, str | None] = {
    "echo": "ansible.builtin.debug",
    "shell": "ansible.builtin.shell",
    "file": "ansible.builtin.copy",
    "template": "ansible.builtin.template",
    "serial": None,
    "parallel": None,
    "include": None,
}

# Task keywords of Ansible's that are structure, not work: a runbook says serial/parallel instead.
STRUCTURAL_ACTIONS = {
    "import_playbook", "import_tasks", "import_role", "include_tasks", "include_role",
    "include_vars", "meta", "block", "add_host", "group_by",
}

# Actions whose plugin only switches background support on inside run() (shell delegates to command).
_ASYNC_AT_RUNTIME = {"ansible.builtin.shell"}


EASY_COLLECTION = "rb2ansible.easy"


def resolve(key: str, runbook_dir: Path | None = None) -> ModuleInfo | None:
    """The module a task key names, or None when neither rb2ansible nor Ansible knows it.

    Order: the runbook's own words (echo, shell, serial...), then easy modules (the runbook's
    modules/, rb2ansible's, installed packages'), then Ansible's modules and actions.
    Raises EasyModuleError for an easy module file that is there but broken.
    """
    if key in CORE_MODULES:
        fqcn = CORE_MODULES[key]
        if fqcn is None:
            return ModuleInfo(key, None, "flow", False)
        return _with_async_support(key, fqcn, "core")
    easy = easy_modules.find(key, runbook_dir) if runbook_dir is not None else None
    if easy is not None:
        # Plain JSON-protocol modules: Ansible runs them as async jobs like any other module.
        return ModuleInfo(key, f"{EASY_COLLECTION}.{easy.ansible_name}", "easy", True, easy=easy)
    fqcn = _ansible_fqcn(key)
    if fqcn is None or (fqcn.rsplit(".", 1)[-1] in STRUCTURAL_ACTIONS and fqcn.startswith("ansible.")):
        return None
    return _with_async_support(key, fqcn, "ansible")


def suggestions(key: str, runbook_dir: Path | None = None) -> list[str]:
    """Close names for a key nobody knows: the core modules, easy modules, then Ansible's builtins."""
    easy = [m.name for m in easy_modules.available(runbook_dir)] if runbook_dir is not None else []
    names = list(dict.fromkeys([*CORE_MODULES, *easy, *sorted(_builtin_short_names())]))
    return difflib.get_close_matches(key, names, n=3, cutoff=0.6)


def _with_async_support(key: str, fqcn: str, kind: str) -> ModuleInfo:
    if key == "echo":
        # debug runs on the controller in no time; a background job would only add a round trip.
        return ModuleInfo(key, fqcn, kind, False, "echo runs on the controller")
    action = _action_class(fqcn)
    if action is None or fqcn in _ASYNC_AT_RUNTIME or _action_supports_async(action):
        return ModuleInfo(key, fqcn, kind, True)
    return ModuleInfo(key, fqcn, kind, False, f"{fqcn} runs through an action plugin that Ansible cannot run async")


def _action_supports_async(action_class) -> bool:
    if getattr(action_class, "_supports_async", False):
        return True
    # Some action plugins (command, service, uri...) switch async support on inside run().
    with contextlib.suppress(OSError, TypeError):
        return "_supports_async = True" in inspect.getsource(action_class)
    return False


@cache
def _ansible_fqcn(key: str) -> str | None:
    loaders = _plugin_loaders()
    for loader in (loaders.module_loader, loaders.action_loader):
        with _quiet():
            context = loader.find_plugin_with_context(key)
        if context.resolved:
            return context.resolved_fqcn
    return None


@cache
def _action_class(fqcn: str):
    loaders = _plugin_loaders()
    with _quiet():
        context = loaders.action_loader.find_plugin_with_context(fqcn)
        if not context.resolved:
            return None
        return loaders.action_loader.get(fqcn, class_only=True)


@cache
def _builtin_short_names() -> set[str]:
    import ansible.modules

    return {m.name for m in pkgutil.iter_modules(ansible.modules.__path__)} - STRUCTURAL_ACTIONS


@cache
def _plugin_loaders():
    from ansible.plugins import loader

    with _quiet():
        loader.init_plugin_loader()
    return loader


@contextlib.contextmanager
def _quiet():
    """Ansible's loader prints warnings for names it cannot import; here a miss is an answer."""
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        yield
