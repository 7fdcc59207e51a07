"""Integration tests for rb2ansible.runbook.async_join: real async jobs on localhost via ansible-runner."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
import uuid
from pathlib import Path

import ansible_runner
import pytest
import yaml

from tests.helpers_collection import install_collection

JOIN = "rb2ansible.runbook.async_join"
HAS_PROC = Path("/proc/self").is_dir()


def launch(name, cmd, async_limit=60, **keywords):
    """A task that starts cmd in the background the way generated playbooks do."""
    return {"name": "Launch %s" % name, "ansible.builtin.shell": cmd, "async": async_limit, "poll": 0,
            "register": "rb2a_%s" % name, **keywords}


def job_id(name):
    return "{{ rb2a_%s.ansible_job_id | default('') }}" % name


class Localhost:
    """Runs one-play playbooks on localhost with the collection and a private async dir."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.async_dir = tmp_path / "async"
        self.collections = install_collection(tmp_path / "collections")
        self.runs = 0
        self.markers = []

    def marker(self):
        """A unique string to put in a job's command line, to find its processes."""
        self.markers.append("rb2a-test-%s" % uuid.uuid4().hex)
        return self.markers[-1]

    def join(self, jobs, **options):
        return {"name": "Join", JOIN: {"jobs": jobs, "async_dir": str(self.async_dir), **options}}

    def run(self, tasks):
        """Run the tasks; returns (runner status, {task name: (event name, result)})."""
        self.runs += 1
        data_dir = self.tmp_path / ("run%d" % self.runs)
        (data_dir / "project").mkdir(parents=True)
        (data_dir / "inventory").mkdir()
        play = [{"name": "Async join test", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]
        (data_dir / "project" / "site.yml").write_text(yaml.safe_dump(play, sort_keys=False))
        # interpreter discovery may pick a broken pyenv shim here; the test's own Python has ansible
        (data_dir / "inventory" / "hosts").write_text(
            "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
        runner = ansible_runner.run(
            private_data_dir=str(data_dir), playbook="site.yml", quiet=True,
            envvars={"ANSIBLE_COLLECTIONS_PATH": str(self.collections),
                     "ANSIBLE_ASYNC_DIR": str(self.async_dir)},
        )
        outcomes = {}
        for event in runner.events:
            if event["event"] in ("runner_on_ok", "runner_on_failed", "runner_on_skipped"):
                outcomes[event["event_data"]["task"]] = (event["event"], event["event_data"].get("res", {}))
        return runner.status, outcomes

    def job_files(self):
        return sorted(p.name for p in self.async_dir.iterdir()) if self.async_dir.exists() else []


@pytest.fixture
def localhost(tmp_path, monkeypatch):
    # ansible-runner starts `ansible-playbook` from PATH: use the one beside this Python
    venv_bin = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", os.pathsep.join([venv_bin, os.environ.get("PATH", "")]))
    host = Localhost(tmp_path)
    yield host
    # a failed test must not leave its 30 s jobs behind: the marked shells and their children
    table = live_processes()
    doomed = {pid for pid, (_, argv) in table.items() if any(m in arg for m in host.markers for arg in argv)}
    doomed |= {pid for pid, (ppid, _) in table.items() if ppid in doomed}
    for pid in doomed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def joined(outcomes):
    event, result = outcomes["Join"]
    assert event == "runner_on_ok", result
    return result


def live_processes():
    """{pid: (ppid, argv)} of the processes that are alive (zombies count as dead)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] not in ("Z", "X"):
            table[int(entry.name)] = (int(fields[1]), argv)
    return table


def marked_processes(marker):
    return [argv for _, argv in live_processes().values() if any(marker in arg for arg in argv)]


def wait_for_sleeps(marker, count, limit=20.0):
    """Pids of the marked shells and their `sleep` children once count of them are running."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        table = live_processes()
        shells = {pid for pid, (_, argv) in table.items() if any(marker in arg for arg in argv)}
        sleeps = {pid for pid, (ppid, argv) in table.items() if ppid in shells and argv[:1] == ["sleep"]}
        if len(sleeps) >= count:
            return shells | sleeps
        time.sleep(0.05)
    pytest.fail("the jobs' sleep processes did not start within %ss" % limit)


def test_wait_reports_every_job_and_does_not_fail_itself(localhost):
    status, outcomes = localhost.run([
        launch("good", "echo out; echo err >&2"),
        launch("bad", "echo bad; echo worse >&2; exit 3"),
        launch("never", "echo never", when=False),
        launch("whole", "echo whole"),
        localhost.join({"good": job_id("good"),
                        "bad": "{{ rb2a_bad.results_file | default('') }}",
                        "never": job_id("never"),
                        "whole": "{{ rb2a_whole }}"}),
    ])

    assert status == "successful"
    result = joined(outcomes)
    jobs = result["jobs"]
    assert (jobs["good"]["rc"], jobs["good"]["stdout"], jobs["good"]["stderr"]) == (0, "out", "err")
    assert (jobs["bad"]["rc"], jobs["bad"]["stdout"], jobs["bad"]["stderr"]) == (3, "bad", "worse")
    assert jobs["good"]["finished"] and not jobs["good"]["failed"]
    assert jobs["bad"]["finished"] and jobs["bad"]["failed"]
    assert jobs["never"]["skipped"] is True and jobs["never"]["failed"] is False
    assert jobs["whole"]["stdout"] == "whole"
    assert result["failed_jobs"] == ["bad"]
    assert result["unfinished_jobs"] == []
    assert result["changed"] is True
    for key in ("good", "bad", "whole"):
        assert isinstance(jobs[key]["start"], float) and jobs[key]["start"] <= jobs[key]["end"]
    assert localhost.job_files() == []


def test_concurrent_jobs_overlap_in_time(localhost):
    names = ["one", "two", "three"]
    # Ansible launches the jobs one after another at up to ~0.7 s each on a loaded machine, so
    # each job must outlast the launches of the others for all three to overlap.
    tasks = [launch(name, "sleep 3") for name in names]
    status, outcomes = localhost.run(tasks + [localhost.join({name: job_id(name) for name in names})])

    assert status == "successful"
    jobs = joined(outcomes)["jobs"]
    starts = [jobs[name]["start"] for name in names]
    ends = [jobs[name]["end"] for name in names]
    assert all(end - start >= 3.0 for start, end in zip(starts, ends)), (starts, ends)
    assert max(starts) < min(ends), (starts, ends)


def test_job_past_its_async_limit_comes_back_timed_out(localhost):
    status, outcomes = localhost.run([
        launch("slow", "sleep 5", async_limit=1),
        localhost.join({"slow": job_id("slow")}),
    ])

    assert status == "successful"
    result = joined(outcomes)
    slow = result["jobs"]["slow"]
    assert slow["failed"] is True and slow["timed_out"] is True
    assert "timed out" in slow["msg"]
    assert slow["end"] is not None
    assert result["failed_jobs"] == ["slow"]


@pytest.mark.skipif(not HAS_PROC, reason="checks processes through /proc")
def test_kill_leaves_no_process_and_no_job_file(localhost):
    marker = localhost.marker()
    # "stubborn" ignores SIGTERM, so it is only gone if SIGKILL follows
    status, outcomes = localhost.run([
        launch("plain", "sleep 30; echo %s" % marker, async_limit=120),
        launch("stubborn", "trap '' TERM; sleep 30; echo %s" % marker, async_limit=120),
    ])
    assert status == "successful"
    jids = {name: outcomes["Launch %s" % name][1]["ansible_job_id"] for name in ("plain", "stubborn")}
    pids = wait_for_sleeps(marker, count=2)

    status, outcomes = localhost.run([localhost.join({**jids, "never": ""}, mode="kill")])

    assert status == "successful"
    result = joined(outcomes)
    assert result["killed"] == ["plain", "stubborn"]
    assert result["failed_jobs"] == ["plain", "stubborn"]
    assert result["jobs"]["plain"]["killed"] is True
    assert result["jobs"]["never"]["skipped"] is True
    table = live_processes()
    assert pids.isdisjoint(table)
    assert not marked_processes(marker)
    assert localhost.job_files() == []


@pytest.mark.skipif(not HAS_PROC, reason="checks processes through /proc")
def test_join_timeout_keeps_the_job_for_kill(localhost):
    marker = localhost.marker()
    status, outcomes = localhost.run([
        launch("long", "sleep 30; echo %s" % marker, async_limit=120),
        localhost.join({"long": job_id("long")}, timeout=1),
        {"name": "Job files after the join gave up",
         "ansible.builtin.find": {"paths": str(localhost.async_dir)}, "register": "left"},
        {"name": "Kill", JOIN: {"jobs": {"long": job_id("long")}, "mode": "kill",
                                "async_dir": str(localhost.async_dir)}},
    ])

    assert status == "successful"
    result = joined(outcomes)
    assert result["unfinished_jobs"] == ["long"] and result["failed_jobs"] == ["long"]
    assert result["jobs"]["long"]["finished"] is False
    assert outcomes["Job files after the join gave up"][1]["matched"] == 1
    assert outcomes["Kill"][1]["killed"] == ["long"]
    assert not marked_processes(marker)
    assert localhost.job_files() == []


@pytest.mark.skipif(not HAS_PROC, reason="checks processes through /proc")
def test_kill_by_run_id_finds_unlisted_jobs_of_that_run_only(localhost):
    ours, theirs = localhost.marker(), localhost.marker()
    status, outcomes = localhost.run([
        launch("ours", "sleep 30; echo %s" % ours, async_limit=120, environment={"RB2A_RUN_ID": ours}),
        launch("theirs", "sleep 30; echo %s" % theirs, async_limit=120, environment={"RB2A_RUN_ID": theirs}),
    ])
    assert status == "successful"
    our_jid = outcomes["Launch ours"][1]["ansible_job_id"]
    wait_for_sleeps(ours, count=1)
    wait_for_sleeps(theirs, count=1)

    status, outcomes = localhost.run([localhost.join({}, mode="kill", run_id=ours)])

    assert status == "successful"
    assert joined(outcomes)["killed"] == [our_jid]
    assert not marked_processes(ours)
    assert marked_processes(theirs)
    assert our_jid not in localhost.job_files()
