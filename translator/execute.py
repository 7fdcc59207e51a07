"""Runs a private data directory with ansible-runner (here, or on execution nodes) and stops every process a
failed run leaves on its hosts."""

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import worker, yamlout
from .emit import STOP_MODULE, Compiled
from .errors import AnsibleRefused, ExecutionError
from .inventory import KEY_DIR_VAR
from .inventory_copy import key_directory
from .playbook_launcher import write_shim
from .project import PROMPT_PATTERNS, PrivateDir, RunSettings, write_project
from .results import RunResults
from .tag_selection import TagSelection
from .worker import Workers

CLEANUP_PLAYBOOK = "rb2ansible_cleanup.yml"
Listener = Callable[[RunResults, "list[str]"], None]
AnsibleOutput = Callable[[str], None]  # receives what ansible-playbook itself printed, event by event


@dataclass
class Execution:
    """One run: where it happened, and what ansible-runner said about it."""

    results: RunResults
    private_dir: Path
    runner_status: str
    runner_rc: int | None


def execute(compiled: Compiled, settings: RunSettings, private_dir: Path, on_change: Listener,
            interrupt: threading.Event, artifacts: Path | None = None,
            on_output: AnsibleOutput | None = None, workers: Workers | None = None) -> Execution:
    """Write the private data directory exactly as `export` does, then run that directory: everything that
    shapes the run is read from it (env/cmdline, env/extravars, inventory/); only what must not be written
    there is added in memory: passwords and where they come from, -e values that look secret, the run id.
    With `workers`, the directory runs on those execution nodes instead (translator/worker.py), its events
    feeding the same results, so the live view, the results file and Ctrl-C work as for a run here.

    ansible-runner's artifacts (raw events, which may hold decrypted values) go to `artifacts` if given,
    else to a temporary directory removed afterwards, never into the directory a user may hand over.
    `on_output`, if given, is shown Ansible's own output (with -vvv, its verbose output)."""
    if artifacts is None:
        with tempfile.TemporaryDirectory(prefix="rb2ansible-artifacts-") as scratch:
            return execute(compiled, settings, private_dir, on_change, interrupt, Path(scratch), on_output, workers)
    import ansible_runner

    written = write_project(compiled, private_dir, settings)
    results = RunResults(compiled, selection=TagSelection.from_options(settings.tags, settings.skip_tags))
    run_id = uuid.uuid4().hex
    feeding = threading.Lock()  # slices stream their events from threads of their own
    # Paths of this machine the directory names relatively (AutomateJS key files): given, never written.
    machine_paths = {KEY_DIR_VAR: str(key_directory(settings.inventories, compiled.runbook.directory))}

    def on_event(event: dict) -> bool:
        with feeding:
            if on_output is not None and event.get("stdout"):
                on_output(event["stdout"])
            changed = results.feed(event)
            on_change(results, changed)
        return True

    if workers is None:
        runner = ansible_runner.run(
            private_data_dir=str(written.path),
            playbook="site.yml",
            ident="run",
            event_handler=on_event,
            cancel_callback=interrupt.is_set,
            quiet=True,
            artifact_dir=str(artifacts),
            **_runtime_options(written, settings, written.recorded_cmdline(), artifacts / "run-vars.yml",
                               {"rb2a_run_id": run_id, **machine_paths}),
        )
        slices = [runner]
    else:
        slices = worker.run_sliced(workers, written, settings, {"rb2a_run_id": run_id}, on_event, interrupt,
                                   artifacts, lambda: _list_hosts(written, settings, artifacts, interrupt))
        worker.check_reached(slices)
        runner = worker.combined(slices)
    if runner is None or runner.status == "error":
        raise ExecutionError(f"ansible-playbook could not run: {_tail(runner)}")
    if results.started is None and not interrupt.is_set():
        # Ansible stopped before its first play: bad inventory, vault password, option...
        raise AnsibleRefused(_ansible_errors(runner, written))
    if not results.hosts and compiled.leaves and runner.rc == 0 and not interrupt.is_set():
        mistake = _why_nothing_ran(runner, compiled, settings)
        if mistake:
            raise AnsibleRefused(mistake)
    if results.hosts and (interrupt.is_set() or runner.status != "successful" or results.any_failed()):
        # A child interrupted, timed out or cut off from the controller may still run on its host, and so may
        # what it started: every process of the run carries the run id, which finds them. On execution nodes,
        # each slice's node does it for its hosts (they may be reachable from there only).
        if workers is None:
            stop_run(written, settings, results.hosts, run_id, become=compiled.uses_become, artifacts=artifacts,
                     machine_paths=machine_paths)
        for number, one in enumerate(slices if workers is not None else [], start=1):
            hosts = [host for host in results.hosts if one.covers(host)]
            if hosts:
                worker.stop_on_node(workers, one, cleanup_play(hosts, run_id, compiled.uses_become),
                                    artifacts / f"cleanup-{number}")
    interrupted = interrupt.is_set() or runner.status in ("canceled", "timeout")
    results.finish(runner.rc == 0 and runner.status == "successful", time.time(), interrupted)
    on_change(results, [])
    return Execution(results, written.path, runner.status, runner.rc)


def inspect_play(compiled: Compiled, settings: RunSettings, private_dir: Path, flags: list[str]) -> str:
    """What ansible-playbook prints for the directory's play with `flags` (--list-hosts, --list-tasks,
    --syntax-check), which run nothing: the directory is written as for a run and given the same options."""
    import ansible_runner

    with tempfile.TemporaryDirectory(prefix="rb2ansible-artifacts-") as scratch:
        artifacts = Path(scratch)
        written = write_project(compiled, private_dir, settings)
        options = _runtime_options(written, settings, [*written.recorded_cmdline(), *flags],
                                   artifacts / "run-vars.yml", {})
        options["envvars"]["ANSIBLE_NOCOLOR"] = "1"  # what it prints is shown as it is, piped or not
        runner = ansible_runner.run(private_data_dir=str(written.path), playbook="site.yml", ident="inspect",
                                    quiet=True, artifact_dir=str(artifacts), **options)
        if runner is None or runner.status == "error":
            raise ExecutionError(f"ansible-playbook could not run: {_tail(runner)}")
        if runner.rc != 0:
            raise AnsibleRefused(_ansible_errors(runner, written, stopped="Ansible refused the play"))
        return runner.stdout.read().replace("\r\n", "\n")


def _why_nothing_ran(runner, compiled: Compiled, settings: RunSettings) -> str | None:
    """The user's mistake behind a run in which no host ran a task, if it was one. Ansible calls a play
    without hosts a success; for a deployment it is a mistake. (Without tasks, as `automatejs init` writes it,
    no host is ever reached: nothing tells whether one matched.) --tags may rightly choose no task at all."""
    chosen = settings.tags or settings.skip_tags or settings.start_at_task
    if not chosen or any(event.get("event") == "playbook_on_no_hosts_matched" for event in runner.events):
        return (f"no host matched '{compiled.runbook.hosts}'"
                f"{' with --limit ' + settings.limit if settings.limit else ''} in the inventory")
    if settings.start_at_task and "No matching task" in _tail(runner):
        return (f"--start-at-task '{settings.start_at_task}': no task of the play has that name (a task inside "
                "a parallel block cannot be started at: the block runs as one task)")
    return None


def _list_hosts(written: PrivateDir, settings: RunSettings, artifacts: Path, interrupt: threading.Event) -> str:
    """What `ansible-playbook --list-hosts` says of the directory, with the run's own options: the hosts a
    sliced run cuts up are exactly the ones the play would target."""
    import ansible_runner

    runner = ansible_runner.run(private_data_dir=str(written.path), playbook="site.yml", ident="list-hosts",
                                quiet=True, artifact_dir=str(artifacts), cancel_callback=interrupt.is_set,
                                **_runtime_options(written, settings, [*written.recorded_cmdline(), "--list-hosts"],
                                                   artifacts / "list-hosts-vars.yml", {}))
    if runner.rc != 0:
        raise AnsibleRefused(_ansible_errors(runner, written))
    return runner.stdout.read()


def stop_run(written: PrivateDir, settings: RunSettings, hosts: list[str], run_id: str, become: bool,
             artifacts: Path, machine_paths: dict[str, str]) -> None:
    """Kill every process of this run still alive on its hosts (async jobs included), in one task per host."""
    import ansible_runner

    playbook = artifacts / CLEANUP_PLAYBOOK  # beside the run's artifacts, not in the user's project
    playbook.write_text(cleanup_play(hosts, run_id, become))
    # Not env/cmdline: its --limit, --tags or --check must not keep a process from being stopped; only how the
    # hosts are reached (-u, -c, -T, -b...).
    options = _runtime_options(written, settings, settings.connection_options(), artifacts / "cleanup-vars.yml",
                               machine_paths)
    ansible_runner.run(private_data_dir=str(written.path), playbook=str(playbook), ident="cleanup",
                       quiet=True, artifact_dir=str(artifacts), **options)


def cleanup_play(hosts: list[str], run_id: str, become: bool) -> str:
    """The playbook that kills every process of this run still alive on `hosts`."""
    return yamlout.document([{
        "name": "Stop what the run left on its hosts",
        "hosts": ",".join(sorted(hosts)),
        "gather_facts": False,
        "tasks": [{
            "name": "Kill the run's processes",
            STOP_MODULE: {"run_id": run_id},
            "ignore_unreachable": True,
            **({"become": True} if become else {}),
        }],
    }])


def _runtime_options(written: PrivateDir, settings: RunSettings, recorded: list[str], vars_file: Path,
                     internal_vars: dict[str, Any]) -> dict[str, Any]:
    """ansible-runner's options for a run of `written`: the directory's own command line (a `cmdline`
    given here replaces env/cmdline, so it is passed on) and what is added in memory only."""
    secrets = written.secrets
    _write_private(vars_file, yamlout.document({**secrets.withheld_values, **internal_vars}))
    cmdline = [*recorded, *(arg for path in secrets.withheld_files for arg in ("-e", f"@{path}")),
               *settings.credential_options(), "-e", f"@{vars_file}"]
    # suppress_env_files: ansible-runner would otherwise write these options (passwords typed at a prompt,
    # this machine's PATH, the path of a temporary vars file) into the directory's env/, which
    # `run --export` keeps: given here, they stay in memory.
    # ansible-playbook as ansible-runner finds it on PATH: our launcher, which dies with this process
    playbook = _ansible_playbook()
    launcher = write_shim(vars_file.parent / "bin", playbook)
    path = os.pathsep.join([str(vars_file.parent / "bin"), str(Path(playbook).parent), os.environ.get("PATH", "")])
    options: dict[str, Any] = {"envvars": {"PATH": path, **launcher, **settings.strategy_env},
                               "cmdline": shlex.join(cmdline),
                               "suppress_env_files": True}
    if settings.prompt_answers:
        options["passwords"] = {PROMPT_PATTERNS[kind]: answer for kind, answer in settings.prompt_answers.items()}
    return options


def _write_private(path: Path, text: str) -> None:
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.write(text)


def _ansible_playbook() -> str:
    """The ansible-playbook installed beside rb2ansible, even if its bin/ is not on PATH; else PATH's."""
    beside = Path(sysconfig.get_path("scripts")) / "ansible-playbook"
    found = str(beside) if beside.exists() else shutil.which("ansible-playbook")
    if found is None:
        raise ExecutionError("ansible-playbook not found: install rb2ansible with pip, which brings ansible-core")
    return found


def _ansible_errors(runner, written: PrivateDir, stopped: str = "Ansible stopped before running any task") -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", _tail(runner))  # Ansible colours its output on a pty
    # A file copied into the directory (a Vault file, inventory vars) is named as the user's own file.
    for copy, origin in sorted(written.origins.items(), key=lambda item: -len(str(item[0]))):
        text = text.replace(str(copy), str(origin))
    lines = [line for line in text.splitlines() if line.strip()]
    return f"{stopped}:\n  " + "\n  ".join(lines[-10:])


def _tail(runner) -> str:
    if runner is None:
        return "no runner"
    try:
        return runner.stdout.read()[-2000:]
    except Exception:
        return runner.status
