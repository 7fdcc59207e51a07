"""Resolves the module keys of a runbook's tasks, once per distinct name and runbook folder."""

from __future__ import annotations

import difflib
from pathlib import Path

import yaml

from . import easy_modules, modules
from .model import ModuleInfo
from .nodes import NodeReader

BROKEN = "broken"  # the kind of a module that exists but cannot be used; already reported


class ModuleResolver:
    """Shared by a runbook and the runbooks it includes, so each name costs one lookup (Ansible's
    plugin loader, easy-module files) however many tasks use it, and installed packages' entry points
    are read once for all the names."""

    def __init__(self) -> None:
        self.resolved: dict[tuple[str, Path], ModuleInfo | str | None] = {}
        self.installed = easy_modules.InstalledModules()  # read once for all the names
        self.close: dict[tuple[str, Path], list[str]] = {}

    def resolve(self, key: str, folder: Path, reader: NodeReader, key_node: yaml.Node) -> ModuleInfo | None:
        """The module a task key names, None when nobody knows it. A broken or unbundlable easy module is
        reported at each key that names it and comes back as kind "broken"."""
        cache_key = (key, folder)
        if cache_key not in self.resolved:
            self.resolved[cache_key] = self._resolve(key, folder)
        found = self.resolved[cache_key]
        if isinstance(found, str):
            reader.error(key_node, found)
            return ModuleInfo(key, None, BROKEN, False)
        return found

    def _resolve(self, key: str, folder: Path) -> ModuleInfo | str | None:
        try:
            info = modules.resolve(key, folder, self.installed)
            if info is not None and info.kind == "easy":
                easy_modules.build_ansible_module(info.easy)  # checks its imports; cached for emission
            return info
        except easy_modules.EasyModuleError as problem:
            return str(problem)

    def suggestions(self, key: str, folder: Path) -> list[str]:
        cache_key = (key, folder)
        if cache_key not in self.close:
            try:
                self.close[cache_key] = modules.suggestions(key, folder)
            except easy_modules.EasyModuleError:
                self.close[cache_key] = modules.suggestions(key)
        return self.close[cache_key]

    def unknown_key_message(self, key: str, folder: Path, has_module: bool, options: set[str]) -> str:
        """A key that is neither an option nor a module: a misspelt option, or a misspelt module."""
        if key in ("include_role", "import_role"):
            return f"'{key}' is written 'role: {{name: ROLE, vars: {{...}}}}' in a runbook"
        option = difflib.get_close_matches(key, sorted(options), n=1)
        if has_module or option:
            return f"unknown task key '{key}'" + (f" (did you mean '{option[0]}'?)" if option else "")
        close = self.suggestions(key, folder)
        return f"unknown module '{key}'" + (f" (did you mean {' or '.join(repr(h) for h in close)}?)" if close else "")
