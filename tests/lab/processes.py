"""Starting lab daemons detached but tied to pytest, stopping them with all their children, and polling."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tests.lab import LabError

T = TypeVar("T")
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    # If pytest is killed outright (no finalizers, no atexit), the kernel sends SIGTERM to the
    # daemon: sshd exits, systemd-nspawn shuts its machine down. Nothing outlives the session.
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn_detached(argv: list[str], log_path: Path) -> subprocess.Popen:
    """Start argv in its own session (no terminal, Ctrl-C in pytest's terminal does not reach it)."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )


def descendants(pid: int) -> list[int]:
    """All processes below pid; sshd's per-connection children call setsid, so a process group misses them."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name may hold spaces and parentheses; the fields after the last ')' do not.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie nobody reaps yet is gone for our purposes


def _signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def stop_process_tree(process: subprocess.Popen, timeout: float, term_children: bool = True) -> None:
    """SIGTERM the process (and its descendants if term_children), then SIGKILL whatever is left.

    term_children=False suits systemd-nspawn: SIGTERM to nspawn alone makes it power its machine
    off, whereas SIGTERM sent to the machine's systemd would only make it re-execute itself.
    """
    tree = [process.pid, *descendants(process.pid)]
    _signal_all(tree if term_children else tree[:1], signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        pass
    _signal_all([pid for pid in tree + descendants(process.pid) if _alive(pid)], signal.SIGKILL)
    process.wait(timeout)
    wait_until(lambda: not any(_alive(pid) for pid in tree), timeout, f"pid {process.pid} and its children to exit")


def wait_until(check: Callable[[], T], timeout: float, what: str, interval: float = 0.2) -> T:
    """Call check until it returns something truthy; raise LabError naming `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            result = check()
            if result:
                return result
        except LabError:
            raise
        except Exception as error:
            last_error = error
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            raise LabError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")
        time.sleep(interval)
