"""Loopback SSH hosts for the dispatcher spike, started and stopped with the project's own lab code."""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from tests.lab.inventory import write_inventory  # noqa: E402
from tests.lab.keys import make_lab_keys  # noqa: E402
from tests.lab.ssh_hosts import SshHost, start_ssh_hosts, stop_ssh_hosts  # noqa: E402


@contextlib.contextmanager
def ssh_lab(count: int, workdir: Path) -> Iterator[tuple[list[SshHost], Path]]:
    """count light hosts and an INI inventory for them (settings per LAB.md); all stopped on exit."""
    keys = make_lab_keys(workdir / "keys")
    hosts = start_ssh_hosts(count, keys, workdir / "ssh", name_prefix="spikeb")
    try:
        yield hosts, write_inventory(workdir / "ssh.ini", hosts, keys.private_key)
    finally:
        stop_ssh_hosts(hosts)


if __name__ == "__main__":
    # Manual exploration: `python lab.py 3 600` keeps 3 hosts up for at most 600 s, printing the inventory path.
    count, seconds = int(sys.argv[1]), float(sys.argv[2])
    with ssh_lab(count, Path(tempfile.mkdtemp(prefix="spikeb-lab-"))) as (hosts, inventory):
        print(inventory, flush=True)
        time.sleep(seconds)
