"""Finds the file behind a dotted module name, as `import` would, without importing anything."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Loading a module by its spec would run its code on the controller; these finders only look.
_EXTENSION_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES) + (".so", ".pyd")


@dataclass(frozen=True)
class Found:
    """Where a module lives and what kind of file runs when it is imported."""

    name: str
    kind: str  # "source", "extension" (compiled), "builtin" (in the interpreter), "namespace", "other"
    path: Path | None  # the file that runs on import; None for namespace packages and built-ins
    locations: tuple[Path, ...]  # where its submodules are, for packages

    @property
    def is_package(self) -> bool:
        return bool(self.locations)


def is_stdlib(name: str) -> bool:
    return name.split(".")[0] in sys.stdlib_module_names


def locate(name: str, roots: Sequence[Path] = ()) -> Found | None:
    """The module `name` resolves to: top level from `roots` first, then the controller's sys.path."""
    parts = name.split(".")
    if not all(parts):
        return None
    found = _found(_top_level_spec(parts[0], roots))
    for depth in range(1, len(parts)):
        if found is None or not found.is_package:
            return None
        finder_path = [str(location) for location in found.locations]
        found = _found(importlib.machinery.PathFinder.find_spec(".".join(parts[: depth + 1]), finder_path))
    return found


def is_extension_file(path: Path) -> bool:
    return path.name.endswith(_EXTENSION_SUFFIXES)


def _top_level_spec(name: str, roots: Sequence[Path]):
    if roots:
        spec = importlib.machinery.PathFinder.find_spec(name, [str(root) for root in roots])
        if spec is not None:
            return spec
    try:
        # For a top-level name this consults sys.modules and the finders; it never executes code.
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None


def _found(spec) -> Found | None:
    if spec is None:
        return None
    locations = tuple(Path(p) for p in (spec.submodule_search_locations or ()))
    origin = spec.origin
    if origin in (None, "namespace"):
        return Found(spec.name, "namespace", None, locations)
    if origin in ("built-in", "frozen"):
        return Found(spec.name, "builtin", None, locations)
    path = Path(origin)
    if path.suffix == ".py":
        return Found(spec.name, "source", path, locations)
    if is_extension_file(path):
        # mypyc-style wheels ship the .py beside the compiled file; without the .so, Python uses it.
        sibling = path.with_name(path.name.split(".", 1)[0] + ".py")
        if sibling.is_file():
            return Found(spec.name, "source", sibling, locations)
        return Found(spec.name, "extension", path, locations)
    return Found(spec.name, "other", path, locations)
