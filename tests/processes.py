"""Process-table helpers for tests: find and wait for processes by a unique marker in argv."""

from __future__ import annotations

import time
from pathlib import Path


def with_marker(marker: str) -> list[int]:
    """PIDs whose command line contains marker (this machine; loopback hosts share it)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in argv and "pytest" not in argv:
            found.append(int(proc.name))
    return found


def wait_until(condition, timeout: float, interval: float = 0.05) -> bool:
    """Poll a condition until it holds or the bounded time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())
