"""`export` writes what `run` executes: inventories with their vars, every option in env/, on real runs.

Hosts here are inventory names on the local connection, each writing marker files under its own name.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from tests.integration.conftest import task, write_runbook

BIN = Path(sys.executable).parent
LOCAL = f"ansible_connection=local ansible_python_interpreter={sys.executable}"


def tool(*command: str, cwd: Path) -> subprocess.CompletedProcess:
    """An Ansible tool as a user with rb2ansible's environment activated runs it."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "ANSIBLE_NOCOLOR": "1"}
    done = subprocess.run([str(BIN / command[0]), *command[1:]], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def host_vars(inventory: list[str], host: str, cwd: Path) -> dict:
    sources = [arg for path in inventory for arg in ("-i", path)]
    return json.loads(tool("ansible-inventory", *sources, "--host", host, cwd=cwd).stdout)


def test_group_vars_beside_an_inventory_file_reach_run_export_and_ansible_playbook(rb2ansible, tmp_path):
    inventory = tmp_path / "inv" / "hosts.ini"
    (inventory.parent / "group_vars").mkdir(parents=True)
    (inventory.parent / "host_vars").mkdir()
    inventory.write_text(f"[web]\nweb1 {LOCAL}\n")
    (inventory.parent / "group_vars" / "web.yml").write_text("greeting: from-group-vars\n")
    (inventory.parent / "host_vars" / "web1.yml").write_text("place: from-host-vars\n")
    runbook = write_runbook(tmp_path / "rb",
                            "name: show\nhosts: web\ntasks:\n- name: say\n  echo: ${greeting} ${place}\n")

    ran = rb2ansible("run", str(runbook), "-i", str(inventory))
    exported = rb2ansible("export", str(runbook), "-i", str(inventory), "-o", str(tmp_path / "out"))

    assert ran.code == 0 and exported.code == 0, ran.stderr + exported.stderr
    assert task(ran.results, "say", "web1")["msg"] == "from-group-vars from-host-vars"
    playbook = tool("ansible-playbook", "site.yml", cwd=tmp_path / "out" / "project")
    assert '"msg": "from-group-vars from-host-vars"' in playbook.stdout
    assert (tmp_path / "out" / "inventory" / "group_vars" / "web.yml").is_file()
    assert "Copied, not referenced" in (tmp_path / "out" / "README.md").read_text()
    assert str(tmp_path) not in "".join(p.read_text(errors="replace") for p in (tmp_path / "out").rglob("*")
                                        if p.is_file() and "collections" not in p.parts)


def test_several_inventories_keep_their_precedence_in_the_export(rb2ansible, tmp_path):
    """Two -i sources, each with group_vars: Ansible's view of the copy is Ansible's view of the originals."""
    first = tmp_path / "first" / "hosts.ini"
    (first.parent / "group_vars" / "web").mkdir(parents=True)
    first.write_text(f"[web]\nweb1 {LOCAL}\n")
    (first.parent / "group_vars" / "web" / "a.yml").write_text("greeting: first\nonly_first: kept\n")
    (first.parent / "group_vars" / "web" / "b.yml").write_text("order: first-b\n")
    second = tmp_path / "second"
    (second / "group_vars").mkdir(parents=True)
    (second / "host_vars").mkdir()
    (second / "hosts.yml").write_text(f"web:\n  hosts:\n    web2:\n      ansible_connection: local\n"
                                      f"      ansible_python_interpreter: {sys.executable}\n")
    (second / "group_vars" / "web.yml").write_text("greeting: second\n")
    (second / "group_vars" / "all.yml").write_text("everyone: from-second\n")
    (second / "host_vars" / "web1.yml").write_text("place: web1-from-second\n")
    runbook = write_runbook(tmp_path / "rb", "name: show\nhosts: web\ntasks:\n- name: say\n  echo: ${greeting}\n")
    out = tmp_path / "out"

    assert rb2ansible("export", str(runbook), "-i", str(first), "-i", str(second), "-o", str(out)).code == 0

    for host in ("web1", "web2"):
        original = host_vars([str(first), str(second)], host, tmp_path)
        copied = host_vars([str(out / "inventory")], host, tmp_path)
        assert copied == original, host
    assert original["greeting"] == "second" and original["only_first"] == "kept"
    ran = rb2ansible("run", str(runbook), "-i", str(first), "-i", str(second))
    assert {host: task(ran.results, "say", host)["msg"] for host in ("web1", "web2")} == \
        {"web1": "second", "web2": "second"}


def marker_runbook(directory: Path, out: Path) -> Path:
    return write_runbook(directory, f"""
name: markers
hosts: all
tasks:
- name: tagged
  tags: [t]
  shell: touch {out}/${{inventory_hostname}}-t
- name: untagged
  shell: touch {out}/${{inventory_hostname}}-u
- name: both at once
  tags: [t]
  parallel:
  - name: tagged child
    shell: touch {out}/${{inventory_hostname}}-pt
""")


def test_an_export_with_limit_and_tags_touches_only_that_host_and_tag(rb2ansible, tmp_path):
    out = tmp_path / "markers"
    out.mkdir()
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(f"web1 {LOCAL}\nweb2 {LOCAL}\n")
    runbook = marker_runbook(tmp_path / "rb", out)
    exported = tmp_path / "export"

    done = rb2ansible("export", str(runbook), "-i", str(inventory), "--limit", "web1", "--tags", "t", "-vv",
                      "--forks", "3", "-o", str(exported))

    assert done.code == 0, done.stderr
    assert shlex.split((exported / "env" / "cmdline").read_text()) == \
        ["--limit", "web1", "--tags", "t", "--forks", "3", "-vv"]
    tool("ansible-runner", "run", str(exported), "-p", "site.yml", "--ident", "check", cwd=tmp_path)
    assert sorted(p.name for p in out.iterdir()) == ["web1-pt", "web1-t"]

    # The README's ansible-playbook command does the same.
    for marker in out.iterdir():
        marker.unlink()
    command = next(line.strip() for line in (exported / "README.md").read_text().splitlines()
                   if line.strip().startswith("cd project && ansible-playbook"))
    tool("ansible-playbook", *shlex.split(command.removeprefix("cd project && ansible-playbook")),
         cwd=exported / "project")
    assert sorted(p.name for p in out.iterdir()) == ["web1-pt", "web1-t"]

    # And `run` with the same options, which executes the same directory.
    for marker in out.iterdir():
        marker.unlink()
    ran = rb2ansible("run", str(runbook), "-i", str(inventory), "--limit", "web1", "--tags", "t")
    assert ran.code == 0, ran.stderr
    assert sorted(p.name for p in out.iterdir()) == ["web1-pt", "web1-t"]


def test_check_and_skip_tags_are_recorded_and_obeyed(rb2ansible, tmp_path):
    out = tmp_path / "markers"
    out.mkdir()
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(f"web1 {LOCAL}\n")
    runbook = marker_runbook(tmp_path / "rb", out)

    skipping = rb2ansible("export", str(runbook), "-i", str(inventory), "--skip-tags", "t", "-o", str(tmp_path / "a"))
    checking = rb2ansible("export", str(runbook), "-i", str(inventory), "--check", "--diff", "-o", str(tmp_path / "b"))

    assert skipping.code == 0 and checking.code == 0
    tool("ansible-runner", "run", str(tmp_path / "a"), "-p", "site.yml", cwd=tmp_path)
    assert sorted(p.name for p in out.iterdir()) == ["web1-u"]
    assert (tmp_path / "b" / "env" / "cmdline").read_text().split() == ["--check", "--diff"]
    tool("ansible-runner", "run", str(tmp_path / "b"), "-p", "site.yml", cwd=tmp_path)
    assert sorted(p.name for p in out.iterdir()) == ["web1-u"]  # check mode ran the shell tasks not at all


def test_a_run_keeps_an_export_that_runs_on_its_own(rb2ansible, tmp_path):
    """`run --export DIR`: ansible-runner must not write the run's in-memory options (this machine's PATH,
    a temporary vars file since deleted, passwords typed at a prompt) into DIR/env."""
    runbook = write_runbook(tmp_path / "rb", "name: kept\ntasks:\n- {name: say, echo: kept and runnable}\n")
    kept = tmp_path / "kept"

    ran = rb2ansible("run", str(runbook), "--export", str(kept))

    assert ran.code == 0, ran.stdout + ran.stderr
    assert not (kept / "env" / "passwords").exists()
    # env/envvars holds only what rb2ansible states on purpose: Ansible's host key checking.
    assert "ANSIBLE_HOST_KEY_CHECKING:" in (kept / "env" / "envvars").read_text()
    assert len((kept / "env" / "envvars").read_text().splitlines()) == 2  # "---" and that one setting
    assert "rb2ansible-artifacts" not in "".join(p.read_text() for p in (kept / "env").iterdir())
    again = tool("ansible-runner", "run", str(kept), "-p", "site.yml", cwd=tmp_path)
    assert "kept and runnable" in again.stdout
