"""Password sudo (--ask-become-pass) and password SSH (--ask-pass), answered at a real terminal, on a Debian machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import task, write_runbook
from tests.integration.lab_runs import run_at_terminal, statuses
from tests.lab.inventory import NO_HOST_KEY_CHECKING
from tests.lab.processes import wait_until

USER = "rb2a-deploy"
PASSWORD = "Tr0ub4dor-rb2a"
SSH_PROMPT = r"SSH password:"
BECOME_PROMPT = r"BECOME password[^:]*:"
WRONG_PASSWORD_LIMIT = 90  # seconds: a wrong password must fail, not hang


@pytest.fixture(scope="module")
def password_machine(nspawn_machines, lab_keys):
    """A machine with a user who logs in with a password (or the lab key) and must type it for sudo."""
    machine = nspawn_machines[0]
    machine.ssh(f"""set -e
id {USER} >/dev/null 2>&1 || useradd --create-home --shell /bin/bash {USER}
echo '{USER}:{PASSWORD}' | chpasswd
install -d -m 700 -o {USER} -g {USER} /home/{USER}/.ssh
install -m 600 -o {USER} -g {USER} /root/.ssh/authorized_keys /home/{USER}/.ssh/authorized_keys
# sudo with a password, asked every time (no cached credentials between tests)
printf '%s\\n' 'Defaults:{USER} timestamp_timeout=0' '{USER} ALL=(ALL:ALL) ALL' > /etc/sudoers.d/{USER}
chmod 440 /etc/sudoers.d/{USER}
visudo -cq
printf 'PasswordAuthentication yes\\n' > /etc/ssh/sshd_config.d/password.conf
systemctl reload ssh
""")
    # sshd re-executes itself on reload and refuses connections for a moment.
    wait_until(lambda: machine.run("true", timeout=15).returncode == 0, 30, f"sshd of {machine.name} after reload")
    assert machine.run(f"su {USER} -c 'sudo -n true'", timeout=15).returncode != 0
    return machine


def user_inventory(path: Path, machine, private_key: Path | None) -> Path:
    """The machine as group `target`, reached as the unprivileged user; with a key, or by password only."""
    variables = {
        "ansible_host": machine.address,
        "ansible_user": USER,
        "ansible_python_interpreter": "/usr/bin/python3",
        **NO_HOST_KEY_CHECKING,
        # A master connection left by an earlier test (ControlPersist) would log in without asking.
        "ansible_control_path_dir": str(path.parent / "ssh-control"),
    }
    if private_key is None:
        # Offer no key at all, so only the password can open the session.
        variables["ansible_ssh_common_args"] += " -o PubkeyAuthentication=no"
    else:
        variables["ansible_ssh_private_key_file"] = str(private_key)
    path.write_text(yaml.safe_dump({"all": {"children": {"target": {"hosts": {machine.name: variables}}}}}))
    return path


def whoami_runbook(directory: Path) -> Path:
    return write_runbook(directory, """
name: who runs this
hosts: target
tasks:
- name: as the login user
  shell: whoami
- name: through sudo
  shell: whoami
  sudo: true
- name: through sudo as another user
  shell: whoami
  sudo: true
  sudo_user: nobody
""")


def accepted_password_logins(machine) -> int:
    log = machine.ssh(f"journalctl -o cat --no-pager | grep -c 'Accepted password for {USER} ' || true")
    return int(log.strip() or 0)


def test_ask_become_pass_runs_sudo_tasks_as_root(password_machine, lab_keys, tmp_path):
    inventory = user_inventory(tmp_path / "inventory.yml", password_machine, lab_keys.private_key)
    results = tmp_path / "results.json"

    done = run_at_terminal(["run", str(whoami_runbook(tmp_path / "rb")), "-i", str(inventory),
                            "--ask-become-pass", "--results", str(results)],
                           answers=[(BECOME_PROMPT, PASSWORD)])

    assert done.code == 0, done.transcript
    report = json.loads(results.read_text())
    assert task(report, "as the login user", password_machine.name)["stdout"] == USER
    assert task(report, "through sudo", password_machine.name)["stdout"] == "root"
    assert task(report, "through sudo as another user", password_machine.name)["stdout"] == "nobody"
    assert PASSWORD not in done.transcript + results.read_text()


def test_ask_pass_logs_in_with_the_password_and_sudo_takes_it_too(password_machine, tmp_path):
    inventory = user_inventory(tmp_path / "inventory.yml", password_machine, private_key=None)
    results = tmp_path / "results.json"
    logins_before = accepted_password_logins(password_machine)

    # As in ansible-playbook, an empty BECOME answer means "the same as the SSH password".
    done = run_at_terminal(["run", str(whoami_runbook(tmp_path / "rb")), "-i", str(inventory),
                            "--ask-pass", "--ask-become-pass", "--results", str(results)],
                           answers=[(SSH_PROMPT, PASSWORD), (BECOME_PROMPT, "")])

    assert done.code == 0, done.transcript
    report = json.loads(results.read_text())
    assert task(report, "as the login user", password_machine.name)["stdout"] == USER
    assert task(report, "through sudo", password_machine.name)["stdout"] == "root"
    assert task(report, "through sudo as another user", password_machine.name)["stdout"] == "nobody"
    assert accepted_password_logins(password_machine) > logins_before
    assert PASSWORD not in done.transcript + results.read_text()


def test_wrong_become_password_fails_the_sudo_task_quickly(password_machine, lab_keys, tmp_path):
    inventory = user_inventory(tmp_path / "inventory.yml", password_machine, lab_keys.private_key)
    results = tmp_path / "results.json"

    done = run_at_terminal(["run", str(whoami_runbook(tmp_path / "rb")), "-i", str(inventory),
                            "--ask-become-pass", "--results", str(results)],
                           answers=[(BECOME_PROMPT, "not-the-password")], timeout=WRONG_PASSWORD_LIMIT)

    assert done.code == 1, done.transcript
    report = json.loads(results.read_text())
    assert statuses(report, "as the login user") == {password_machine.name: "changed"}
    refused = task(report, "through sudo", password_machine.name)
    assert refused["status"] == "failed"
    assert "password" in refused["msg"].lower(), refused
    assert "password" in done.transcript.lower()
    assert "Traceback" not in done.transcript


def test_wrong_ssh_password_makes_the_host_unreachable_quickly(password_machine, tmp_path):
    inventory = user_inventory(tmp_path / "inventory.yml", password_machine, private_key=None)
    results = tmp_path / "results.json"

    done = run_at_terminal(["run", str(whoami_runbook(tmp_path / "rb")), "-i", str(inventory),
                            "--ask-pass", "--results", str(results)],
                           answers=[(SSH_PROMPT, "not-the-password")], timeout=WRONG_PASSWORD_LIMIT)

    assert done.code == 1, done.transcript
    report = json.loads(results.read_text())
    refused = task(report, "as the login user", password_machine.name)
    assert refused["status"] == "unreachable"
    assert "password" in refused["msg"].lower(), refused
    assert statuses(report, "through sudo") == {password_machine.name: "not_run"}
    assert "password" in done.transcript.lower()
    assert "Traceback" not in done.transcript


def test_password_files_log_in_and_sudo_and_stay_out_of_everything_written(password_machine, rb2ansible, tmp_path):
    """--connection-password-file and --become-password-file, as ansible-playbook reads them; -b with
    --become-user on the command line does what `sudo: true` does in the runbook."""
    inventory = user_inventory(tmp_path / "inventory.yml", password_machine, private_key=None)
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n")
    runbook = write_runbook(tmp_path / "rb", "name: files\nhosts: target\ntasks:\n- {name: who, shell: whoami}\n")
    kept = tmp_path / "kept"
    logins_before = accepted_password_logins(password_machine)

    done = rb2ansible("run", str(runbook), "-i", str(inventory), "--connection-password-file", str(password_file),
                      "--become-password-file", str(password_file), "-b", "--become-user", "nobody",
                      "--export", str(kept))

    assert done.code == 0, done.stdout + done.stderr
    assert task(done.results, "who", password_machine.name)["stdout"] == "nobody"
    assert accepted_password_logins(password_machine) > logins_before
    written = "".join(path.read_text(errors="replace") for path in kept.rglob("*") if path.is_file())
    assert PASSWORD not in done.stdout + done.stderr + json.dumps(done.results) + written
    assert str(password_file) not in written  # a path of this machine: given at run time only
    assert "--become --become-user nobody" in (kept / "env" / "cmdline").read_text()
