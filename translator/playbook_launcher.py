"""Starts ansible-playbook for ansible-runner so that the run dies with rb2ansible, even with `kill -9`.

ansible-runner starts ansible-playbook on a pty that ignores SIGHUP: if rb2ansible is killed outright,
the playbook would go on running the whole runbook unwatched. execute() puts a directory holding an
`ansible-playbook` that runs this module first on the run's PATH; it starts the real one as its child, in
its own process group (the pty's), and asks the kernel for SIGTERM when rb2ansible dies, upon which it
kills that whole group: ansible-playbook, its workers, their ssh clients and local commands. Commands
already running on remote hosts finish on their own (they are the run's to stop, and nothing is left
to stop them after a kill -9).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from pathlib import Path

PARENT_VARIABLE = "RB2A_PARENT_PID"
REAL_VARIABLE = "RB2A_ANSIBLE_PLAYBOOK"
_PR_SET_PDEATHSIG = 1


def write_shim(directory: Path, real_playbook: str) -> dict[str, str]:
    """An `ansible-playbook` in `directory` that runs main() below; returns the variables it needs."""
    directory.mkdir(parents=True, exist_ok=True)
    shim = directory / "ansible-playbook"
    shim.write_text(f"#!{sys.executable}\nimport sys\nfrom translator.playbook_launcher import main\n"
                    "sys.exit(main())\n")
    shim.chmod(0o700)
    return {PARENT_VARIABLE: str(os.getpid()), REAL_VARIABLE: real_playbook}


def main() -> int:
    parent = int(os.environ.pop(PARENT_VARIABLE, "0"))
    real = os.environ.pop(REAL_VARIABLE)
    signal.signal(signal.SIGTERM, _kill_the_group)
    _signal_when_parent_dies(signal.SIGTERM)
    if parent and os.getppid() != parent:  # rb2ansible died before the kernel could be asked
        _kill_the_group()
    playbook = subprocess.Popen([real, *sys.argv[1:]])
    code = playbook.wait()
    return code if code >= 0 else 128 - code


def _signal_when_parent_dies(signum: int) -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signum)


def _kill_the_group(*_signal_args) -> None:
    os.killpg(0, signal.SIGKILL)  # this process included: nothing is left to report to
