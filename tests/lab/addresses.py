"""Choosing loopback addresses whose port 22 nothing else uses, race-free between pytest processes."""

from __future__ import annotations

import errno
import fcntl
import socket
from pathlib import Path
from typing import IO

from tests.lab import LabError

# 127.0.0.11-40 for light sshd hosts, 127.0.1.11-40 for nspawn machines: clear of 127.0.0.1 and
# 127.0.1.1 (Debian's own hostname line in /etc/hosts).
LIGHT_HOST_RANGE = [f"127.0.0.{n}" for n in range(11, 41)]
MACHINE_RANGE = [f"127.0.1.{n}" for n in range(11, 41)]

# One flock per claimed address, held until this process exits (the kernel drops it even on
# kill -9), so two pytest processes never pick the same address between probe and bind.
LOCK_DIR = Path("/run/rb2ansible-lab")
_held: dict[str, IO[str]] = {}


def port_is_free(address: str, port: int = 22) -> bool:
    """True when address:port can be bound, i.e. no listener there nor on 0.0.0.0:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As sshd does: then connections in TIME_WAIT do not count, but any listener does.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def _try_lock(address: str) -> bool:
    LOCK_DIR.mkdir(parents=True, exist_ok=True)
    lock = open(LOCK_DIR / f"{address}.lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return False
    _held[address] = lock
    return True


def _release(address: str) -> None:
    _held.pop(address).close()


def claim_addresses(candidates: list[str], count: int) -> list[str]:
    """Take count addresses from candidates that neither this process nor anything else uses."""
    claimed: list[str] = []
    for address in candidates:
        if len(claimed) == count:
            break
        if address in _held or not _try_lock(address):
            continue
        if port_is_free(address):
            claimed.append(address)
        else:
            _release(address)  # something outside the lab listens there; leave it alone
    if len(claimed) < count:
        for address in claimed:
            _release(address)
        raise LabError(
            f"need {count} free loopback addresses with port 22 in {candidates[0]}..{candidates[-1]}, "
            f"found {len(claimed)}; is something listening on 0.0.0.0:22 (a system sshd)?"
        )
    return claimed
