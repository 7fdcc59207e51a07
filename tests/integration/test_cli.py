"""The command line as a new user meets it: help, init, validate, plan, variable precedence."""

from __future__ import annotations

import json
import os
import stat
import sys
import threading

from tests.conftest import ROOT
from tests.integration.conftest import task, write_runbook


def test_help_teaches_every_command(rb2ansible):
    done = rb2ansible("--help", results=False)
    assert done.code == 0
    for command in ("run", "export", "validate", "plan", "init"):
        assert command in done.stdout
    run_help = rb2ansible("run", "--help", results=False)
    assert "Exit codes" in run_help.stdout and "--vault-password-file" in run_help.stdout


def test_init_scaffolds_a_project_that_runs_as_it_is(rb2ansible, tmp_path):
    project = tmp_path / "new"
    assert rb2ansible("init", str(project), results=False).code == 0
    assert (project / "run.yml").is_file() and (project / "var.yml").is_file()
    assert rb2ansible("validate", str(project)).code == 0
    done = rb2ansible("run", str(project), "-e", f"workdir={tmp_path}/work")
    assert done.code == 0, done.stdout + done.stderr
    assert (tmp_path / "work" / "note.txt").read_text().startswith("Hello from rb2ansible")
    again = rb2ansible("init", str(project), results=False)
    assert again.code == 2 and "already exists" in again.stderr


def test_validate_and_plan_describe_a_valid_runbook(rb2ansible):
    hello = ROOT / "runbooks" / "hello"
    validate = rb2ansible("validate", str(hello))
    assert validate.code == 0 and "ok (6 tasks)" in validate.stdout
    plan = rb2ansible("plan", str(hello))
    assert plan.code == 0
    assert "3. warm up: parallel, 3 children" in plan.stdout
    assert "branch 3: write the greeting [template]" in plan.stdout
    assert "all branches start together" in plan.stdout


def test_variable_precedence_runbook_vars_var_yml_vars_files_inventory_extra_vars(rb2ansible, tmp_path):
    runbook = write_runbook(tmp_path / "rb", """
name: precedence
vars: {a: vars, b: vars, c: vars, d: vars, e: vars}
vars_files: [more.yml]
tasks:
- name: show
  echo: "${a} ${b} ${c} ${d} ${e}"
""", **{"var.yml": "b: var.yml\nc: var.yml\nd: var.yml\ne: var.yml\n",
        "more.yml": "c: vars_files\nd: vars_files\ne: vars_files\n"})
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}"
                         " d=inventory e=inventory\n")
    done = rb2ansible("run", str(runbook), "-i", str(inventory), "-e", "e=extra")
    assert done.code == 0, done.stdout + done.stderr
    assert task(done.results, "show")["msg"] == "vars var.yml vars_files inventory extra"


def test_a_user_mistake_never_shows_a_traceback(rb2ansible, tmp_path):
    mistakes = [
        ("run", str(tmp_path / "missing.yml")),
        ("run", str(ROOT / "runbooks" / "hello"), "-e", "{broken"),
        ("run", str(ROOT / "runbooks" / "hello"), "--results", str(tmp_path / "no" / "such" / "r.json")),
        ("export", str(ROOT / "runbooks" / "hello"), "-o", str(ROOT / "runbooks")),
        ("validate", str(ROOT / "tests" / "cases" / "invalid" / "yaml-syntax.yml")),
        ("run", str(ROOT / "runbooks" / "hello"), "-i", str(ROOT / "README.md")),
        ("run", str(ROOT / "runbooks" / "hello"), "--limit", "no-such-host"),
    ]
    for args in mistakes:
        done = rb2ansible(*args, results=False)
        assert done.code == 2, (args, done.stderr)
        assert "Traceback" not in done.stdout + done.stderr, args


def test_results_into_a_pipe_go_through_it_and_leave_it_a_pipe(rb2ansible, tmp_path):
    """A rename over /dev/stdout or a FIFO would replace it with a file (as root, even /dev/null)."""
    fifo = tmp_path / "results.fifo"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    runbook = write_runbook(tmp_path / "rb", "name: piped\ntasks:\n- {name: say, echo: through the pipe}\n")
    done = rb2ansible("run", str(runbook), "--results", str(fifo), results=False)
    reader.join(timeout=60)

    assert done.code == 0, done.stdout + done.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert json.loads(received[0])["tasks"][0]["results"]["localhost"]["msg"] == "through the pipe"
