"""Vault beyond one password file: inline !vault values, several --vault-id, --ask-vault-pass, export."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from tests.integration.conftest import write_runbook
from tests.integration.lab_runs import everything_printed, run_at_terminal, statuses
from tests.lab.inventory import write_inventory


@pytest.fixture
def secrets() -> dict[str, str]:
    return {name: f"{name}-{uuid.uuid4().hex}" for name in ("runbook_secret", "inventory_secret")}


def password_file(path: Path, password: str) -> Path:
    path.write_text(password + "\n")
    return path


def inline_vault(name: str, value: str, vault_id: str) -> str:
    """`name: !vault |` and the encrypted value, as `ansible-vault encrypt_string` prints it."""
    ansible_vault = Path(sys.executable).parent / "ansible-vault"
    done = subprocess.run([str(ansible_vault), "encrypt_string", "--vault-id", vault_id, "--name", name, value],
                          check=True, capture_output=True, text=True)
    assert "$ANSIBLE_VAULT;" in done.stdout
    return done.stdout


def inline_secrets_project(tmp_path: Path, hosts, private_key: Path, secrets: dict[str, str],
                           dev_id: str, prod_id: str) -> tuple[Path, Path, Path]:
    """A runbook whose vars hold a `dev` vault value, and an inventory whose group_vars hold a `prod` one."""
    out = tmp_path / "out"
    out.mkdir()
    runbook_vars = textwrap.indent(inline_vault("runbook_secret", secrets["runbook_secret"], dev_id), "  ")
    runbook = write_runbook(tmp_path / "rb", f"""
name: inline secrets
hosts: web
vars:
{runbook_vars}
tasks:
- name: write both secrets
  template: {{source: both.j2, destination: "{out}/${{inventory_hostname}}.txt", mode: '0600'}}
""", **{"templates__both.j2": "{{ runbook_secret }} {{ inventory_secret }}\n"})
    inventory = tmp_path / "inventory"
    write_inventory(inventory / "hosts", hosts, private_key, group="web")
    (inventory / "group_vars").mkdir()
    (inventory / "group_vars" / "web.yml").write_text(
        inline_vault("inventory_secret", secrets["inventory_secret"], prod_id))
    return runbook, inventory, out


def assert_hidden(secrets: dict[str, str], *texts: str) -> None:
    for secret in secrets.values():
        for text in texts:
            assert secret not in text


def test_inline_vault_values_in_runbook_and_inventory_with_two_vault_ids(rb2ansible, ssh_hosts, lab_keys,
                                                                         tmp_path, secrets):
    dev_id = f"dev@{password_file(tmp_path / 'dev.pw', 'dev password')}"
    prod_id = f"prod@{password_file(tmp_path / 'prod.pw', 'prod password')}"
    runbook, inventory, out = inline_secrets_project(tmp_path, ssh_hosts, lab_keys.private_key, secrets,
                                                     dev_id, prod_id)

    done = rb2ansible("run", str(runbook), "-i", str(inventory), "--vault-id", dev_id, "--vault-id", prod_id)

    assert done.code == 0, everything_printed(done)
    assert statuses(done.results, "write both secrets") == {h.name: "changed" for h in ssh_hosts}
    for host in ssh_hosts:
        assert (out / f"{host.name}.txt").read_text() == f"{secrets['runbook_secret']} {secrets['inventory_secret']}\n"
    assert_hidden(secrets, everything_printed(done), json.dumps(done.results))


def test_relative_vault_password_paths_are_taken_from_the_working_directory(rb2ansible, ssh_hosts, lab_keys,
                                                                            tmp_path, secrets):
    password_file(tmp_path / "dev.pw", "dev password")
    password_file(tmp_path / "prod.pw", "prod password")
    runbook, inventory, _out = inline_secrets_project(tmp_path, ssh_hosts[:1], lab_keys.private_key, secrets,
                                                     f"dev@{tmp_path / 'dev.pw'}", f"prod@{tmp_path / 'prod.pw'}")

    # As a user types them: paths relative to where rb2ansible is started.
    with_file = rb2ansible("run", str(runbook), "-i", str(inventory), "--vault-password-file", "dev.pw",
                           "--vault-id", "prod@prod.pw", cwd=tmp_path)
    with_ids = rb2ansible("run", str(runbook), "-i", str(inventory), "--vault-id", "dev@dev.pw",
                          "--vault-id", "prod@prod.pw", cwd=tmp_path)

    assert with_file.code == 0, everything_printed(with_file)
    assert with_ids.code == 0, everything_printed(with_ids)


def test_ask_vault_pass_is_answered_at_a_terminal(ssh_hosts, lab_keys, tmp_path, secrets):
    vault_password = "typed at the prompt"
    password_file(tmp_path / "typed.pw", vault_password)
    # Both values under the one password that is typed (vault id "default").
    same_id = f"default@{tmp_path / 'typed.pw'}"
    runbook, inventory, out = inline_secrets_project(tmp_path, ssh_hosts, lab_keys.private_key, secrets,
                                                     same_id, same_id)
    results = tmp_path / "results.json"

    done = run_at_terminal(["run", str(runbook), "-i", str(inventory), "--ask-vault-pass", "--results", str(results)],
                           answers=[(r"Vault password[^:]*:", vault_password)])

    assert done.code == 0, done.transcript
    for host in ssh_hosts:
        assert (out / f"{host.name}.txt").read_text() == f"{secrets['runbook_secret']} {secrets['inventory_secret']}\n"
    assert_hidden(secrets, done.transcript, results.read_text())
    assert vault_password not in done.transcript + results.read_text()


def test_export_keeps_every_vault_value_encrypted(rb2ansible, ssh_hosts, lab_keys, tmp_path, secrets):
    dev_id = f"dev@{password_file(tmp_path / 'dev.pw', 'dev password')}"
    prod_id = f"prod@{password_file(tmp_path / 'prod.pw', 'prod password')}"
    runbook, inventory, _ = inline_secrets_project(tmp_path, ssh_hosts, lab_keys.private_key, secrets, dev_id, prod_id)
    exported = tmp_path / "export"

    done = rb2ansible("export", str(runbook), "-o", str(exported), "-i", str(inventory),
                      "--vault-id", dev_id, "--vault-id", prod_id)

    assert done.code == 0, everything_printed(done)
    texts = [p.read_text(errors="replace") for p in exported.rglob("*") if p.is_file()]
    assert_hidden(secrets, everything_printed(done), *texts)
    assert sum("$ANSIBLE_VAULT;1.2;AES256;dev" in text for text in texts) >= 1
    assert sum("$ANSIBLE_VAULT;1.2;AES256;prod" in text for text in texts) >= 1


def test_run_export_directory_holds_no_decrypted_secret(rb2ansible, ssh_hosts, lab_keys, tmp_path, secrets):
    """The kept directory goes to reviewers and AWX: what ran must not leave the secret there in clear."""
    dev_id = f"dev@{password_file(tmp_path / 'dev.pw', 'dev password')}"
    prod_id = f"prod@{password_file(tmp_path / 'prod.pw', 'prod password')}"
    runbook, inventory, _ = inline_secrets_project(tmp_path, ssh_hosts[:1], lab_keys.private_key, secrets,
                                                   dev_id, prod_id)
    # A secret handed to a command, as runbooks do for database passwords and tokens.
    run_yml = runbook / "run.yml"
    run_yml.write_text(run_yml.read_text() + "- name: use the secret\n  shell: test -n \"${runbook_secret}\"\n")
    kept = tmp_path / "kept"

    done = rb2ansible("run", str(runbook), "-i", str(inventory), "--vault-id", dev_id, "--vault-id", prod_id,
                      "--export", str(kept))

    assert done.code == 0, everything_printed(done)
    assert_hidden(secrets, everything_printed(done), json.dumps(done.results))
    leaking = [str(p.relative_to(kept)) for p in kept.rglob("*")
               if p.is_file() and any(s in p.read_text(errors="replace") for s in secrets.values())]
    assert leaking == []
