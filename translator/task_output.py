"""What is shown under a task's line for one host: an echo's value, its output with -v, a failure's cause.

The same lines go under the live tree on a terminal and under each finished task when output is piped.
Long text is cut with "…"; the results file keeps all of it. A no_log task's result arrives censored by
Ansible, so nothing of it is here to show.
"""

from __future__ import annotations

import json

from .model import ModuleCall
from .results import HostResult

LINE_CHARACTERS = 200  # a longer line is cut, with "…" where text was left out
TAIL_LINES = 5  # of a failure's stderr/stdout: the end, where the cause usually is
VERBOSE_LINES = 20  # of each output shown with -v


def detail_lines(leaf: ModuleCall, result: HostResult, verbosity: int) -> list[str]:
    if result.status in ("failed", "unreachable"):
        return _failure(result)
    lines: list[str] = []
    if leaf.module == "echo" and result.status == "ok":
        lines += _echoed(result.msg)
    elif verbosity >= 1 and result.msg:
        lines += _labelled("msg", result.msg, VERBOSE_LINES)
    if verbosity >= 1 and result.ran_on:
        lines.append(f"ran once for every host, on {result.ran_on}")
    if verbosity >= 1 and result.status in ("ok", "changed") and not result.ran_on:
        lines += _labelled("stdout", result.stdout, VERBOSE_LINES)
        lines += _labelled("stderr", result.stderr, VERBOSE_LINES)
    return lines


def _failure(result: HostResult) -> list[str]:
    """The message, then the end of what the command or the module's interpreter wrote: for a module that
    never ran ("Module result deserialization failed"), module_stderr names the real cause."""
    msg = _cut_lines(result.msg, TAIL_LINES, tail=True, line_ends=True)
    if result.rc not in (None, 0):
        msg = [f"rc={result.rc}" + (f": {msg[0]}" if msg else ""), *msg[1:]]
    lines = [f"msg | {line}" for line in msg]
    for label in ("module_stderr", "module_stdout"):
        lines += _labelled(label, str(result.values.get(label) or ""), TAIL_LINES)
    lines += _labelled("stderr", result.stderr, TAIL_LINES)
    lines += _labelled("stdout", result.stdout, TAIL_LINES)
    return lines


def _echoed(msg: str) -> list[str]:
    """An echo's value; a mapping or a list (JSON in the results) pretty-printed."""
    try:
        value = json.loads(msg)
    except ValueError:
        value = None
    if isinstance(value, (dict, list)) and value:
        msg = json.dumps(value, indent=2, ensure_ascii=False)
    return _cut_lines(msg, VERBOSE_LINES)


def _labelled(label: str, text: str, limit: int) -> list[str]:
    line_ends = label == "msg"
    return [f"{label} | {line}" for line in _cut_lines(text, limit, tail=True, line_ends=line_ends)]


def _cut_lines(text: str, limit: int, tail: bool = False, line_ends: bool = False) -> list[str]:
    """At most `limit` lines of the text (its last ones with `tail`), each cut to LINE_CHARACTERS, keeping
    its end with `line_ends`: Ansible 2.19 words a failure as wrappers first and the cause last."""
    lines = text.rstrip("\n").splitlines()
    if not "".join(lines).strip():
        return []
    left = len(lines) - limit
    if left > 0:
        lines = [f"… {left} earlier lines", *lines[-limit:]] if tail else [*lines[:limit], f"… {left} more lines"]
    return [_cut(line, line_ends) for line in lines]


def _cut(line: str, keep_end: bool) -> str:
    if len(line) <= LINE_CHARACTERS:
        return line
    return "…" + line[-(LINE_CHARACTERS - 1):] if keep_end else line[:LINE_CHARACTERS - 1] + "…"
