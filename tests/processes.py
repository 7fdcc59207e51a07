"""Process-table helper for tests: find processes by a unique marker in their argv."""

from __future__ import annotations

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

