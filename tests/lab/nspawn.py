"""Real Debian machines: systemd-nspawn containers booted from the cached rootfs, sshd on 127.0.1.N."""

from __future__ import annotations

import atexit
import subprocess
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from tests.lab import LabError
from tests.lab.addresses import MACHINE_RANGE, claim_addresses
from tests.lab.keys import LabKeys
from tests.lab.processes import spawn_detached, stop_process_tree, wait_until
from tests.lab.ssh_client import RemoteCommands

BOOT_TIMEOUT = 120
POWEROFF_TIMEOUT = 60
NSPAWN = Path("/usr/bin/systemd-nspawn")
BOOTING_STATES = {"initializing", "starting"}
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


@dataclass
class NspawnMachine(RemoteCommands):
    """One booted machine with its own overlay filesystem; the network is this machine's."""

    name: str
    address: str
    rootfs: Path
    keys: LabKeys = field(repr=False)
    workdir: Path
    process: subprocess.Popen | None = field(default=None, repr=False)
    binds: tuple[str, ...] = ()  # more systemd-nspawn --bind-ro options (software installed from outside)
    state: str = ""  # `systemctl is-system-running` once booted: running or degraded
    failed_units: list[str] = field(default_factory=list)

    @property
    def log_path(self) -> Path:
        return self.workdir / "nspawn.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _bind_file(self, filename: str, content: str, inside: str) -> str:
        path = self.workdir / filename
        path.write_text(content)
        return f"--bind-ro={path}:{inside}"

    def launch(self) -> None:
        """Start booting in the background; wait_ready() waits for the boot to finish."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        argv = [
            str(NSPAWN), "-q", "-D", str(self.rootfs), "-M", self.name,
            # The rootfs stays read-only and shared; each machine writes to its own tmpfs overlay.
            "--volatile=overlay", "-b",
            # The rootfs has an empty /etc/machine-id; without this every machine got the same id.
            f"--uuid={uuid.uuid4()}",
            # No system bus or systemd as PID 1 on this machine, so nspawn must not register a scope.
            "--register=no", "--keep-unit",
            # The session key is new each session, so it is bound in per boot, not baked in.
            f"--bind-ro={self.keys.public_key}:/root/.ssh/authorized_keys",
            # The network is shared: sshd must listen on this machine's address only, never 0.0.0.0:22.
            self._bind_file("lab.conf", f"ListenAddress {self.address}\n", "/etc/ssh/sshd_config.d/lab.conf"),
            self._bind_file("hostname", f"{self.name}\n", "/etc/hostname"),
            # Trust what this machine trusts: the registries here are reached through a TLS proxy
            # with its own CA. Installing ca-certificates in the machine picks this file up.
            f"--bind-ro={HOST_CA_BUNDLE}:/usr/local/share/ca-certificates/rb2a-lab-host.crt",
            *self.binds,
        ]
        self.process = spawn_detached(argv, self.log_path)
        atexit.register(self.poweroff)

    def _boot_state(self) -> str:
        if not self.running:
            raise LabError(f"{self.name} exited while booting; log {self.log_path}:\n{self._log_tail()}")
        result = self.run("systemctl is-system-running", timeout=15)
        state = result.stdout.strip()
        return "" if result.returncode == 255 or state in BOOTING_STATES else state

    def wait_ready(self) -> None:
        self.state = wait_until(self._boot_state, BOOT_TIMEOUT, f"{self.name} to boot and answer ssh on {self.address}")
        if self.state == "degraded":
            self._retry_failed_units()
        if self.state == "degraded":
            warnings.warn(f"lab machine {self.name} is degraded; failed units: {self.failed_units}", stacklevel=2)
        elif self.state != "running":
            raise LabError(f"{self.name} booted into state {self.state!r}")

    def _retry_failed_units(self) -> None:
        """Boot-time one-shot units (utmp, user sessions) sometimes lose a race with the shared
        host in a container boot; start them once more, as an admin would."""
        self.failed_units = self.ssh("systemctl list-units --failed --plain --no-legend | cut -d' ' -f1").split()
        if self.failed_units:
            self.run(f"systemctl reset-failed; systemctl start {' '.join(self.failed_units)}", timeout=60)
            self.state = self.run("systemctl is-system-running", timeout=15).stdout.strip()

    def poweroff(self) -> None:
        """Shut the machine down cleanly (its overlay is thrown away); force it if that hangs."""
        atexit.unregister(self.poweroff)
        if self.process is None:
            return
        if self.running:
            try:
                self.run("systemctl poweroff", timeout=15)  # the connection may drop: no status to check
            except subprocess.TimeoutExpired:
                pass
            try:
                self.process.wait(POWEROFF_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        stop_process_tree(self.process, 30, term_children=False)
        self.process = None

    def _log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def wildcard_ssh_listeners() -> list[str]:
    """Listeners on port 22 of every address (0.0.0.0, ::), which would make lab hosts collide."""
    out = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=True).stdout
    locals_ = [line.split()[3] for line in out.splitlines() if len(line.split()) > 3]
    return [a for a in locals_ if a in ("0.0.0.0:22", "*:22", "[::]:22")]


def boot_machines(count: int, rootfs: Path, keys: LabKeys, workdir: Path, first_number: int = 1,
                  binds: tuple[str, ...] = ()) -> list[NspawnMachine]:
    """Boot count machines in parallel, named rb2a-lab-<n>; on any failure, power off the ones started."""
    if not NSPAWN.exists():
        raise LabError(f"{NSPAWN} is missing: run tools/install-test-system-deps.sh")
    machines: list[NspawnMachine] = []
    try:
        for number, address in enumerate(claim_addresses(MACHINE_RANGE, count), start=first_number):
            name = f"rb2a-lab-{number}"
            machines.append(NspawnMachine(name=name, address=address, rootfs=rootfs, keys=keys, workdir=workdir / name,
                                          binds=binds))
            machines[-1].launch()
        for machine in machines:
            machine.wait_ready()
        if wildcard_ssh_listeners():
            raise LabError(f"something listens on {wildcard_ssh_listeners()} after booting {machines}")
    except BaseException:
        poweroff_machines(machines)
        raise
    return machines


def poweroff_machines(machines: list[NspawnMachine]) -> None:
    for machine in machines:
        machine.poweroff()
