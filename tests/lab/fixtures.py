"""pytest fixtures that bring the lab's hosts up for a test session and always take them down again."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.lab import LabError
from tests.lab.keys import LabKeys, make_lab_keys
from tests.lab.nspawn import NSPAWN, NspawnMachine, boot_machines, poweroff_machines
from tests.lab.rootfs import DEBOOTSTRAP, ensure_rootfs
from tests.lab.ssh_hosts import SSHD, SshHost, start_ssh_hosts, stop_ssh_hosts
from tests.lab.worker_venv import ensure_worker_venv, worker_binds

INSTALL_HINT = "run tools/install-test-system-deps.sh (as root) first"


def _require(tools: list[str]) -> None:
    # Missing tools are a broken setup, never a reason to skip: the tests would silently not run.
    missing = [tool for tool in tools if not (shutil.which(tool) or Path(tool).exists())]
    if missing:
        pytest.fail(f"test lab needs {', '.join(missing)}: {INSTALL_HINT}", pytrace=False)
    if os.geteuid() != 0:
        pytest.fail("test lab needs root (sshd on port 22, systemd-nspawn)", pytrace=False)


def _fail_on_lab_error(error: LabError) -> None:
    pytest.fail(f"test lab: {error}", pytrace=False)


@pytest.fixture(scope="session")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lab")


@pytest.fixture(scope="session")
def lab_keys(lab_dir: Path) -> LabKeys:
    _require(["ssh", "ssh-keygen"])
    return make_lab_keys(lab_dir / "keys")


@pytest.fixture(scope="session")
def ssh_host_factory(lab_keys: LabKeys, lab_dir: Path) -> Iterator[Callable[[int], list[SshHost]]]:
    """Call with a count to start that many more light hosts; all are stopped at session end."""
    _require([str(SSHD)])
    started: list[SshHost] = []

    def start(count: int) -> list[SshHost]:
        try:
            hosts = start_ssh_hosts(count, lab_keys, lab_dir / "ssh")
        except LabError as error:
            _fail_on_lab_error(error)
        started.extend(hosts)
        return hosts

    try:
        yield start
    finally:
        stop_ssh_hosts(started)


@pytest.fixture(scope="session")
def ssh_hosts(ssh_host_factory: Callable[[int], list[SshHost]]) -> list[SshHost]:
    """Three light hosts; a test that stop()s one must start() it again before it ends."""
    return ssh_host_factory(3)


@pytest.fixture(scope="session")
def nspawn_rootfs() -> Path:
    """The cached bookworm rootfs, built by debootstrap on first use (about a minute)."""
    _require([str(DEBOOTSTRAP), str(NSPAWN)])
    try:
        return ensure_rootfs()
    except LabError as error:
        _fail_on_lab_error(error)


@pytest.fixture(scope="session")
def nspawn_machine_factory(
    nspawn_rootfs: Path, lab_keys: LabKeys, lab_dir: Path
) -> Iterator[Callable[[int], list[NspawnMachine]]]:
    """Call with a count (and more systemd-nspawn --bind-ro options) to boot that many more machines
    (rb2a-lab-N); all power off at session end."""
    booted: list[NspawnMachine] = []

    def boot(count: int, binds: tuple[str, ...] = ()) -> list[NspawnMachine]:
        try:
            machines = boot_machines(count, nspawn_rootfs, lab_keys, lab_dir / "nspawn", first_number=len(booted) + 1,
                                     binds=binds)
        except LabError as error:
            _fail_on_lab_error(error)
        booted.extend(machines)
        return machines

    try:
        yield boot
    finally:
        poweroff_machines(booted)


@pytest.fixture(scope="session")
def worker_machines(nspawn_machine_factory: Callable[..., list[NspawnMachine]]) -> list[NspawnMachine]:
    """Two execution nodes: booted Debian machines with ansible-runner and ansible-core (the controller's
    versions) installed by pip, and nothing of rb2ansible."""
    try:
        venv = ensure_worker_venv()
    except LabError as error:
        _fail_on_lab_error(error)
    return nspawn_machine_factory(2, tuple(worker_binds(venv)))


@pytest.fixture(scope="session")
def nspawn_machines(nspawn_machine_factory: Callable[[int], list[NspawnMachine]]) -> list[NspawnMachine]:
    """Two booted Debian machines, rb2a-lab-1 and rb2a-lab-2."""
    return nspawn_machine_factory(2)
