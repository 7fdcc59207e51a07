"""Running the spike's playbooks through ansible-runner and reading children's intervals back from its events."""

from __future__ import annotations

import datetime
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import ansible_runner

HERE = Path(__file__).resolve().parent
PROJECT = HERE / "project"
VAULT_PASSWORD = PROJECT / "demo-vault-pass.txt"
CHILD_EVENTS = ("runner_on_ok", "runner_on_failed", "runner_on_skipped", "runner_on_unreachable")


def local_inventory(directory: Path) -> Path:
    """localhost as rb2ansible's embedded default inventory has it: the local connection, the controller's Python."""
    path = directory / "local.ini"
    path.write_text("localhost ansible_connection=local ansible_python_interpreter='{{ ansible_playbook_python }}'\n")
    return path


@dataclass
class Interval:
    uuid: str
    name: str
    host: str
    start: float
    end: float = float("nan")
    status: str = "running"


@dataclass
class Run:
    elapsed: float
    cpu: float  # user + system seconds of ansible-playbook and every process it waited for (not remote ones)
    status: str
    rc: int
    events: list[dict] = field(repr=False)
    stdout: str = field(repr=False)
    artifacts: Path | None = None

    def intervals(self, host: str | None = None) -> dict[str, Interval]:
        """Each task's interval per the live events: runner_on_start .created to its result's .created."""
        found: dict[str, Interval] = {}
        for event in self.events:
            data = event.get("event_data", {})
            if host is not None and data.get("host") != host:
                continue
            key = f"{data.get('host')}/{data.get('task_uuid')}"
            created = _timestamp(event["created"])
            if event["event"] == "runner_on_start":
                found[key] = Interval(data["task_uuid"], data.get("task", ""), data.get("host", ""), created)
            elif event["event"] in CHILD_EVENTS and key in found:
                found[key].end = created
                found[key].status = event["event"].removeprefix("runner_on_")
        return found

    def by_name(self, host: str) -> dict[str, Interval]:
        return {i.name: i for i in self.intervals(host).values()}

    def results_of(self, task_name: str) -> list[dict]:
        return [e["event_data"] for e in self.events
                if e["event"] in CHILD_EVENTS and e["event_data"].get("task") == task_name]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timestamp(text: str) -> float:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC).timestamp()


def run_playbook(playbook: str, inventory: Path, *, extravars: dict | None = None, vault: bool = False,
                 binary: str | None = None, keep: bool = False, timeout: int = 600) -> Run:
    """One ansible-runner run of project/<playbook>; binary picks another ansible-core's ansible-playbook."""
    scratch = Path(tempfile.mkdtemp(prefix="spikeb-run-"))
    cmdline = f"--vault-password-file {VAULT_PASSWORD}" if vault else None
    bin_dir = str(Path(binary).parent) if binary else str(Path(sys.executable).parent)
    envvars = {
        "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg"),
        "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")]),
        # ansible-runner sets its own callback; the shim must stay enabled beside it.
        "ANSIBLE_CALLBACKS_ENABLED": "spike.dispatch.child_start",
    }
    if binary:
        # With another binary ansible-runner builds no ansible-playbook command line: give it the whole of it.
        (scratch / "extravars.json").write_text(json.dumps(extravars or {}))
        cmdline = " ".join(filter(None, [playbook, f"-e @{scratch / 'extravars.json'}", cmdline]))
    started, cpu_before = time.monotonic(), _children_cpu()
    runner = ansible_runner.run(
        private_data_dir=str(scratch), project_dir=str(PROJECT), playbook=playbook, inventory=str(inventory),
        extravars=extravars or {}, cmdline=cmdline, envvars=envvars, quiet=True, binary=binary, timeout=timeout,
    )
    elapsed = time.monotonic() - started
    run = Run(elapsed, _children_cpu() - cpu_before, runner.status, runner.rc, list(runner.events),
              runner.stdout.read(), scratch if keep else None)
    if not keep:
        shutil.rmtree(scratch, ignore_errors=True)
    return run


def overlap(intervals: list[Interval]) -> float:
    """Seconds during which all intervals ran at once (negative: the gap that keeps them apart)."""
    return min(i.end for i in intervals) - max(i.start for i in intervals)
