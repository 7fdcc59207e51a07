"""Answers of the installed ansible-core that cost its import (about half a second), kept on disk per installation.

Only what depends on nothing but the installed files is kept: the names Ansible reserves, and what
it says about its own `ansible.builtin` modules (their arguments, whether they run async). Anything
configuration, installed collections or a runbook can change is asked of Ansible every time. So a
`validate` of a runbook using echo, shell and `ansible.builtin.*` modules does not import Ansible
once it has been asked. The file is named after the version and the place of the installation (and
Jinja's version: its globals are reserved names too); a file that cannot be read or written only
costs the import.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rb2ansible"
_FORMAT = 1  # bump when the shape of an answer changes


def remembered(question: str, ask: Callable[[], Any]) -> Any:
    """The JSON-able answer to `question`, from the file if it holds one, else `ask()`ed and written down.
    `ask` may answer None for "no answer to keep" (it is asked again next time)."""
    answers = _answers()
    if question in answers:
        return answers[question]
    answer = ask()
    if answer is not None:
        answers[question] = answer
        _write(answers)
    return answer


def is_builtin(name: str) -> bool:
    """Whether a module name is ansible-core's own by FQCN: such answers come from the installed files only."""
    return name.startswith("ansible.builtin.") and name.count(".") == 2


@cache
def _answers() -> dict[str, Any]:
    try:
        data = json.loads(_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.pop("format", None) == _FORMAT else {}


def _write(answers: dict[str, Any]) -> None:
    """Written beside the file and renamed into place: a reader never sees half of it."""
    path = _file()
    partial = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump({"format": _FORMAT, **answers}, handle, sort_keys=True)
        os.replace(partial, path)
    except OSError:  # a read-only home: the answers stay in this process
        if partial is not None:
            with contextlib.suppress(OSError):
                os.unlink(partial)


@cache
def _file() -> Path:
    import ansible.release  # the package and its version only: a few milliseconds
    import jinja2  # its globals are among the names Ansible reserves

    installation = (f"{ansible.release.__version__} {Path(ansible.release.__file__).resolve().parent} "
                    f"jinja2 {jinja2.__version__}")
    digest = hashlib.sha256(installation.encode()).hexdigest()[:16]
    return CACHE_DIR / f"ansible-{ansible.release.__version__}-{digest}.json"
