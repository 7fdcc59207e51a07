"""The session's SSH keys: one client key pair for Ansible and one host key for the light sshds."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LabKeys:
    private_key: Path
    public_key: Path
    host_key: Path  # private host key the light sshds present; clients do not check it


def _keygen(path: Path, comment: str) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        capture_output=True,
    )


def make_lab_keys(directory: Path) -> LabKeys:
    """Create fresh ed25519 keys in directory (a per-session temporary directory)."""
    directory.mkdir(parents=True, exist_ok=True)
    client, host = directory / "id_ed25519", directory / "ssh_host_ed25519_key"
    _keygen(client, "rb2a-lab-client")
    _keygen(host, "rb2a-lab-host")
    return LabKeys(private_key=client, public_key=client.with_suffix(".pub"), host_key=host)
