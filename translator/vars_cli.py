"""Parses `-e` values the way ansible-playbook does: K=V pairs, JSON/YAML, or @FILE."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import RunbookInvalid, UsageError
from .loader import load_data


def parse_extra_vars(values: tuple[str, ...]) -> tuple[dict[str, Any], tuple[Path, ...]]:
    merged: dict[str, Any] = {}
    files: list[Path] = []
    for value in values:
        if value.startswith("@"):
            path = Path(value[1:])
            if not path.is_file():
                raise UsageError(f"-e {value}: no such file")
            files.append(path.resolve())
        elif value.lstrip().startswith(("{", "[")):
            try:
                loaded = load_data(value, "-e")  # the runbook's refusals: no tags, no billion laughs
            except RunbookInvalid as exc:
                raise UsageError(f"-e {value!r}: not valid JSON/YAML: {exc}") from None
            if not isinstance(loaded, dict):
                raise UsageError(f"-e {value!r}: must be a mapping")
            merged.update(loaded)
        else:
            from ansible.parsing.splitter import parse_kv  # Ansible's own K=V reading, imported only for one

            pairs = parse_kv(value)
            if not pairs or "_raw_params" in pairs:
                raise UsageError(f"-e {value!r}: expected K=V, a JSON mapping or @FILE")
            merged.update(pairs)
    return merged, tuple(files)
