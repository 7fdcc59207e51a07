"""Inventories as Ansible takes them (directory, several -i, YAML, AutomateJS) and Vault, on real SSH hosts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.integration.conftest import task, write_runbook
from tests.integration.lab_runs import everything_printed, statuses
from tests.lab.inventory import write_inventory

VAULT_PASSWORD = "correct horse battery staple"


@pytest.fixture
def secret() -> str:
    return f"s3cret-{uuid.uuid4().hex}"


@pytest.fixture
def vault_password_file(tmp_path: Path) -> Path:
    path = tmp_path / "vault-password"
    path.write_text(VAULT_PASSWORD + "\n")
    return path


def vault_encrypt(path: Path, password_file: Path) -> None:
    ansible_vault = Path(sys.executable).parent / "ansible-vault"
    subprocess.run([str(ansible_vault), "encrypt", "--vault-password-file", str(password_file), str(path)],
                   check=True, capture_output=True)
    assert path.read_text().startswith("$ANSIBLE_VAULT;")


def inventory_directory(directory: Path, hosts, private_key: Path, greeting: str) -> Path:
    """An INI hosts file with group [web] and a group_vars/web.yml, as many Ansible users keep them."""
    write_inventory(directory / "hosts", hosts, private_key, group="web")
    (directory / "group_vars").mkdir()
    (directory / "group_vars" / "web.yml").write_text(f"greeting: {greeting}\n")
    return directory


def secret_writing_runbook(directory: Path, out: Path, secret: str, password_file: Path) -> Path:
    """Writes `<greeting> <secret>` into out/<host>.txt; the secret comes from a Vault-encrypted vars file."""
    runbook = write_runbook(directory, f"""
name: group value and secret
hosts: web
vars_files: [secrets.yml]
tasks:
- name: write what the host knows
  template: {{source: known.j2, destination: "{out}/${{inventory_hostname}}.txt", mode: '0600'}}
""", **{"secrets.yml": f"secret: {secret}\n", "templates__known.j2": "{{ greeting }} {{ secret }}\n"})
    vault_encrypt(runbook / "secrets.yml", password_file)
    return runbook


def test_inventory_directory_and_vault_reach_every_host_and_the_secret_stays_hidden(
        rb2ansible, ssh_hosts, lab_keys, tmp_path, secret, vault_password_file):
    out = tmp_path / "out"
    out.mkdir()
    inventory = inventory_directory(tmp_path / "inventory", ssh_hosts, lab_keys.private_key, "hello-from-group-vars")
    runbook = secret_writing_runbook(tmp_path / "rb", out, secret, vault_password_file)

    done = rb2ansible("run", str(runbook), "-i", str(inventory), "--vault-password-file", str(vault_password_file))

    assert done.code == 0, everything_printed(done)
    assert statuses(done.results, "write what the host knows") == {h.name: "changed" for h in ssh_hosts}
    for host in ssh_hosts:
        assert (out / f"{host.name}.txt").read_text() == f"hello-from-group-vars {secret}\n"
    assert secret not in everything_printed(done)
    assert secret not in json.dumps(done.results)


def test_limit_touches_only_the_named_host(rb2ansible, ssh_hosts, lab_keys, tmp_path, secret, vault_password_file):
    out = tmp_path / "out"
    out.mkdir()
    inventory = inventory_directory(tmp_path / "inventory", ssh_hosts, lab_keys.private_key, "limited")
    runbook = secret_writing_runbook(tmp_path / "rb", out, secret, vault_password_file)
    chosen = ssh_hosts[1]

    done = rb2ansible("run", str(runbook), "-i", str(inventory), "--vault-password-file", str(vault_password_file),
                      "--limit", chosen.name)

    assert done.code == 0, everything_printed(done)
    assert list(done.results["hosts"]) == [chosen.name]
    assert statuses(done.results, "write what the host knows") == {chosen.name: "changed"}
    assert sorted(p.name for p in out.iterdir()) == [f"{chosen.name}.txt"]
    assert secret not in everything_printed(done) + json.dumps(done.results)


def test_two_inventories_one_yaml_and_a_host_pattern_from_var_yml(rb2ansible, ssh_hosts, lab_keys, tmp_path):
    first, second, third = ssh_hosts
    ini = write_inventory(tmp_path / "first.ini", [first], lab_keys.private_key, group="web")
    yml = write_inventory(tmp_path / "second.yml", [second, third], lab_keys.private_key, group="web")
    # The play's pattern is built from var.yml: every host of group web except the second.
    runbook = write_runbook(tmp_path / "rb", """
name: pattern from variables
hosts: "${group}:!${excluded}"
tasks:
- name: say who
  shell: echo ${inventory_hostname} ${greeting}
""", **{"var.yml": f"group: web\nexcluded: {second.name}\ngreeting: from-var-yml\n"})

    done = rb2ansible("run", str(runbook), "-i", str(ini), "-i", str(yml))

    assert done.code == 0, everything_printed(done)
    assert statuses(done.results, "say who") == {first.name: "changed", third.name: "changed"}
    for host in (first, third):
        assert task(done.results, "say who", host.name)["stdout"] == f"{host.name} from-var-yml"


def automatejs_project(directory: Path, hosts, private_key: Path) -> Path:
    """run.yml with `hosts: ${host}`, var.yml naming the group, inventory.yml of host objects and a key file."""
    runbook = write_runbook(directory, """
name: automatejs over ssh
hosts: ${host}
tasks:
- name: where am I
  shell: echo $SSH_CONNECTION
""", **{"var.yml": "host: webservers\n"})
    (directory / "keys").mkdir()
    shutil.copy(private_key, directory / "keys" / "id_lab")
    members = "".join(f"- {{host: {h.address}, port: 22, username: root, keyfile: keys/id_lab}}\n" for h in hosts)
    (directory / "inventory.yml").write_text("webservers:\n" + members)
    return runbook


def test_automatejs_project_runs_over_ssh_on_its_inventory_without_i(rb2ansible, nspawn_machines, lab_keys,
                                                                     tmp_path, monkeypatch):
    # Real machines: an AutomateJS inventory cannot name the Python, so Ansible discovers it there,
    # which on light hosts would find this controller's own interpreters.
    hosts = nspawn_machines
    runbook = automatejs_project(tmp_path / "project", hosts, lab_keys.private_key)
    # Lab hosts get new host keys every session; keep them out of root's known_hosts, as users of
    # throwaway machines do (an AutomateJS inventory has no field for SSH options).
    monkeypatch.setenv("ANSIBLE_HOST_KEY_CHECKING", "False")
    monkeypatch.setenv("ANSIBLE_SSH_COMMON_ARGS", "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null")

    done = rb2ansible("run", str(runbook))

    assert done.code == 0, everything_printed(done)
    assert statuses(done.results, "where am I") == {h.address: "changed" for h in hosts}
    for host in hosts:
        # SSH_CONNECTION is "client port server port": the command ran in an SSH session to that host.
        assert task(done.results, "where am I", host.address)["stdout"].split()[2] == host.address
