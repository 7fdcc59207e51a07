"""Reads runbook YAML into PyYAML node trees, which keep the line and column of every value."""

from __future__ import annotations

from pathlib import Path

import yaml

from .errors import Diagnostic, Location, RunbookInvalid


def location_of(node: yaml.Node, path: Path) -> Location:
    mark = node.start_mark
    return Location(path, mark.line + 1, mark.column + 1)


def load_node(path: Path) -> yaml.Node | None:
    """Compose one YAML document; a syntax error becomes a located diagnostic."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunbookInvalid([Diagnostic(Location(path, 1, 1), "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RunbookInvalid([Diagnostic(Location(path, 1, 1), f"cannot read: {exc}")]) from None
    try:
        # compose, not load: nodes keep their marks, and tags such as !vault survive as data.
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(path, mark.line + 1, mark.column + 1) if mark else Location(path, 1, 1)
        raise RunbookInvalid([Diagnostic(where, f"invalid YAML: {exc.problem}")]) from None


_scalars = yaml.SafeLoader("")


def scalar_value(node: yaml.ScalarNode):
    """The Python value YAML 1.1 gives a plain scalar (int, bool, str, null, float...)."""
    return _scalars.construct_object(node, deep=True)
