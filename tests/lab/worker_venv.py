"""An execution node's software: ansible-runner and ansible-core (the controller's, or the newest the lab machines'
Python runs) in a cached venv."""

from __future__ import annotations

import fcntl
import re
import subprocess
from importlib.metadata import metadata, version
from pathlib import Path

from tests.lab import LabError
from tests.lab.rootfs import cache_dir
from translator import MIN_ANSIBLE_CORE

# The lab machines' own Python (bookworm's, as on this machine): a venv made with it runs inside them.
MACHINE_PYTHON = "/usr/bin/python3"
INSTALL_TIMEOUT = 900


def worker_packages() -> list[str]:
    """The controller's ansible-core and ansible-runner, which the machines' Python must be able to run."""
    from packaging.specifiers import SpecifierSet

    needs = metadata("ansible-core").get("Requires-Python") or ""
    machine = subprocess.run([MACHINE_PYTHON, "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True, check=True).stdout.strip()
    core = f"ansible-core=={version('ansible-core')}"
    if machine not in SpecifierSet(needs):
        # A node runs the playbook with its own ansible-core (the worker protocol carries ansible-runner's events,
        # as with AWX's execution environments): with a controller on 2.20+, which needs Python 3.12, the
        # bookworm machines take the newest core their 3.11 runs among those rb2ansible supports.
        core = f"ansible-core>={MIN_ANSIBLE_CORE},<2.20"
    return [core, f"ansible-runner=={version('ansible-runner')}"]


def ensure_worker_venv() -> Path:
    """The venv, made by pip with nothing else in it (no rb2ansible, no collection), built once and cached.

    pip inside a machine would reach the package index through the network on every boot (about a minute
    each, its overlay is thrown away at poweroff); built here once, it is bound into the machines read-only
    at the same path, so the scripts' interpreter lines hold there too."""
    try:
        packages = worker_packages()
    except subprocess.CalledProcessError as exc:
        raise LabError(f"{MACHINE_PYTHON} did not run: {exc}") from None
    target = cache_dir() / ("worker-venv-" + "-".join(re.sub(r"[^\w.]+", "_", p) for p in packages))
    complete = target / ".complete"  # written last: a venv without it was cut short and is built again
    cache_dir().mkdir(parents=True, exist_ok=True)
    with open(f"{target}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another pytest process may be building it; pip is bounded below
        if complete.exists():
            return target
        # Built in place: venv writes its own path into its scripts.
        subprocess.run(["rm", "-rf", "--one-file-system", str(target)], check=True)
        try:
            subprocess.run([MACHINE_PYTHON, "-m", "venv", str(target)], check=True, capture_output=True,
                           text=True, timeout=120)
            subprocess.run([str(target / "bin" / "pip"), "install", "-q", *packages], check=True,
                           capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
        except subprocess.CalledProcessError as exc:
            raise LabError(f"could not build the worker venv {target}: {(exc.stderr or '')[-2000:]}") from None
        complete.write_text(" ".join(packages) + "\n")
    return target


def worker_binds(venv: Path) -> list[str]:
    """systemd-nspawn options that install the venv on a machine: bound at its own path, and its bin/ as
    /usr/local/bin, so that `ansible-runner` and the `ansible-playbook` it starts are on PATH."""
    return [f"--bind-ro={venv}", f"--bind-ro={venv / 'bin'}:/usr/local/bin"]
