"""Running commands on lab hosts with the system ssh client and the session key."""

from __future__ import annotations

import subprocess
from pathlib import Path

# Lab hosts get new host keys every session, so nothing is checked or remembered; -F /dev/null
# keeps the user's own ssh config out of the tests.
SSH_OPTIONS = [
    "-F", "/dev/null",
    "-o", "BatchMode=yes",
    "-o", "IdentitiesOnly=yes",
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR",
    "-o", "ConnectTimeout=5",
]


def ssh_argv(address: str, private_key: Path, command: str, user: str = "root") -> list[str]:
    return ["ssh", *SSH_OPTIONS, "-i", str(private_key), f"{user}@{address}", command]


def run_ssh(address: str, private_key: Path, command: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run command on the host; the result is returned whatever the exit status."""
    return subprocess.run(
        ssh_argv(address, private_key, command), capture_output=True, text=True, timeout=timeout
    )


def ssh_works(address: str, private_key: Path) -> bool:
    return run_ssh(address, private_key, "true", timeout=15).returncode == 0


class RemoteCommands:
    """run()/ssh() for a lab host object that has name, address and keys."""

    name: str
    address: str

    def run(self, command: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return run_ssh(self.address, self.keys.private_key, command, timeout)

    def ssh(self, command: str, timeout: float = 60) -> str:
        """Run command on the host and return its stdout; raise LabError if it fails."""
        from tests.lab import LabError

        result = self.run(command, timeout)
        if result.returncode != 0:
            raise LabError(f"{self.name}: {command!r} exited {result.returncode}: {result.stderr.strip()}")
        return result.stdout
