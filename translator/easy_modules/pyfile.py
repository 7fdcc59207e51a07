"""Reads a Python file without running it: its docstring, its top-level functions, its imports."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from .errors import EasyModuleError

# An import inside `try:` whose handler catches one of these may fail without stopping the module.
_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


@dataclass(frozen=True)
class ImportSite:
    """One import statement: the module it names (absolute) and whether its failure is tolerated."""

    module: str  # dotted, relative imports already resolved against the importing package
    names: tuple[str, ...]  # for `from module import a, b`: a and b may be submodules
    optional: bool  # inside try/except ImportError, so the importer survives it missing
    line: int


@dataclass(frozen=True)
class PyFile:
    path: Path
    tree: ast.Module

    @property
    def doc(self) -> str:
        return ast.get_docstring(self.tree) or ""

    def defines(self, name: str) -> bool:
        """True if the module binds `name` at top level (def, assignment or import)."""
        return name in _top_level_names(self.tree)

    def imports(self, package: str | None) -> list[ImportSite]:
        """Every import in the file, at any depth; `package` resolves relative ones (None: not in one)."""
        collector = _ImportCollector(package)
        collector.visit(self.tree)
        return collector.sites


def parse(path: Path, source: bytes | None = None) -> PyFile:
    """Parses a file; a syntax error is the user's mistake, so it becomes a located EasyModuleError."""
    data = path.read_bytes() if source is None else source
    try:
        return PyFile(path, ast.parse(data, filename=str(path)))
    except (SyntaxError, ValueError) as error:
        where = f"{path}:{getattr(error, 'lineno', None) or 1}"
        raise EasyModuleError(f"{where}: cannot read this module: {error}") from None


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


class _ImportCollector(ast.NodeVisitor):
    def __init__(self, package: str | None):
        self.package = package
        self.sites: list[ImportSite] = []
        self._optional = 0

    def visit_Try(self, node: ast.Try) -> None:
        guarded = any(_catches_import_error(handler) for handler in node.handlers)
        self._optional += guarded
        for statement in node.body:
            self.visit(statement)
        self._optional -= guarded
        # A fallback import in the handler is what runs when the first one failed: required.
        for statement in [*node.handlers, *node.orelse, *node.finalbody]:
            self.visit(statement)

    visit_TryStar = visit_Try

    def visit_If(self, node: ast.If) -> None:
        # `if TYPE_CHECKING:` imports never run; only the else branch does.
        if _is_type_checking(node.test):
            for statement in node.orelse:
                self.visit(statement)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, (), node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        names = tuple(a.name for a in node.names if a.name != "*")
        if not node.level:
            self._add(node.module or "", names, node.lineno)
            return
        base = self._relative_base(node.level)
        if base is None:
            # Left for the bundler to report: a relative import outside a package cannot work.
            self._add("." * node.level + (node.module or ""), names, node.lineno)
            return
        self._add(".".join(p for p in (base, node.module) if p), names, node.lineno)

    def _relative_base(self, level: int) -> str | None:
        if not self.package:
            return None
        parts = self.package.split(".")
        if level - 1 >= len(parts):
            return None
        return ".".join(parts[: len(parts) - (level - 1)])

    def _add(self, module: str, names: tuple[str, ...], line: int) -> None:
        self.sites.append(ImportSite(module, names, self._optional > 0, line))


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(_name_of(kind) in _IMPORT_ERRORS for kind in kinds)


def _is_type_checking(test: ast.expr) -> bool:
    return _name_of(test) == "TYPE_CHECKING"


def _name_of(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""
