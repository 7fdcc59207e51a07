"""Light SSH hosts: one sshd per loopback address, all sharing this machine's filesystem."""

from __future__ import annotations

import atexit
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.lab import LabError
from tests.lab.addresses import LIGHT_HOST_RANGE, claim_addresses
from tests.lab.keys import LabKeys
from tests.lab.processes import spawn_detached, stop_process_tree, wait_until
from tests.lab.ssh_client import RemoteCommands, ssh_works

SSHD = Path("/usr/sbin/sshd")
PRIVSEP_DIR = Path("/run/sshd")  # sshd refuses to start without its privilege-separation directory
START_TIMEOUT = 20
STOP_TIMEOUT = 10


def sshd_config(address: str, keys: LabKeys, pid_file: Path) -> str:
    settings = {
        "ListenAddress": address,
        "Port": "22",
        "HostKey": str(keys.host_key),
        "AuthorizedKeysFile": str(keys.public_key),
        "PidFile": str(pid_file),
        "PermitRootLogin": "prohibit-password",
        "PasswordAuthentication": "no",
        "KbdInteractiveAuthentication": "no",
        "UsePAM": "no",
        "StrictModes": "no",  # the session key lives in a pytest temp dir, not in ~/.ssh
        "Subsystem": "sftp internal-sftp",  # Ansible copies files over sftp
        # These hosts share the machine's /root, whose ~/.bashrc (pyenv init) bash would run for
        # every SSH session: a cost no fresh Debian host has. Bash skips ~/.bashrc for a session
        # when it is not the first shell level, so the session starts at level 1.
        "SetEnv": "SHLVL=1",
    }
    return "".join(f"{key} {value}\n" for key, value in settings.items())


@dataclass
class SshHost(RemoteCommands):
    """One light host; stop() and start() let a test take it down and bring it back."""

    name: str
    address: str
    keys: LabKeys = field(repr=False)
    workdir: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def config_path(self) -> Path:
        return self.workdir / "sshd_config"

    @property
    def log_path(self) -> Path:
        return self.workdir / "sshd.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        if self.running:
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
        self.config_path.write_text(sshd_config(self.address, self.keys, self.workdir / "sshd.pid"))
        # -D: stay in the foreground so we own the process; -e: log to the log file.
        self.process = spawn_detached([str(SSHD), "-D", "-e", "-f", str(self.config_path)], self.log_path)
        atexit.register(self.stop)
        wait_until(self._accepts_ssh, START_TIMEOUT, f"sshd of {self.name} on {self.address}")

    def _accepts_ssh(self) -> bool:
        if not self.running:
            raise LabError(f"sshd of {self.name} exited; its log {self.log_path}:\n{self.log_path.read_text()}")
        return ssh_works(self.address, self.keys.private_key)

    def stop(self) -> None:
        """Stop sshd and its open sessions too, so no lingering ControlPersist connection reaches it."""
        atexit.unregister(self.stop)
        if self.process is not None:
            stop_process_tree(self.process, STOP_TIMEOUT)
            self.process = None


def start_ssh_hosts(count: int, keys: LabKeys, workdir: Path, name_prefix: str = "rb2a-ssh") -> list[SshHost]:
    """Start count hosts on free loopback addresses; on any failure, stop the ones already up."""
    if not SSHD.exists():
        raise LabError(f"{SSHD} is missing: run tools/install-test-system-deps.sh")
    hosts: list[SshHost] = []
    try:
        for address in claim_addresses(LIGHT_HOST_RANGE, count):
            name = f"{name_prefix}-{address.rsplit('.', 1)[1]}"
            host = SshHost(name=name, address=address, keys=keys, workdir=workdir / name)
            hosts.append(host)
            host.start()
    except BaseException:
        stop_ssh_hosts(hosts)
        raise
    return hosts


def stop_ssh_hosts(hosts: list[SshHost]) -> None:
    for host in hosts:
        host.stop()
