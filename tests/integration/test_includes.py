"""Nested runbooks: `include` inside parallel and in order, each runbook its own role."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import ROOT
from tests.integration.conftest import task

CASE = ROOT / "tests" / "cases" / "golden" / "includes" / "runbook"


def test_included_twice_in_parallel_with_own_values_and_paths(rb2ansible, tmp_path):
    project = tmp_path / "includes"
    shutil.copytree(CASE, project)
    done = rb2ansible("run", str(project), "-e", f"out_dir={tmp_path}")

    assert done.code == 0, done.stdout + done.stderr
    paths = {"/".join(entry["path"]): entry for entry in done.results["tasks"]}
    assert list(paths) == ["twice/one/inner", "twice/one/render", "twice/two/inner", "twice/two/render",
                           "three/inner", "three/render"]
    assert paths["twice/one/inner"]["results"]["localhost"]["stdout"] == "alpha"
    assert paths["twice/two/inner"]["results"]["localhost"]["stdout"] == "default-word"
    assert paths["three/inner"]["results"]["localhost"]["stdout"] == "gamma"
    for word in ("alpha", "default-word", "gamma"):
        assert (tmp_path / f"{word}.txt").read_text() == f"the word is {word}\n"
    one, two = (paths[f"twice/{n}/inner"]["results"]["localhost"] for n in ("one", "two"))
    assert max(one["start"], two["start"]) < min(one["end"], two["end"]), "the two includes overlap"
    assert task(done.results, "render")["status"] == "changed"


def test_export_has_a_role_per_runbook_and_lints_clean(rb2ansible, tmp_path):
    assert rb2ansible("export", str(CASE), "-o", str(tmp_path / "out")).code == 0
    roles = tmp_path / "out" / "project" / "roles"
    assert sorted(p.name for p in roles.iterdir()) == ["includes", "sub"]
    assert "tasks_from: three" in (roles / "includes" / "tasks" / "main.yml").read_text()
    assert (roles / "sub" / "tasks" / "main.yml").is_file()
    env = {**os.environ, "PATH": f"{Path(os.sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    lint = subprocess.run(["ansible-lint", "--offline", "--profile", "production"], cwd=tmp_path / "out" / "project",
                          capture_output=True, text=True, env=env, timeout=600)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_include_cycles_and_missing_runbooks_are_located_errors(rb2ansible, tmp_path):
    (tmp_path / "a.yml").write_text("name: a\ntasks:\n- name: go to b\n  include: {runbook: b.yml}\n")
    (tmp_path / "b.yml").write_text("name: b\ntasks:\n- name: back to a\n  include: {runbook: a.yml}\n"
                                    "- name: nowhere\n  include: {runbook: missing/run.yml}\n")
    done = rb2ansible("validate", str(tmp_path / "a.yml"))
    assert done.code == 2
    assert f"{tmp_path}/b.yml:4:12: error: include cycle: a.yml -> b.yml -> a.yml" in done.stderr
    assert f"{tmp_path}/b.yml:6:12: error: included runbook not found" in done.stderr


def test_export_role_is_a_standalone_role_a_playbook_can_use(rb2ansible, tmp_path):
    out = tmp_path / "roles"
    done = rb2ansible("export", "--role", str(CASE), "-o", str(out), results=False)
    assert done.code == 0, done.stderr
    specs = (out / "sub" / "meta" / "argument_specs.yml").read_text()
    assert "word:" in specs and "default: default-word" in specs and "type: str" in specs
    env = {**os.environ, "PATH": f"{Path(os.sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    lint = subprocess.run(["ansible-lint", "--offline", "--profile", "production"], cwd=out,
                          capture_output=True, text=True, env=env, timeout=600)
    assert lint.returncode == 0, lint.stdout + lint.stderr

    (out / "use.yml").write_text(f"""- name: Use the exported role
  hosts: localhost
  connection: local
  gather_facts: false
  vars: {{ansible_python_interpreter: {os.sys.executable}, out_dir: {tmp_path}}}
  roles:
    - role: includes
""")
    played = subprocess.run(["ansible-playbook", "-i", "localhost,", "use.yml"], cwd=out, capture_output=True,
                            text=True, env=env, timeout=600)
    assert played.returncode == 0, played.stdout + played.stderr
    for word in ("alpha", "default-word", "gamma"):
        assert (tmp_path / f"{word}.txt").read_text() == f"the word is {word}\n"
