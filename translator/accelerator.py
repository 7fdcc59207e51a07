"""`run --fast`: Mitogen's strategy for one run when it can serve the runbook, or why not (the run goes on without it).

Mitogen keeps one Python interpreter per host for the whole run instead of starting one for every task,
and runs modules in it. rb2ansible gives Ansible its strategy through the run's environment only: the
directory `run` writes (and `export`) stays a plain Ansible project.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from .emit import Compiled
from .model import ModuleCall

INSTALL = "pip install 'rb2ansible[fast]'"
# The ansible-core releases Mitogen 0.3.54 supports and rb2ansible's tests run it on.
SUPPORTED_CORES = ((2, 18), (2, 21))


@dataclass(frozen=True)
class Acceleration:
    environment: dict[str, str] = field(default_factory=dict)  # for ansible-playbook, at run time only
    declined: str | None = None  # why the run goes without Mitogen


def mitogen(compiled: Compiled, on_workers: bool) -> Acceleration:
    """Mitogen's linear strategy for this run, unless something in the runbook or the machine rules it out."""
    problem = _runbook_problem(compiled, on_workers) or _installation_problem()
    if problem is not None:
        return Acceleration(declined=problem)
    spec = importlib.util.find_spec("ansible_mitogen")
    strategies = Path(spec.origin).parent / "plugins" / "strategy"
    return Acceleration({"ANSIBLE_STRATEGY_PLUGINS": str(strategies), "ANSIBLE_STRATEGY": "mitogen_linear"})


def _runbook_problem(compiled: Compiled, on_workers: bool) -> str | None:
    if any(ref.kind == "parallel" for ref in compiled.sites.values()):
        # Seen on the bench: children fail with "Cookie incorrect" and "Bad file descriptor". A block's children
        # run in threads of one Ansible worker, and Mitogen's connection state in a worker is not made for that.
        return "its parallel blocks run their children in threads of one Ansible worker, which Mitogen does not support"
    if compiled.runbook.strategy != "linear":
        return f"the runbook asks for Ansible's '{compiled.runbook.strategy}' strategy, and Mitogen is a strategy"
    if on_workers:
        return "execution nodes (--worker) would need Mitogen installed too"
    if all(_needs_no_python(leaf) for leaf in compiled.leaves):
        # W1 (bench/per_task.py): 50 command lines on 3 hosts took longer under Mitogen than without it.
        return ("every task is a command line or an echo, which run without Python on the hosts: Mitogen would "
                "only add its start-up")
    return None


def _needs_no_python(leaf: ModuleCall) -> bool:
    """A leaf that runs without a Python module on the host: echo (the controller's), or a shell command line
    that rb2ansible's shell action runs through the connection (not creates/removes/stdin or a timeout's job)."""
    if leaf.module == "echo":
        return True
    args = leaf.args
    return leaf.module == "shell" and not (args.creates or args.removes or args.stdin or args.timeout
                                           or leaf.options.timeout)


def _installation_problem() -> str | None:
    if importlib.util.find_spec("ansible_mitogen") is None:
        return f"Mitogen is not installed ({INSTALL})"
    from ansible.release import __version__ as core_version

    release = tuple(int(part) for part in core_version.split(".")[:2])
    oldest, newest = SUPPORTED_CORES
    if not oldest <= release <= newest:
        return (f"ansible-core {core_version} is not one Mitogen is known to run with "
                f"({'.'.join(map(str, oldest))} to {'.'.join(map(str, newest))})")
    return None
