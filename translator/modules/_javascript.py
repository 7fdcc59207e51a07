"""AutomateJS's JavaScript templates: recognising one, and what this machine's Node says of it before a run.

AutomateJS rendered a template by `require()`-ing it and calling its export with the task's
variables; rb2ansible does the same with Node on the controller at run time (the helper
collection's `node_template` lookup). Here: whether a template file is such a module, whether
`node` is there to render it, and its syntax errors, so `validate` reports them at their line.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..loader import is_file

SUFFIXES = (".js", ".cjs", ".mjs")
# `module.exports = ...`, `module.exports.x = ...` or `exports.x = ...`: what makes a file a CommonJS module;
# `export default ...` and the like: an ES module, which AutomateJS could not load (validation says so).
_EXPORTS = re.compile(r"(^|[^.\w$])(module\s*\.\s*exports|exports\s*\.\s*[\w$]+)\s*=[^=]"
                      r"|^\s*export\s+(default|const|function|async|let|var|class|\{)", re.MULTILINE)
_ES_MODULE = ("Unexpected token 'export'", "Cannot use import statement")
INSTALL = "install Node.js (Debian: apt-get install nodejs)"
# Checking syntax reads one file; a slower answer means something is wrong with `node` itself.
_CHECK_SECONDS = 30


@dataclass(frozen=True)
class SyntaxProblem:
    line: int
    column: int
    message: str
    source_line: str


def is_commonjs(path: Path) -> bool:
    """Whether a template file is meant for Node: a .js/.cjs/.mjs file that assigns module.exports (an
    AutomateJS template) or exports as an ES module (refused at validation with the CommonJS form)."""
    if path.suffix not in SUFFIXES or not is_file(path):
        return False
    try:
        return bool(_EXPORTS.search(path.read_text(encoding="utf-8", errors="replace")))
    except OSError:
        return False


def node_program() -> str | None:
    return shutil.which("node")


def syntax_problem(path: Path, node: str) -> SyntaxProblem | None:
    """The first syntax error Node finds in the file (`node --check` reads it and runs nothing), or None.
    Asked once per version of the file: a template used by many tasks costs one Node start."""
    try:
        found = path.stat()
    except OSError:
        return None  # gone since it was found: the run will say so
    return _checked(path, found.st_mtime_ns, found.st_size, node)


@cache
def _checked(path: Path, mtime_ns: int, size: int, node: str) -> SyntaxProblem | None:
    import subprocess  # here: only a JavaScript template needs it, and its import costs every command

    try:
        # The text on stdin, which Node reads as CommonJS whatever the file's name (`--check FILE` refuses
        # names it does not know, where require() takes them as JavaScript).
        done = subprocess.run([node, "--no-warnings", "--check", "-"],
                              input=path.read_text(encoding="utf-8", errors="replace"), capture_output=True,
                              encoding="utf-8", errors="replace", timeout=_CHECK_SECONDS)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return SyntaxProblem(1, 1, f"`{node} --check` could not check it: {exc}", "")
    if done.returncode == 0:
        return None
    return _parse(done.stderr)


def _parse(stderr: str) -> SyntaxProblem:
    """Node's report: `[stdin]:LINE`, the source line, a caret under the place, a blank line, `SyntaxError: ...`."""
    lines = stderr.splitlines()
    message = next((line for line in lines if re.match(r"^\w*Error\b", line)), "").strip()
    at = next((n for n, line in enumerate(lines) if re.match(r"^\[stdin\]:\d+$", line)), None)
    if at is None:
        return SyntaxProblem(1, 1, message or stderr.strip()[:300] or "node --check failed", "")
    source = lines[at + 1] if len(lines) > at + 1 else ""
    caret = lines[at + 2] if len(lines) > at + 2 else ""
    column = caret.index("^") + 1 if "^" in caret else 1
    if any(sign in message for sign in _ES_MODULE):
        message += "; AutomateJS templates are CommonJS modules: module.exports = (vars) => `...`"
    return SyntaxProblem(int(lines[at].rpartition(":")[2]), column, message or "syntax error", source)
