"""Ctrl-C and timeouts: rb2ansible stops, reports, and leaves no job of the run behind."""

from __future__ import annotations

import uuid

from tests.integration.conftest import task, write_runbook
from tests.integration.lab_runs import interrupt_when, two_sleepers
from tests.lab.processes import wait_until
from tests.processes import with_marker


def test_sigint_during_parallel_block_stops_every_job(rb2ansible_command, tmp_path):
    marker = str(uuid.uuid4().int)[:6]
    runbook = write_runbook(tmp_path / "rb", two_sleepers(marker, f"{tmp_path}/afterwards"))
    run = interrupt_when([*rb2ansible_command, "run", str(runbook)], tmp_path / "results.json",
                         lambda: len(with_marker(f"30.{marker}")) >= 2, "both sleepers running")

    assert run.code == 1, run.stdout + run.stderr
    assert run.seconds_to_stop < 20, run.seconds_to_stop
    assert with_marker(f"30.{marker}") == []
    assert "Traceback" not in run.stdout + run.stderr
    assert run.report["status"] == "failed"
    assert task(run.report, "first sleeper")["status"] == "failed"
    assert task(run.report, "first sleeper")["msg"] == "interrupted"
    assert task(run.report, "afterwards")["status"] == "not_run"
    assert not (tmp_path / "afterwards").exists()


def test_timeouts_fail_the_task_and_kill_it(rb2ansible, tmp_path):
    marker = str(uuid.uuid4().int)[:6]
    runbook = write_runbook(tmp_path / "rb", f"""
name: timeouts
tasks:
- name: slow in the foreground
  shell: sleep 20.{marker}1
  timeout: 1
  ignore_errors: true
- name: group
  parallel:
  - name: slow in the background
    shell: sleep 20.{marker}2
    timeout: 1
  - name: quick
    shell: echo quick
""")
    done = rb2ansible("run", str(runbook))

    assert done.code == 1
    for name in ("slow in the foreground", "slow in the background"):
        result = task(done.results, name)
        assert result["status"] == "failed"
        assert result["msg"].startswith("timed out after 1s"), result["msg"]
        assert result["duration"] < 10
    assert task(done.results, "quick")["stdout"] == "quick"
    wait_until(lambda: with_marker(f"20.{marker}") == [], timeout=5, what="no timed-out command left")


def test_sigint_during_a_foreground_task_stops_its_command(rb2ansible_command, tmp_path):
    marker = str(uuid.uuid4().int)[:6]
    runbook = write_runbook(tmp_path / "rb", f"name: long\ntasks:\n- name: wait\n  shell: sleep 30.{marker}\n")
    run = interrupt_when([*rb2ansible_command, "run", str(runbook)], tmp_path / "results.json",
                         lambda: with_marker(f"30.{marker}"), "the command running")
    assert run.code == 1 and run.seconds_to_stop < 20
    assert with_marker(f"30.{marker}") == []
    assert task(run.report, "wait")["msg"] == "interrupted"
