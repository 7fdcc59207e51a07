"""Easy modules on real hosts: a bundled dependency over SSH, a pip-installed module, systemd units."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from tests.integration.conftest import task, write_runbook
from tests.lab.inventory import write_inventory

STAMP = '''"""Write a stamp file; the text goes through click, which the target does not have."""
import os

import click


def _content(args):
    return click.unstyle(click.style(args["text"], bold=True)) + "\\n"


def run(args):
    path, wanted = args["path"], _content(args)
    if os.path.exists(path) and open(path).read() == wanted:
        return {"changed": False, "path": path}
    with open(path, "w") as handle:
        handle.write(wanted)
    return {"changed": True, "path": path, "click_version": click.__version__}


def check(args):
    same = os.path.exists(args["path"]) and open(args["path"]).read() == _content(args)
    return {"changed": not same, "path": args["path"]}
'''


def test_easy_module_with_a_bundled_dependency_runs_over_ssh(rb2ansible, ssh_hosts, lab_keys, tmp_path):
    host = ssh_hosts[0]
    assert host.run("/usr/bin/python3 -c 'import click'").returncode != 0, "the target must lack click"
    target = tmp_path / f"stamp-{uuid.uuid4().hex[:8]}.txt"
    runbook = write_runbook(tmp_path / "rb", f"""
name: stamps
hosts: lab
tasks:
- name: stamp it
  stamp/write: {{path: "{target}", text: "hello ${{inventory_hostname}}"}}
""", **{"modules__stamp__write.py": STAMP})
    inventory = write_inventory(tmp_path / "hosts.ini", [host], lab_keys.private_key)

    check = rb2ansible("run", str(runbook), "-i", str(inventory), "--check")
    assert check.code == 0, check.stdout + check.stderr
    assert task(check.results, "stamp it", host.name)["status"] == "changed"
    assert not target.exists(), "--check wrote nothing"

    first = rb2ansible("run", str(runbook), "-i", str(inventory))
    assert first.code == 0, first.stdout + first.stderr
    result = task(first.results, "stamp it", host.name)
    assert result["status"] == "changed" and result["values"]["click_version"]
    assert target.read_text() == f"hello {host.name}\n"

    second = rb2ansible("run", str(runbook), "-i", str(inventory))
    assert task(second.results, "stamp it", host.name)["status"] == "ok"


@pytest.fixture
def greet_package(tmp_path):
    """A real package, pip-installed into the environment running rb2ansible, registering greet/hello."""
    source = tmp_path / "greet-pkg"
    (source / "greet_pkg").mkdir(parents=True)
    (source / "greet_pkg" / "__init__.py").write_text("")
    (source / "greet_pkg" / "hello.py").write_text(
        '"""Greet someone."""\n\n\ndef run(args):\n'
        '    return {"changed": False, "greeting": f"Hello, {args[\'name\']}!", "length": len(args["name"])}\n')
    (source / "pyproject.toml").write_text("""[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "rb2a-greet-test"
version = "1.0"

[project.entry-points."rb2ansible.modules"]
"greet/hello" = "greet_pkg.hello"
""")
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", str(source)]
    subprocess.run(pip, check=True, capture_output=True, timeout=300)
    yield
    subprocess.run([sys.executable, "-m", "pip", "uninstall", "-y", "-q", "rb2a-greet-test"], check=True,
                   capture_output=True, timeout=300)


def test_module_from_an_installed_package_is_used_by_name(rb2ansible, greet_package, tmp_path):
    runbook = write_runbook(tmp_path / "rb", "name: greeting\ntasks:\n- name: greet\n  greet/hello: {name: Ada}\n")
    listed = rb2ansible("modules", str(runbook), results=False)
    assert "greet/hello" in listed.stdout and "package:rb2a-greet-test" in listed.stdout
    done = rb2ansible("run", str(runbook))
    assert done.code == 0, done.stdout + done.stderr
    assert task(done.results, "greet")["values"] == {"greeting": "Hello, Ada!", "length": 3}


SERVICE = """
name: unit
hosts: lab
tasks:
- name: site directory
  ansible.builtin.file: {path: /srv/answer, state: directory, mode: '0755'}
- name: answer
  ansible.builtin.copy:
    dest: /srv/answer/index.html
    content: "answered by ${inventory_hostname}\\n"
    mode: '0644'
- name: user
  ansible.builtin.user: {name: web, system: true}
- name: create unit
  systemd-helper/create:
    service_name: answer
    description: answers HTTP
    user: web
    exec: /usr/bin/python3 -m http.server 8089 --bind ${ansible_host} --directory /srv/answer
    service_extra: ['MemoryMax=512M', 'CPUQuota=50%']
- name: start
  ansible.builtin.systemd_service: {name: answer, state: started}
- name: wait for it
  ansible.builtin.uri: {url: "http://${ansible_host}:8089/index.html", return_content: true}
  retries: 20
  delay: 1
"""


def test_systemd_helper_creates_a_unit_that_starts_with_its_limits(rb2ansible, nspawn_machines, lab_keys, tmp_path):
    machine = nspawn_machines[0]
    runbook = write_runbook(tmp_path / "rb", SERVICE)
    inventory = write_inventory(tmp_path / "hosts.ini", [machine], lab_keys.private_key)
    try:
        done = rb2ansible("run", str(runbook), "-i", str(inventory))
        assert done.code == 0, done.stdout + done.stderr
        assert task(done.results, "create unit", machine.name)["status"] == "changed"
        assert f"answered by {machine.name}" in task(done.results, "wait for it", machine.name)["values"]["content"]
        shown = machine.ssh("systemctl show -p MemoryMax -p User -p ActiveState answer")
        assert "MemoryMax=536870912" in shown and "User=web" in shown and "ActiveState=active" in shown
        again = rb2ansible("run", str(runbook), "-i", str(inventory))
        assert task(again.results, "create unit", machine.name)["status"] == "ok"
    finally:
        machine.run("systemctl stop answer; rm -f /etc/systemd/system/answer.service; systemctl daemon-reload")

