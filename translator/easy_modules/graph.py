"""The import graph of an easy module: every module its code may import, found by reading, never running."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import pyfile, resolve
from .errors import BundleError


@dataclass(frozen=True)
class Edge:
    """An import: of what, whether a failure is caught (try/except ImportError), and where it is written."""

    target: str
    optional: bool
    where: str  # file:line, as a user recognises it


@dataclass
class Node:
    """A module the code may import, and where the controller's Python finds it (None: nowhere)."""

    name: str
    found: resolve.Found | None
    users: bool  # the user's own code: the runbook's modules/, or a package module's own package
    local: bool  # a file under the module's search roots, shipped file by file
    package: str | None  # what its relative imports are relative to
    edges: list[Edge] = field(default_factory=list)


@dataclass
class Graph:
    entry: str
    nodes: dict[str, Node]


class GraphBuilder:
    """Follows imports from the entry module, resolving each as the controller's Python would.

    Every import is followed, optional or not: whether an optional one can be shipped is decided
    afterwards, over the whole graph.
    """

    def __init__(self, roots: tuple[Path, ...], own_package: str | None, shown: Callable[[Path], str]):
        self.roots = roots  # where a local module's own imports are looked up first
        self.own_package = own_package
        self.shown = shown
        self.nodes: dict[str, Node] = {}
        self.queue: list[Node] = []

    def build(self, entry: str, entry_path: Path | None) -> Graph:
        if entry_path is not None:
            # A local entry module is no member of any package: its relative imports cannot work.
            self.nodes[entry] = Node(entry, resolve.Found(entry, "source", entry_path, ()), True, True, None)
            self.queue.append(self.nodes[entry])
        else:
            self._node(entry, "the entry point")
        while self.queue:
            self._follow(self.queue.pop(0))
        return Graph(entry, self.nodes)

    def _follow(self, node: Node) -> None:
        found = node.found
        for site in pyfile.parse(found.path).imports(node.package):
            where = f"{self.shown(found.path)}:{site.line}"
            if site.module.startswith(".") or not site.module:
                if node.users and not site.optional:
                    raise BundleError(f"{where}: a relative import outside a package cannot work in an easy "
                                      "module file; import the files beside it by name instead")
                continue
            parts = site.module.split(".")
            targets = [".".join(parts[:depth]) for depth in range(1, len(parts) + 1)]
            parent = self._node(site.module, where)
            if parent is not None and parent.found is not None and parent.found.is_package:
                # `from package import name` imports the submodule `name` when there is one.
                targets += [f"{site.module}.{name}" for name in site.names
                            if resolve.locate(f"{site.module}.{name}", self.roots) is not None]
            for target in targets:
                if self._node(target, where) is not None:
                    node.edges.append(Edge(target, site.optional, where))

    def _node(self, name: str, where: str) -> Node | None:
        """The node of `name`, made on first sight; None for the standard library."""
        if resolve.is_stdlib(name):
            return None
        if name in self.nodes:
            return self.nodes[name]
        found = resolve.locate(name, self.roots)
        local = found is not None and self._under_roots(found)
        own = self.own_package
        users = local or (bool(own) and (name == own or name.startswith(f"{own}.")))
        package = name if found is not None and found.is_package else name.rpartition(".")[0]
        node = self.nodes[name] = Node(name, found, users, local, package or None)
        if "." in name:
            # Importing a submodule runs its package first.
            parent = name.rpartition(".")[0]
            if self._node(parent, where) is not None:
                node.edges.append(Edge(parent, False, where))
        if found is not None and found.kind == "source":
            self.queue.append(node)
        return node

    def _under_roots(self, found: resolve.Found) -> bool:
        paths = [found.path] if found.path else list(found.locations)
        return bool(self.roots) and bool(paths) and all(
            any(root == p or root in p.parents for root in self.roots) for p in paths)
