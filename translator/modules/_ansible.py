"""What Ansible knows about a module: its FQCN, whether its action runs as an async job, its arguments."""

from __future__ import annotations

import contextlib
import io
import pkgutil
from dataclasses import dataclass
from functools import cache

from .. import ansible_memo

# Task keywords of Ansible's that are structure, not work: a runbook says serial/parallel instead.
STRUCTURAL_ACTIONS = {
    "import_playbook", "import_tasks", "import_role", "include_tasks", "include_role",
    "include_vars", "meta", "block", "add_host", "group_by",
}

# Actions that hand the whole task to another action plugin, which decides about async.
_DELEGATES_TO = {"ansible.builtin.shell": "ansible.builtin.command"}


@dataclass(frozen=True)
class ArgumentSpec:
    """A module's documented arguments: each name with its aliases, and whether a plain string is accepted."""

    names: dict[str, str]  # every accepted name (aliases too) -> the argument it stands for
    free_form: bool  # `command: ls` style: the module takes a plain string
    any_keys: bool  # set_fact style: the keys are the user's own names

    @property
    def documented(self) -> list[str]:
        return sorted(set(self.names.values()))


@cache
def fqcn(key: str) -> str | None:
    """The FQCN of the module or action a key names, or None when Ansible knows no such plugin."""
    # Kept on disk only for ansible-core's own modules: where a redirect leads depends on installed collections.
    if ansible_memo.is_builtin(key) and ansible_memo.remembered(f"own module {key}",
                                                                lambda: _find_fqcn(key) == key or None):
        return key
    if key.isidentifier():  # a short name: ansible-core's own module unless the user's folders shadow it
        return ansible_memo.remembered_here(f"short name {key}", lambda: _short_name(key))
    return _find_fqcn(key)


def _short_name(key: str) -> tuple[str | None, list[str] | None]:
    """What a short name means, with the folders of modules and actions that could change it; kept only
    when it is ansible-core's own module (a redirect into a collection depends on what is installed)."""
    found = _find_fqcn(key)
    if found is None or not ansible_memo.is_builtin(found):
        return found, None
    from ansible import constants

    return found, [*constants.DEFAULT_MODULE_PATH, *constants.DEFAULT_ACTION_PLUGIN_PATH]


def _find_fqcn(key: str) -> str | None:
    loaders = _plugin_loaders()
    for loader in (loaders.module_loader, loaders.action_loader):
        with _quiet():
            context = loader.find_plugin_with_context(key)
        if context.resolved:
            return context.resolved_fqcn
    return None


def is_structural(name: str) -> bool:
    return name.rsplit(".", 1)[-1] in STRUCTURAL_ACTIONS and name.startswith("ansible.")


@cache
def runs_async(name: str) -> bool:
    """Whether Ansible can run the module as a background job: plain modules can; an action plugin
    only when its class says so, as a class attribute or by switching it on in its own run()."""
    if ansible_memo.is_builtin(name):
        return ansible_memo.remembered(f"runs async {name}", lambda: _runs_async(name))
    return _runs_async(name)


def _runs_async(name: str) -> bool:
    action = _action_class(_DELEGATES_TO.get(name, name))
    if action is None:
        return True  # no action plugin: the module runs through `normal`, which supports async
    for klass in action.__mro__:
        if klass.__module__ == "ansible.plugins.action":
            break  # ActionBase's own default says nothing about this plugin
        if klass.__dict__.get("_supports_async"):
            return True
        run = klass.__dict__.get("run")
        # `self._supports_async = True` inside run(): the attribute is among the names its code stores.
        if run is not None and "_supports_async" in getattr(run, "__code__", None).co_names:
            return True
    return False


@cache
def runs_once_for_all(name: str) -> bool:
    """Whether Ansible runs the action once, on the first host, for every host of the play (its class says
    BYPASS_HOST_LOOP, as pause's does)."""
    if ansible_memo.is_builtin(name):
        return ansible_memo.remembered(f"once for all {name}", lambda: _runs_once_for_all(name))
    return _runs_once_for_all(name)


def _runs_once_for_all(name: str) -> bool:
    action = _action_class(name)
    return bool(action is not None and getattr(action, "BYPASS_HOST_LOOP", False))


@cache
def argument_spec(name: str) -> ArgumentSpec | None:
    """The arguments a module documents (Ansible ships them in each module's DOCUMENTATION), or
    None when it has no readable documentation, in which case nothing is checked."""
    if not ansible_memo.is_builtin(name):
        return _argument_spec(name)
    kept = ansible_memo.remembered(f"arguments {name}", lambda: _as_data(_argument_spec(name)))
    return ArgumentSpec(kept["names"], kept["free_form"], kept["any_keys"]) if kept else None


def _as_data(spec: ArgumentSpec | None) -> dict | None:
    return None if spec is None else {"names": spec.names, "free_form": spec.free_form, "any_keys": spec.any_keys}


def _argument_spec(name: str) -> ArgumentSpec | None:
    loaders = _plugin_loaders()
    from ansible.utils.plugin_docs import get_docstring

    with _quiet():
        context = loaders.module_loader.find_plugin_with_context(name)
        if not context.resolved or not context.plugin_resolved_path:
            return None
        try:
            doc = get_docstring(context.plugin_resolved_path, loaders.fragment_loader, ignore_errors=True,
                                collection_name=context.plugin_resolved_collection, plugin_type="module")[0]
        except Exception:  # a third-party module's broken documentation is not the runbook's mistake
            return None
    options = (doc or {}).get("options")
    if not isinstance(options, dict):
        return None
    names: dict[str, str] = {}
    for option, spec in options.items():
        names[option] = option
        for alias in (spec or {}).get("aliases") or ():
            names[alias] = option
    return ArgumentSpec(names, free_form="free_form" in names, any_keys="key_value" in names)


@cache
def builtin_short_names() -> set[str]:
    import ansible.modules

    return {m.name for m in pkgutil.iter_modules(ansible.modules.__path__)} - STRUCTURAL_ACTIONS


@cache
def _action_class(name: str):
    loaders = _plugin_loaders()
    with _quiet():
        context = loaders.action_loader.find_plugin_with_context(name)
        if not context.resolved:
            return None
        return loaders.action_loader.get(name, class_only=True)


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


@cache
def plugin_fqcn(plugin_type: str, name: str) -> str | None:
    """The full name of a lookup or become plugin (su: ansible.builtin.su), None when Ansible has none."""
    loaders = _plugin_loaders()
    with _quiet():
        try:
            context = getattr(loaders, f"{plugin_type}_loader").find_plugin_with_context(name)
        except Exception:  # a malformed name ("a..b") is not a plugin either
            return None
    return context.resolved_fqcn if context.resolved else None
