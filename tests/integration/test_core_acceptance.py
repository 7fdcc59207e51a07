"""The core issue's acceptance points, run for real with ansible-runner on localhost."""

from __future__ import annotations

import os
import stat
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.integration.conftest import paper_example_copy, task, write_runbook
from tests.processes import with_marker


def seconds(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp).timestamp()


def test_hello_runs_on_localhost(rb2ansible):
    done = rb2ansible("run", str(ROOT / "runbooks" / "hello"))
    assert done.code == 0, done.stdout + done.stderr
    assert done.results["status"] == "successful"
    assert "Hello, world!" in task(done.results, "read the greeting")["stdout"]


def test_paper_example_runs_with_its_paths_in_a_temp_dir(rb2ansible, tmp_path):
    project, out = paper_example_copy(tmp_path, "echoed from var.yml")

    done = rb2ansible("run", str(project))

    assert done.code == 0, done.stdout + done.stderr
    leaves = [(t["path"], t["module"]) for t in done.results["tasks"]]
    assert leaves == [(["echo1"], "echo"), (["serial test", "copy file"], "file"),
                      (["serial test", "shell"], "shell"), (["test template"], "template")]
    assert task(done.results, "echo1")["msg"] == "echoed from var.yml"
    copied = (project / "files" / "somefile.files").read_text()
    assert task(done.results, "shell")["stdout"] == copied.rstrip("\n")
    for name in ("asdf", "blah"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o400
        assert (out / name).stat().st_uid == 1003
    assert (out / "asdf").read_text() == copied
    # The paper's template is an AutomateJS one: a JavaScript module Node renders with `variables`.
    assert (out / "blah").read_text() == "hello Anthony\n"


def test_file_and_template_without_mode_keep_their_source_files_mode(rb2ansible, tmp_path):
    """Not the mode of the export's copies, which are the user's alone (0600)."""
    out = tmp_path / "out"
    runbook = write_runbook(tmp_path / "rb", f"""
name: modes
tasks:
- name: script
  file: {{source: run.sh, destination: {out}/run.sh, mkdir: true}}
- name: shared
  file: {{source: shared.txt, destination: {out}/shared.txt}}
- name: config
  template: {{source: app.conf.j2, destination: {out}/app.conf, variables: {{listen_port: 8080}}}}
""", **{"files__run.sh": "#!/bin/sh\necho hi\n", "files__shared.txt": "for everyone\n",
        "templates__app.conf.j2": "port={{ listen_port }}\n"})
    (runbook / "files" / "run.sh").chmod(0o750)
    (runbook / "files" / "shared.txt").chmod(0o644)
    (runbook / "templates" / "app.conf.j2").chmod(0o640)

    done = rb2ansible("run", str(runbook))

    assert done.code == 0, done.stdout + done.stderr
    modes = {name: stat.S_IMODE((out / name).stat().st_mode) for name in ("run.sh", "shared.txt", "app.conf")}
    assert modes == {"run.sh": 0o750, "shared.txt": 0o644, "app.conf": 0o640}
    assert (out / "app.conf").read_text() == "port=8080\n"


# Today's engine launches a block's jobs one Ansible task after another (up to ~1 s each on a
# loaded machine), so a child must outlast the other launches for all six to overlap. Six
# `sleep 2` under CPU burners is the dispatcher's guarantee (tests/integration/test_parallel_action.py),
# and becomes this test's once the compiler emits it (docs/design/parallel.md, step 2).
CHILD_SECONDS = 8


def sleepers(flow: str, marker: str) -> str:
    children = "".join(f"  - name: sleep {n}\n    shell: sleep {CHILD_SECONDS}.{marker}{n}\n" for n in range(6))
    return f"name: six sleeps\ntasks:\n- name: sleepers\n  {flow}:\n{children}"


def test_parallel_children_overlap(rb2ansible, tmp_path):
    """Overlap is read from the recorded intervals; how much faster than serial is bench/parallel.py's to say."""
    marker = str(uuid.uuid4().int)[:6]
    parallel = rb2ansible("run", str(write_runbook(tmp_path / "p", sleepers("parallel", marker))))
    assert parallel.code == 0, parallel.stdout + parallel.stderr

    intervals = [(seconds(t["results"]["localhost"]["start"]), seconds(t["results"]["localhost"]["end"]))
                 for t in parallel.results["tasks"]]
    assert len(intervals) == 6
    assert max(start for start, _ in intervals) < min(end for _, end in intervals), intervals
    assert all(end - start >= CHILD_SECONDS for start, end in intervals)


def test_failed_child_lets_siblings_finish_and_stops_what_follows(rb2ansible, tmp_path):
    marker = str(uuid.uuid4().int)[:6]
    runbook = write_runbook(tmp_path / "f", f"""
name: one child fails
tasks:
- name: together
  parallel:
  - name: fails after a second
    shell: sleep 1.{marker}; echo broken >&2; exit 3
  - name: three seconds
    shell: sleep 3.{marker}; echo three
  - name: four seconds
    shell: sleep 4.{marker}; echo four
- name: afterwards
  shell: touch {tmp_path}/afterwards
""")
    done = rb2ansible("run", str(runbook))

    assert done.code == 1
    assert done.results["status"] == "failed"
    failing = task(done.results, "fails after a second")
    assert failing["status"] == "failed" and failing["rc"] == 3 and "broken" in failing["stderr"]
    for name, length, text in (("three seconds", 3, "three"), ("four seconds", 4, "four")):
        sibling = task(done.results, name)
        assert sibling["status"] == "changed" and sibling["stdout"] == text
        assert seconds(sibling["end"]) - seconds(sibling["start"]) >= length
    assert task(done.results, "afterwards")["status"] == "not_run"
    assert not (tmp_path / "afterwards").exists()
    assert with_marker(marker) == []
    assert "Traceback" not in done.stdout + done.stderr


def test_invalid_runbook_reports_everything_and_runs_nothing(rb2ansible, tmp_path):
    harmless = tmp_path / "harmless-ran"
    case = (ROOT / "tests" / "cases" / "invalid" / "three-mistakes.yml").read_text()
    runbook = tmp_path / "bad.yml"
    runbook.write_text(case.replace("/tmp/rb2a-should-not-exist", str(harmless)))

    for command in ("validate", "run"):
        done = rb2ansible(command, str(runbook))
        assert done.code == 2, command
        assert f"{runbook}:8:3: error: duplicate task name 'twice'" in done.stderr
        assert f"{runbook}:11:3: error: unknown module 'shel' (did you mean 'shell'" in done.stderr
        assert f"{runbook}:14:3: error: task 'greedy' has more than one module key" in done.stderr
        assert "Traceback" not in done.stdout + done.stderr
        assert done.results is None
    assert not harmless.exists()


def test_export_is_deterministic_and_runs_like_run(rb2ansible, tmp_path):
    runbook = write_runbook(tmp_path / "rb", f"""
name: export me
tasks:
- name: make directory
  ansible.builtin.file: {{path: "{tmp_path}/${{where}}", state: directory, mode: '0755'}}
- name: both
  parallel:
  - name: write a
    shell: echo a > {tmp_path}/${{where}}/a
  - name: write b
    template: {{source: b.j2, destination: "{tmp_path}/${{where}}/b", mode: '0644'}}
""", **{"var.yml": "where: via-run\n", "templates__b.j2": "b on {{ inventory_hostname }}\n"})
    one, two = tmp_path / "one", tmp_path / "two"
    assert rb2ansible("export", str(runbook), "-o", str(one)).code == 0
    assert rb2ansible("export", str(runbook), "-o", str(two)).code == 0
    assert tree(one) == tree(two)

    assert rb2ansible("run", str(runbook)).code == 0
    playbook = run([Path(os.sys.executable).parent / "ansible-playbook", "-e", "where=via-playbook",
                    "site.yml"], cwd=one / "project")
    assert playbook.returncode == 0, playbook.stdout
    runner = run([Path(os.sys.executable).parent / "ansible-runner", "run", str(two), "-p", "site.yml",
                  "--cmdline", "-e where=via-runner"], cwd=tmp_path)
    assert runner.returncode == 0, runner.stdout
    made = {name: tree(tmp_path / name) for name in ("via-run", "via-playbook", "via-runner")}
    assert made["via-run"] == made["via-playbook"] == made["via-runner"]
    assert set(made["via-run"]) == {"a", "b"}


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "artifacts" not in p.parts}


@pytest.mark.parametrize("runbook", [*sorted((ROOT / "runbooks").glob("*/run.yml")),
                                     *sorted((ROOT / "tests" / "cases" / "golden").glob("*/runbook/run.yml"))],
                         ids=lambda p: p.parent.relative_to(ROOT).as_posix())
def test_export_passes_ansible_lint_production(rb2ansible, tmp_path, runbook):
    assert rb2ansible("export", str(runbook.parent), "-o", str(tmp_path / "out")).code == 0
    # A project with Vault files is linted the way its users run it: with the vault password.
    vault = {"ANSIBLE_VAULT_PASSWORD_FILE": str(p)} if (p := runbook.parent / "demo-vault-pass.txt").exists() else {}
    lint = run([Path(os.sys.executable).parent / "ansible-lint", "--offline", "--profile", "production"],
               cwd=tmp_path / "out" / "project", **vault)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "Passed" in lint.stdout + lint.stderr


def run(command, cwd, **extra_env):
    """Run a tool as a user with rb2ansible's environment activated would (its bin/ on PATH)."""
    import subprocess

    env = {**os.environ, "PATH": f"{Path(os.sys.executable).parent}{os.pathsep}{os.environ['PATH']}", **extra_env}
    return subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=600,
                          env=env)
