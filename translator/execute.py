"""Runs a compiled runbook with ansible-runner and stops every background job it leaves behind."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sysconfig
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from . import yamlout
from .emit import JOIN_MODULE, Compiled
from .errors import AnsibleRefused, ExecutionError
from .project import PROMPT_PATTERNS, RunSettings, write_project
from .results import RunResults

CLEANUP_PLAYBOOK = "rb2ansible_cleanup.yml"
Listener = Callable[[RunResults, "list[str]"], None]


@dataclass
class Execution:
    """One run: where it happened, and what ansible-runner said about it."""

    results: RunResults
    private_dir: Path
    runner_status: str
    runner_rc: int | None


def execute(compiled: Compiled, settings: RunSettings, private_dir: Path,
            on_change: Listener, interrupt: threading.Event, artifacts: Path | None = None) -> Execution:
    """Run the playbook; ansible-runner's artifacts (raw events, which may hold decrypted values)
    go to `artifacts` if given, else to a temporary directory removed afterwards, never into
    the project directory a user may hand over."""
    if artifacts is None:
        with tempfile.TemporaryDirectory(prefix="rb2ansible-artifacts-") as scratch:
            return execute(compiled, settings, private_dir, on_change, interrupt, Path(scratch))
    import ansible_runner

    write_project(compiled, private_dir, settings)
    results = RunResults(compiled)
    run_id = uuid.uuid4().hex

    def on_event(event: dict) -> bool:
        changed = results.feed(event)
        on_change(results, changed)
        return True

    runner = ansible_runner.run(
        private_data_dir=str(private_dir),
        playbook="site.yml",
        ident="run",
        event_handler=on_event,
        cancel_callback=interrupt.is_set,
        quiet=True,
        artifact_dir=str(artifacts),
        **_runner_options(settings, {"rb2a_run_id": run_id}),
    )
    if runner is None or runner.status == "error":
        raise ExecutionError(f"ansible-playbook could not run: {_tail(runner)}")
    if results.started is None and not interrupt.is_set():
        # Ansible stopped before its first play: bad inventory, vault password, option...
        raise AnsibleRefused(_ansible_errors(runner))
    if not results.hosts and runner.rc == 0 and not interrupt.is_set():
        # Ansible calls a play without hosts a success; for a deployment it is a mistake.
        raise AnsibleRefused(f"no host matched '{compiled.runbook.hosts}'"
                             f"{' with --limit ' + settings.limit if settings.limit else ''} in the inventory")
    leftovers = results.running_jobs()
    if leftovers or (interrupt.is_set() and results.hosts):
        # Interrupted or killed mid-block: background jobs may still run on the hosts, some
        # maybe launched too late for their event to arrive; the run id finds those.
        stop_jobs(private_dir, settings, {host: leftovers.get(host, {}) for host in results.hosts}, run_id,
                  become=compiled.uses_become, artifacts=artifacts)
    interrupted = interrupt.is_set() or runner.status in ("canceled", "timeout")
    results.finish(runner.rc == 0 and runner.status == "successful", time.time(), interrupted)
    on_change(results, [])
    return Execution(results, private_dir, runner.status, runner.rc)


def stop_jobs(private_dir: Path, settings: RunSettings, jobs: dict[str, dict[str, str]], run_id: str,
              become: bool, artifacts: Path) -> None:
    """Kill the given async jobs, and any other job of this run, on their hosts in one task per host."""
    import ansible_runner

    play = [{
        "name": "Stop the background jobs of an interrupted run",
        "hosts": ",".join(sorted(jobs)),
        "gather_facts": False,
        "tasks": [{
            "name": "Kill jobs",
            JOIN_MODULE: {"mode": "kill", "jobs": "{{ rb2a_jobs[inventory_hostname] | default({}) }}",
                          "run_id": run_id},
            **({"become": True} if become else {}),
        }],
    }]
    playbook = artifacts / CLEANUP_PLAYBOOK  # beside the run's artifacts, not in the user's project
    playbook.write_text(yamlout.document(play))
    options = _runner_options(replace(settings, check=False, diff=False, limit=None, tags=None),
                              {"rb2a_jobs": jobs})
    ansible_runner.run(private_data_dir=str(private_dir), playbook=str(playbook), ident="cleanup",
                       quiet=True, artifact_dir=str(artifacts), **options)


def _runner_options(settings: RunSettings, internal_vars: dict) -> dict:
    # The user's -e values reach Ansible through env/extravars, written with the project;
    # rb2ansible's own (run id, jobs to stop) go on the command line.
    options: dict = {"settings": {"suppress_ansible_output": True}, "envvars": {"PATH": _path_with_ansible()},
                     "extravars": internal_vars}
    if settings.inventories:
        options["inventory"] = [str(p.resolve()) for p in settings.inventories]
    if settings.limit:
        options["limit"] = settings.limit
    if settings.tags:
        options["tags"] = settings.tags
    if settings.forks:
        options["forks"] = settings.forks
    if settings.verbosity:
        options["verbosity"] = settings.verbosity
    cmdline = settings.cmdline()
    if cmdline:
        options["cmdline"] = shlex.join(cmdline)
    if settings.prompt_answers:
        options["passwords"] = {PROMPT_PATTERNS[kind]: answer for kind, answer in settings.prompt_answers.items()}
    return options


def _path_with_ansible() -> str:
    """PATH with the ansible-playbook installed beside rb2ansible first, even if its bin/ is not on PATH."""
    scripts = sysconfig.get_path("scripts")
    if not (Path(scripts) / "ansible-playbook").exists() and shutil.which("ansible-playbook") is None:
        raise ExecutionError("ansible-playbook not found: install rb2ansible with pip, which brings ansible-core")
    return os.pathsep.join([scripts, os.environ.get("PATH", "")])


def _ansible_errors(runner) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", _tail(runner))  # Ansible colours its output on a pty
    lines = [line for line in text.splitlines() if line.strip()]
    return "Ansible stopped before running any task:\n  " + "\n  ".join(lines[-10:])


def _tail(runner) -> str:
    if runner is None:
        return "no runner"
    try:
        return runner.stdout.read()[-2000:]
    except Exception:
        return runner.status
