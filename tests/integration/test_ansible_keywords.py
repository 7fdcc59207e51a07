"""Ansible's own task keywords and existing roles, run on two SSH hosts: the effects Ansible would have, under
`rb2ansible run` and under plain `ansible-playbook` on the export.

The light hosts share this machine's filesystem, so every task writes under its own host's name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.integration.conftest import task, write_runbook
from tests.integration.lab_runs import statuses
from tests.lab.inventory import write_inventory

BIN = Path(sys.executable).parent


def keywords_runbook(directory: Path, out: Path) -> Path:
    return write_runbook(directory, f"""
name: keywords
hosts: lab
vars: {{out: "{out}"}}
tasks:
- name: write items
  shell: echo ${{item}} >> ${{out}}/${{inventory_hostname}}.items
  loop: [a, b, c]
  loop_control: {{label: "${{item}}"}}
  notify: record change
- name: look without changing
  shell: "true"
  changed_when: false
  notify: never notified
- name: exit three is fine
  shell: exit 3
  register: three
  failed_when: ${{three.rc}} not in [0, 3]
- name: once from the controller
  shell: echo ${{inventory_hostname}} >> ${{out}}/once.txt
  delegate_to: localhost
  run_once: true
- name: with environment
  shell: echo "$GREETING" > ${{out}}/${{inventory_hostname}}.env
  environment: {{GREETING: "hi ${{inventory_hostname}}"}}
- name: as nobody
  shell: id -un
  become_user: nobody
- name: side by side
  parallel:
  - name: looping child
    shell: echo "$WORD ${{item}}" >> ${{out}}/${{inventory_hostname}}.child
    loop: [x, y]
    environment: {{WORD: child}}
    changed_when: false
  - name: delegated child
    shell: echo ${{inventory_hostname}} > ${{out}}/${{inventory_hostname}}.delegated
    delegate_to: localhost
  - name: notifying child
    shell: "true"
    notify: child changed
  - name: quiet child
    shell: "true"
    changed_when: false
    notify: never notified
handlers:
- name: child changed
  shell: echo handled >> ${{out}}/${{inventory_hostname}}.child-handler
- name: record change
  shell: echo handled >> ${{out}}/${{inventory_hostname}}.handler
- name: never notified
  shell: touch ${{out}}/${{inventory_hostname}}.never
""")


def assert_keyword_effects(out: Path, hosts: list[str]) -> None:
    for host in hosts:
        assert (out / f"{host}.items").read_text() == "a\nb\nc\n"
        assert (out / f"{host}.handler").read_text() == "handled\n"  # once per host, after three changes
        assert not (out / f"{host}.never").exists()  # notified by a task that changed nothing
        assert (out / f"{host}.env").read_text() == f"hi {host}\n"
        assert sorted((out / f"{host}.child").read_text().splitlines()) == ["child x", "child y"]
        assert (out / f"{host}.delegated").read_text() == f"{host}\n"
        assert (out / f"{host}.child-handler").read_text() == "handled\n"  # notified from inside parallel
    assert (out / "once.txt").read_text().splitlines() in ([hosts[0]], [hosts[1]])


@pytest.fixture
def two_hosts(ssh_hosts, lab_keys, tmp_path):
    hosts = ssh_hosts[:2]
    return write_inventory(tmp_path / "hosts.ini", hosts, lab_keys.private_key), [h.name for h in hosts]


def test_keywords_have_ansibles_effects_under_run_and_under_ansible_playbook(rb2ansible, two_hosts, tmp_path):
    inventory, hosts = two_hosts
    out = tmp_path / "out"
    out.mkdir()
    runbook = keywords_runbook(tmp_path / "rb", out)

    ran = rb2ansible("run", str(runbook), "-i", str(inventory), "--export", str(tmp_path / "export"))

    assert ran.code == 0, ran.stdout + ran.stderr
    assert_keyword_effects(out, hosts)
    results = ran.results
    for host in hosts:
        looped = task(results, "write items", host)
        assert looped["status"] == "changed" and looped["msg"] == "3 items: 3 changed"
        assert [item["item"] for item in looped["values"]["items"]] == ["a", "b", "c"]
        assert task(results, "as nobody", host)["stdout"] == "nobody"
        assert task(results, "delegated child", host)["values"]["delegated_to"] == "localhost"
    assert statuses(results, "look without changing") == dict.fromkeys(hosts, "ok")
    assert statuses(results, "exit three is fine") == dict.fromkeys(hosts, "changed")
    assert statuses(results, "record change") == dict.fromkeys(hosts, "changed")
    assert statuses(results, "never notified") == dict.fromkeys(hosts, "skipped")
    once = statuses(results, "once from the controller")
    ran_on = (out / "once.txt").read_text().strip()
    # the one run stands for every host: the others get its outcome and say where it ran
    assert once == dict.fromkeys(hosts, "changed")
    assert [task(results, "once from the controller", h).get("ran_on") for h in hosts if h != ran_on] == [ran_on]
    assert task(results, "once from the controller", ran_on)["values"]["delegated_to"] == "localhost"
    # handlers run at the end of the play, after every task
    assert task(results, "record change", hosts[0])["start"] > task(results, "delegated child", hosts[0])["end"]

    # The export, under plain ansible-playbook, has the same effects.
    for written in out.iterdir():
        written.unlink()
    playbook = subprocess.run([str(BIN / "ansible-playbook"), "site.yml"], cwd=tmp_path / "export" / "project",
                              capture_output=True, text=True, timeout=300,
                              env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"})
    assert playbook.returncode == 0, playbook.stdout + playbook.stderr
    assert_keyword_effects(out, hosts)


def role_tarball(directory: Path) -> Path:
    """A role packed as ansible-galaxy installs it from a tarball."""
    role = directory / "acme_web"
    (role / "tasks").mkdir(parents=True)
    (role / "meta").mkdir()
    (role / "tasks" / "main.yml").write_text(
        "---\n- name: Write the page\n  ansible.builtin.copy:\n    content: \"{{ web_greeting }}\\n\"\n"
        "    dest: \"{{ web_out }}\"\n    mode: '0644'\n")
    (role / "meta" / "main.yml").write_text(
        "---\ngalaxy_info:\n  author: test\n  description: a test role\n  license: MIT\n"
        "  min_ansible_version: '2.16'\n  platforms: [{name: Debian, versions: [all]}]\ndependencies: []\n")
    tarball = directory / "acme_web.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        archive.add(role, arcname="acme_web")
    return tarball


def test_a_local_role_and_a_galaxy_installed_role_run_from_role_tasks_with_vars(rb2ansible_command, two_hosts,
                                                                                 tmp_path):
    inventory, hosts = two_hosts
    out = tmp_path / "out"
    out.mkdir()
    installed = tmp_path / "galaxy-roles"
    requirements = tmp_path / "requirements.yml"
    requirements.write_text(f"- src: {role_tarball(tmp_path / 'packed')}\n  name: acme.web\n")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "ANSIBLE_ROLES_PATH": str(installed)}
    galaxy = subprocess.run([str(BIN / "ansible-galaxy"), "role", "install", "-p", str(installed), "-r",
                             str(requirements)], capture_output=True, text=True, timeout=120, env=env)
    assert galaxy.returncode == 0, galaxy.stdout + galaxy.stderr
    runbook = write_runbook(tmp_path / "rb", f"""
name: roles
hosts: lab
tasks:
- name: local role
  role:
    name: motd
    vars: {{motd_text: "local ${{inventory_hostname}}", motd_out: "{out}/${{inventory_hostname}}.motd"}}
- name: galaxy role
  role:
    name: acme.web
    vars: {{web_greeting: "galaxy ${{inventory_hostname}}", web_out: "{out}/${{inventory_hostname}}.web"}}
""", **{"roles__motd__tasks__main.yml": "---\n- name: Write the motd\n  ansible.builtin.copy:\n"
                                         "    content: \"{{ motd_text }}\\n\"\n    dest: \"{{ motd_out }}\"\n"
                                         "    mode: '0644'\n"})
    results_file = tmp_path / "results.json"

    done = subprocess.run([*rb2ansible_command, "run", str(runbook), "-i", str(inventory), "--results",
                           str(results_file)], capture_output=True, text=True, timeout=300, env=env)

    assert done.returncode == 0, done.stdout + done.stderr
    for host in hosts:
        assert (out / f"{host}.motd").read_text() == f"local {host}\n"
        assert (out / f"{host}.web").read_text() == f"galaxy {host}\n"
    results = json.loads(results_file.read_text())
    for name in ("local role", "galaxy role"):
        assert statuses(results, name) == dict.fromkeys(hosts, "changed")
        assert task(results, name, hosts[0])["values"]["role_tasks"]["changed"] == 1

    # Without the installed role, validation names the command that installs it.
    missing = subprocess.run([*rb2ansible_command, "validate", str(runbook)], capture_output=True, text=True,
                             timeout=120, env={**env, "ANSIBLE_ROLES_PATH": str(tmp_path / "empty")})
    assert missing.returncode == 2
    assert "role 'acme.web' not found" in missing.stderr
    assert "ansible-galaxy role install acme.web" in missing.stderr


def test_a_no_log_loop_keeps_its_items_out_of_output_and_results(rb2ansible, tmp_path):
    runbook = write_runbook(tmp_path / "rb", """
name: hidden loop
tasks:
- name: secret loop
  shell: echo ${item}
  loop: [s3cr3t-one, s3cr3t-two]
  no_log: true
""")

    ran = rb2ansible("run", str(runbook))

    assert ran.code == 0, ran.stdout + ran.stderr
    assert "s3cr3t" not in ran.stdout + ran.stderr + json.dumps(ran.results)
    assert "hidden" in task(ran.results, "secret loop")["msg"]
