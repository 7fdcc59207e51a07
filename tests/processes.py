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
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state == "Z":
            continue  # exited, only not reaped yet (this sandbox's PID 1 reaps late)
        if marker in argv and "pytest" not in argv:
            found.append(int(proc.name))
    return found

