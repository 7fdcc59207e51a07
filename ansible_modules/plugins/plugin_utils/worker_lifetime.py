# Copyright: (c) 2026, rb2ansible contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ends a dispatcher's worker process when ansible-playbook dies, so a kill -9 leaves no orphaned worker."""

from __future__ import annotations

import ctypes
import os
import signal
import threading
import time

PR_SET_PDEATHSIG = 1
_armed = set()  # pids of worker processes already armed (a nested dispatcher runs in the same process)


def die_with_parent() -> None:
    """After kill -9 of ansible-playbook an orphaned worker ran on, then blocked for ever writing events into a
    result pipe nobody reads (it holds the read end itself). SIGTERM on the parent's death ends it: the worker's
    own handler turns SIGTERM into killing its process group (its ssh clients). Linux has prctl; elsewhere a
    daemon thread watches the parent pid."""
    if os.getpid() in _armed:
        return
    _armed.add(os.getpid())
    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        threading.Thread(target=_watch_parent, args=(parent,), name="rb2ansible-parent-watch", daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)  # polling is the only portable way to notice a reparenting
    os.kill(os.getpid(), signal.SIGTERM)
