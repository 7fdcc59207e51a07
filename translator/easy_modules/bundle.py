"""Works out what an easy module needs on the target: its local helpers and the pure-Python packages it imports.

This is the AutomateJS paper's browserify step done for Python: follow the imports from the
module's source (by reading it, never by running it), transitively, resolve each the way the
controller's Python would, leave the standard library out, and list every file to ship.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from . import discovery, resolve
from .discovery import EasyModule
from .errors import BundleError
from .graph import Edge, Graph, GraphBuilder

# Bump when the layout of the archive changes, so cached bundles of the old layout are not reused.
FORMAT = 1


@dataclass(frozen=True)
class Package:
    """A third-party package (or single-file module) shipped whole: its own code may import lazily."""

    name: str  # import name of its root, e.g. "click"
    path: Path  # the package directory or the module file
    distribution: str | None
    version: str | None

    def __str__(self) -> str:
        if not self.distribution:
            return self.name
        if re.sub(r"[-_.]+", "_", self.distribution).lower() == self.name.replace(".", "_").lower():
            return f"{self.name} {self.version}"
        return f"{self.name} ({self.distribution} {self.version})"


@dataclass
class Plan:
    """Every file of a module's bundle, by its name in the archive, and what was left out and why."""

    module: EasyModule
    entry: str  # what the generated module imports to get run() and check()
    files: dict[str, Path | bytes] = field(default_factory=dict)  # archive name -> file, or content
    packages: dict[str, Package] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # left out on purpose; shown in the generated file

    @property
    def key(self) -> str:
        """Names the built archive in the cache: the sources, the package versions, the layout."""
        digest = hashlib.sha256(f"rb2ansible-bundle {FORMAT} {sys.version_info[:2]}\n".encode())
        for name in sorted(self.files):
            digest.update(f"{name}\n".encode())
            item = self.files[name]
            if isinstance(item, bytes):
                digest.update(hashlib.sha256(item).digest())
            elif self.is_package_file(item):
                # Installed packages change with their version; size and mtime catch edits in place.
                stat = item.stat()
                digest.update(f"{stat.st_size} {stat.st_mtime_ns}\n".encode())
            else:
                digest.update(hashlib.sha256(item.read_bytes()).digest())
        return digest.hexdigest()[:32]

    def is_package_file(self, path: Path) -> bool:
        return any(path == p.path or p.path in path.parents for p in self.packages.values())


def plan(module: EasyModule) -> Plan:
    """The bundle of `module`; raises BundleError naming a dependency that cannot be shipped."""
    importlib.invalidate_caches()  # files written since the last lookup must be seen
    return _Planner(module).run()


class _Planner:
    def __init__(self, module: EasyModule):
        self.module = module
        self.own_package: str | None = None  # a package module's own package is the user's code too
        self.modules_root: Path | None = None
        self.roots: tuple[Path, ...] = ()
        if module.origin.startswith("package:"):
            entry = discovery.entry_point_module(module)
            self.own_package = entry.split(".")[0]
        else:
            # As when a script runs: its own directory first; then the runbook's modules/ root,
            # so helpers shared by several modules import by name from anywhere in it.
            self.modules_root = module.source.parents[len(Path(module.name).parts) - 1]
            self.roots = tuple(dict.fromkeys([module.source.parent, self.modules_root]))
            entry = module.ansible_name
        self.result = Plan(module, entry)
        self.left_out: dict[str, str] = {}  # archive name of a compiled file of a bundled package -> why

    @cached_property
    def _distributions(self) -> Mapping[str, list[str]]:
        # Reads every installed distribution's file list (a quarter of a second): only for a module that
        # imports an installed package, most import none.
        return importlib.metadata.packages_distributions()

    def run(self) -> Plan:
        entry_path = self.module.source if self.roots else None
        graph = GraphBuilder(self.roots, self.own_package, self._shown).build(self.result.entry, entry_path)
        broken = _broken(graph)
        if graph.entry in broken:
            raise self._refusal(graph, broken)
        shipped = _reachable(graph, broken)
        if entry_path is not None:
            # The local entry goes in under the name the generated module imports it by.
            self.result.files[f"{self.result.entry}.py"] = entry_path
        for name in sorted(shipped):
            node = graph.nodes[name]
            if name == graph.entry and entry_path is not None:
                continue
            if node.local:
                self._add_local(node.found)
            else:
                self._add_package(name)
        self._explain_left_out(graph, broken, shipped)
        self.result.notes[:0] = [self.left_out[name] for name in sorted(self.left_out)]
        return self.result

    def _refusal(self, graph: Graph, broken: dict[str, Edge | None]) -> BundleError:
        """Names what the user's code imports that leads, by imports that must succeed, to the problem."""
        chain, edge = [graph.entry], broken[graph.entry]
        while True:
            chain.append(edge.target)
            if broken.get(edge.target) is None:
                break
            edge = broken[edge.target]
        culprit = graph.nodes[chain[-1]]
        dependency = next((name for name in chain[1:] if not graph.nodes[name].users), culprit.name)
        if culprit.found is None:
            return BundleError(f"module '{self.module.name}' imports '{culprit.name}' ({edge.where}), which is not "
                               f"installed where rb2ansible runs ({sys.executable}); install it there to bundle it")
        what = self._shown(culprit.found.path) if culprit.found.path else "built into the controller's Python"
        via = "" if dependency == culprit.name else f"{culprit.name}: "
        return BundleError(f"module '{self.module.name}' imports '{dependency}', which has compiled extensions "
                           f"({via}{what}, imported at {edge.where}); only pure-Python packages can be bundled. "
                           "To use the target's own copy instead, import it inside try/except ImportError")

    def _explain_left_out(self, graph: Graph, broken: dict[str, Edge | None], shipped: set[str]) -> None:
        """A note for every import of shipped code that the bundle cannot satisfy, and why that is fine."""
        for name in sorted(shipped):
            for edge in graph.nodes[name].edges:
                target = graph.nodes[edge.target]
                if target.found is None:
                    # Not importable here either: a platform-specific branch, or a fallback
                    # the importer copes without. The target's own copy is used if it has one.
                    self._note(f"{edge.target}: not installed on the controller, not bundled ({edge.where})")
                elif edge.target in broken:
                    self._note(self._why_left_out(graph, broken, edge))

    def _why_left_out(self, graph: Graph, broken: dict[str, Edge | None], edge: Edge) -> str:
        culprit = edge.target
        while broken.get(culprit) is not None:
            culprit = broken[culprit].target
        found = graph.nodes[culprit].found
        package = next((p for p in self.result.packages if edge.target == p or edge.target.startswith(f"{p}.")), None)
        copes = f"the bundled {package} runs without it" if package else "the target's own copy is used if it has one"
        if found is None:
            needs = f"needs {culprit}, which is not installed on the controller"
        else:
            where = self._shown(found.path) if found.path else "built into the controller's Python"
            needs = f"needs compiled code ({culprit + ', ' if culprit != edge.target else ''}{where})"
        return f"{edge.target}: {needs}; its import is inside try/except ImportError ({edge.where}), so {copes}"

    def _add_local(self, found: resolve.Found) -> None:
        parts = found.name.split(".")
        for depth in range(1, len(parts)):
            # zipimport has no namespace packages: a plain directory gets an empty __init__.py.
            self.result.files.setdefault("/".join(parts[:depth]) + "/__init__.py", b"")
        if found.kind == "namespace":
            self.result.files.setdefault("/".join(parts) + "/__init__.py", b"")
        else:
            self.result.files[_archive_name(found)] = found.path

    def _add_package(self, name: str) -> None:
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            prefix = ".".join(parts[:depth])
            if prefix in self.result.packages:
                return
            found = resolve.locate(prefix, self.roots)
            if found is not None and found.kind != "namespace":
                break
        else:
            return  # a namespace package alone holds no files of its own
        root = found.path.parent if found.is_package else found.path
        distribution = self._distribution(parts[0], root)
        version = importlib.metadata.version(distribution) if distribution else None
        self.result.packages[prefix] = Package(prefix, root, distribution, version)
        for depth in range(1, prefix.count(".") + 1):
            self.result.files.setdefault("/".join(parts[:depth]) + "/__init__.py", b"")
        self._add_package_files(prefix, root, found.is_package)
        metadata = importlib.metadata.distribution(distribution).read_text("METADATA") if distribution else None
        if metadata:
            # So importlib.metadata.version() works on the target as it did here.
            folder = f"{re.sub(r'[-_.]+', '_', distribution)}-{version}.dist-info"
            self.result.files.setdefault(f"{folder}/METADATA", metadata.encode())

    def _add_package_files(self, name: str, root: Path, is_package: bool) -> None:
        base = name.replace(".", "/")
        if not is_package:
            self.result.files[f"{base}.py"] = root
            return
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if path.is_dir() or "__pycache__" in relative.parts or path.suffix in (".pyc", ".pyo"):
                continue
            if resolve.is_extension_file(path):
                # zipimport cannot load it; had shipped code needed it, planning would have stopped.
                inside = f"{base}/{relative.as_posix()}"
                self.left_out[inside] = f"{inside}: compiled, cannot load from a zip, left out"
                continue
            self.result.files[f"{base}/{relative.as_posix()}"] = path

    def _distribution(self, top_level: str, root: Path) -> str | None:
        candidates = self._distributions.get(top_level, [])
        for candidate in candidates:
            files = importlib.metadata.distribution(candidate).files or []
            # Several distributions may share a top-level name (namespaces); take the one owning root.
            if any(os.path.normpath(f.locate()).startswith(str(root)) for f in files):
                return candidate
        return candidates[0] if candidates else None

    def _shown(self, path: Path) -> str:
        """A path as a user recognises it: inside modules/ or inside site-packages, not absolute."""
        bases = [self.modules_root.parent] if self.modules_root else []
        bases += [p.path.parent for p in self.result.packages.values()] + [Path(p) for p in sys.path if p]
        # The deepest base wins: site-packages may sit inside the project (a virtualenv in it).
        for base in sorted(bases, key=lambda b: len(b.parts), reverse=True):
            if base in path.parents:
                return path.relative_to(base).as_posix()
        return str(path)

    def _note(self, text: str) -> None:
        if text not in self.result.notes:
            self.result.notes.append(text)


def _archive_name(found: resolve.Found) -> str:
    base = found.name.replace(".", "/")
    return f"{base}/__init__.py" if found.is_package else f"{base}.py"


def _broken(graph: Graph) -> dict[str, Edge | None]:
    """Modules that cannot be imported from the bundle: compiled ones (None), and those needing one (the edge).

    A module is broken by an import that must succeed (not inside try/except ImportError) of a
    broken module; in the user's own code also by one of a module not installed at all.
    """
    compiled = ("extension", "builtin", "other")
    broken: dict[str, Edge | None] = {name: None for name, node in graph.nodes.items()
                                      if node.found is not None and node.found.kind in compiled}
    changed = True
    while changed:
        changed = False
        for name, node in graph.nodes.items():
            if name in broken or node.found is None:
                continue
            for edge in node.edges:
                target = graph.nodes[edge.target]
                if not edge.optional and (edge.target in broken or (target.found is None and node.users)):
                    broken[name] = edge
                    changed = True
                    break
    return broken


def _reachable(graph: Graph, broken: dict[str, Edge | None]) -> set[str]:
    """What the entry imports, transitively, leaving out what cannot be shipped."""
    shipped, queue = {graph.entry}, [graph.entry]
    while queue:
        for edge in graph.nodes[queue.pop()].edges:
            target = graph.nodes[edge.target]
            if edge.target not in shipped and edge.target not in broken and target.found is not None:
                shipped.add(edge.target)
                queue.append(edge.target)
    return shipped
