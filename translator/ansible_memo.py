"""Answers of the installed ansible-core that cost its import (about half a second), kept on disk per installation.

Only what depends on nothing but the installed files is kept as it is: the names Ansible reserves,
and what it says about its own `ansible.builtin` modules (their arguments, whether they run async).
An answer that Ansible's configuration can change too (which module a short name such as `command`
means: a module of the user's library folders may shadow ansible-core's) is kept with a fingerprint
of what Ansible read to give it, and given again only while that holds (`remembered_here`). Anything
installed collections or a runbook can change is asked of Ansible every time. So a `validate` of a
runbook using echo, shell, `command` and `ansible.builtin.*` modules does not import Ansible once it
has been asked. The file is named after the version and the place of the installation (and Jinja's
version: its globals are reserved names too); a file that cannot be read or written only costs the
import.
"""

from __future__ import annotations

import contextlib
import glob
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
# Where Ansible looks for ansible.cfg, after $ANSIBLE_CONFIG and the working directory's (config/manager.py).
_CONFIG_FILES = ("~/.ansible.cfg", "/etc/ansible/ansible.cfg")
MAX_FOLDERS = 200  # more folders to watch than any library has: such an answer is not kept


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


def remembered_here(question: str, ask: Callable[[], tuple[Any, list[str] | None]]) -> Any:
    """Like `remembered`, for an answer that also depends on Ansible's configuration and on the files of
    some folders: `ask()` gives the answer and those folders (None: an answer not to keep). Kept with a
    fingerprint of the configuration Ansible reads (every ANSIBLE_* variable, the working directory, the
    ansible.cfg files it may read) and of the folders (each one and its folders two levels down, as the
    plugin loader searches them): a new file in one of them, or any change of configuration, asks again."""
    answers = _answers()
    kept = answers.get(question)
    if isinstance(kept, dict) and isinstance(kept.get("folders"), list) and \
            kept.get("context") == _context(kept["folders"]):
        return kept["answer"]
    answer, folders = ask()
    context = _context(folders) if folders is not None else None
    if context is not None:
        answers[question] = {"answer": answer, "folders": folders, "context": context}
        _write(answers)
    return answer


def _context(folders: list[str]) -> list | None:
    """What an answer of `remembered_here` holds only as long as: JSON-shaped, to compare with the file's.
    None when it cannot be told (a working directory removed from under the process): nothing is kept."""
    try:
        cwd = os.getcwd()
    except OSError:
        return None
    configs = [os.environ.get("ANSIBLE_CONFIG", ""), os.path.join(cwd, "ansible.cfg"),
               *(os.path.expanduser(path) for path in _CONFIG_FILES)]
    watched = []
    for folder in folders:
        folder = os.path.abspath(os.path.expanduser(folder))
        watched += [folder, *sorted(path for path in glob.glob(f"{glob.escape(folder)}/*")
                                    + glob.glob(f"{glob.escape(folder)}/*/*") if os.path.isdir(path))]
        if len(watched) > MAX_FOLDERS:
            return None
    # The variables only as a digest: one may hold a password (ANSIBLE_BECOME_PASSWORD), never written down.
    variables = sorted((key, value) for key, value in os.environ.items() if key.startswith("ANSIBLE_"))
    digest = hashlib.sha256(json.dumps(variables).encode(errors="surrogateescape")).hexdigest()
    return [digest, cwd, [[path, _stat(path)] for path in configs + watched]]


def _stat(path: str) -> list[int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return [status.st_mtime_ns, status.st_size, status.st_ino]


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
