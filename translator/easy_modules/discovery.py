"""Finds easy modules by name: the runbook's modules/ directory, the ones shipped here, installed packages."""

from __future__ import annotations

import importlib.metadata
import re
from dataclasses import dataclass
from pathlib import Path

from . import pyfile, resolve
from .errors import EasyModuleError

ENTRY_POINT_GROUP = "rb2ansible.modules"
BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"

# Path segments only: a name can never climb out of modules/ ("..") or be absolute.
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*(/[A-Za-z0-9_][A-Za-z0-9_-]*)*")


@dataclass(frozen=True)
class EasyModule:
    name: str  # as written in a runbook, e.g. "stamp/write" or "systemd-helper/create"
    origin: str  # "local", "builtin" or "package:<distribution name>"
    source: Path  # the .py file defining run(args) and optionally check(args)
    doc: str
    has_check: bool

    @property
    def ansible_name(self) -> str:
        """A module name Ansible and Galaxy accept: lowercase identifier, "/" becomes "__"."""
        parts = [re.sub(r"[^a-z0-9_]", "_", part.lower()) for part in self.name.split("/")]
        name = "__".join(parts)
        return name if name[0].isalpha() else f"m_{name}"


class InstalledModules:
    """The easy modules installed packages register, read from the packages' metadata when first asked and kept:
    a runbook's build asks about every short name it uses (`command`, `stat`...) before Ansible is asked, and
    each reading scans every installed package (10 to 20 ms). One per build, so a package installed since the
    last build is seen."""

    def __init__(self) -> None:
        self._points: list[importlib.metadata.EntryPoint] | None = None

    def named(self, name: str) -> list[importlib.metadata.EntryPoint]:
        if self._points is None:
            self._points = _entry_points()
        return [point for point in self._points if point.name == name]


def find(name: str, runbook_dir: Path, installed: InstalledModules | None = None) -> EasyModule | None:
    """The module a runbook means by `name`: its own modules/ first, then rb2ansible's, then packages'.

    Local files win so a runbook can override anything it uses; shipped modules come before
    installed packages so installing a package cannot silently replace systemd-helper/create.
    """
    if not _NAME.fullmatch(name):
        return None
    for root, origin in ((Path(runbook_dir) / "modules", "local"), (BUILTIN_DIR, "builtin")):
        path = root / f"{name}.py"
        if path.is_file():
            return _from_file(name, origin, path)
    points = (installed or InstalledModules()).named(name)
    if len(points) > 1:
        owners = ", ".join(sorted(_distribution(point) for point in points))
        raise EasyModuleError(f"easy module '{name}' is registered by more than one package ({owners}); "
                              "uninstall one of them or copy the module into the runbook's modules/ directory")
    return _from_entry_point(points[0]) if points else None


def available(runbook_dir: Path) -> list[EasyModule]:
    """Every easy module a runbook can use, in the order find() prefers them, each name once."""
    found: dict[str, EasyModule] = {}
    for root, origin in ((Path(runbook_dir) / "modules", "local"), (BUILTIN_DIR, "builtin")):
        for name, path in _files(root):
            module = _from_file(name, origin, path, helpers_allowed=True)
            if module is not None:
                found.setdefault(name, module)
    for point in sorted(_entry_points(), key=lambda p: (p.name, _distribution(p))):
        if _NAME.fullmatch(point.name) and point.name not in found:
            found[point.name] = _from_entry_point(point)
    return list(found.values())


def entry_point_module(module: EasyModule) -> str:
    """The importable module path a package registered for `module` (e.g. "greet_pkg.hello")."""
    for point in _entry_points():
        if point.name == module.name and f"package:{_distribution(point)}" == module.origin:
            return point.module
    raise EasyModuleError(f"easy module '{module.name}' is no longer registered by {module.origin[8:]}")


def _files(root: Path):
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).with_suffix("")
        # _private.py files, __init__.py and __pycache__ are helpers for modules, not modules.
        if any(part.startswith(("_", ".")) for part in relative.parts):
            continue
        name = relative.as_posix()
        if _NAME.fullmatch(name):
            yield name, path


def _from_file(name: str, origin: str, path: Path, helpers_allowed: bool = False) -> EasyModule | None:
    parsed = pyfile.parse(path)
    if not parsed.defines("run"):
        if helpers_allowed:
            return None  # a helper the modules import, listed by nobody
        raise EasyModuleError(f"{path}: easy module '{name}' defines no run(args) function")
    return EasyModule(name, origin, path, parsed.doc, parsed.defines("check"))


def _from_entry_point(point: importlib.metadata.EntryPoint) -> EasyModule:
    distribution = _distribution(point)
    found = resolve.locate(point.module)
    if found is None or found.kind != "source":
        raise EasyModuleError(f"package {distribution} registers easy module '{point.name}' as "
                              f"'{point.value}', which is not an importable Python source file")
    parsed = pyfile.parse(found.path)
    if not parsed.defines("run"):
        raise EasyModuleError(f"package {distribution} registers easy module '{point.name}' as "
                              f"'{point.module}', which defines no run(args) function")
    return EasyModule(point.name, f"package:{distribution}", found.path, parsed.doc, parsed.defines("check"))


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    return list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))


def _distribution(point: importlib.metadata.EntryPoint) -> str:
    return point.dist.name if point.dist is not None else "unknown"
