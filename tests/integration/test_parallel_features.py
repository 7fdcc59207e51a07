"""Parallel children that register results or hide their output, run for real on localhost."""

from __future__ import annotations

from tests.integration.conftest import task, write_runbook


def test_registered_results_and_hidden_output(rb2ansible, tmp_path):
    runbook = write_runbook(tmp_path / "rb", """
name: registers
tasks:
- name: together
  parallel:
  - name: count
    shell: sleep 1; echo 42
    register: counted
  - name: secret
    shell: echo the-secret-word
    no_log: true
- name: use it
  echo: "counted ${counted.stdout}, changed ${counted is changed}"
""")
    plan = rb2ansible("plan", str(runbook), results=False)
    assert "branch 1: count [shell]" in plan.stdout and "branch 2: secret [shell]" in plan.stdout

    done = rb2ansible("run", str(runbook))
    assert done.code == 0, done.stdout + done.stderr
    assert task(done.results, "use it")["msg"] == "counted 42, changed True"
    assert task(done.results, "secret")["status"] == "changed"  # the outcome, and nothing else of it
    assert "the-secret-word" not in done.stdout + done.stderr + str(done.results)
