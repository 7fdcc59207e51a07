"""Decides which `-e` values look secret, so that they are given to Ansible at run time but never written out."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# A name that says it holds a secret: db_password, API_TOKEN, ssh_private_key, client_secret...
SECRET_NAME = re.compile(r"pass(word|wd|phrase)?|secret|token|key|credential|private|pwd", re.IGNORECASE)


@dataclass(frozen=True)
class SecretSplit:
    """The `-e` values and files that may be written into a private data directory, and those held back."""

    values: dict[str, Any] = field(default_factory=dict)
    files: tuple[Path, ...] = ()
    withheld_values: dict[str, Any] = field(default_factory=dict, repr=False)
    withheld_files: tuple[Path, ...] = ()

    @property
    def withheld_names(self) -> list[str]:
        return sorted(self.withheld_values) + [f"@{path.name}" for path in self.withheld_files]


def split_secrets(values: dict[str, Any], files: tuple[Path, ...], keep_secrets: bool) -> SecretSplit:
    """A variable is held back when its name, or any name inside its value, looks secret; a file when it is
    plain text and any name in it looks secret (a Vault-encrypted file stays encrypted, so it may be written)."""
    if keep_secrets:
        return SecretSplit(dict(values), tuple(files))
    kept = {name: value for name, value in values.items() if not _holds_secret({name: value})}
    plain_secret = tuple(path for path in files if not _encrypted(path) and _file_holds_secret(path))
    return SecretSplit(kept, tuple(path for path in files if path not in plain_secret),
                       {name: value for name, value in values.items() if name not in kept}, plain_secret)


def _holds_secret(value: Any) -> bool:
    return any(SECRET_NAME.search(name) for name in _names(value))


def _names(value: Any) -> Iterator[str]:
    stack, seen = [value], set()
    while stack:  # not recursive: a value may nest deeper than Python's recursion limit
        item = stack.pop()
        if id(item) in seen:  # YAML aliases share one object: visit it once
            continue
        seen.add(id(item))
        if isinstance(item, dict):
            for name, inner in item.items():
                if inner is not ENCRYPTED:  # an inline !vault value stays encrypted when written
                    yield str(name)
                stack.append(inner)
        elif isinstance(item, list):
            stack.extend(item)


def _encrypted(path: Path) -> bool:
    from ansible.parsing.vault import is_encrypted_file

    with path.open("rb") as handle:
        return is_encrypted_file(handle)


ENCRYPTED = object()


class _AnyTagLoader(yaml.SafeLoader):
    """Reads a vars file for its names only: a `!vault` value is marked encrypted, other tags become nothing."""


_AnyTagLoader.add_constructor("!vault", lambda loader, node: ENCRYPTED)
_AnyTagLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def _file_holds_secret(path: Path) -> bool:
    try:
        return _holds_secret(yaml.load(path.read_text(errors="replace"), Loader=_AnyTagLoader))
    except (yaml.YAMLError, RecursionError):
        return True  # what cannot be read cannot be shown harmless; Ansible will say what is wrong with it
