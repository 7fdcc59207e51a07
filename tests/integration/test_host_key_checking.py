"""Host keys are checked as Ansible checks them: a fresh sshd whose key is unknown is refused, as ansible-playbook
refuses it, unless the environment or the inventory turns checking off; nothing is written into known_hosts.

ssh reads ~/.ssh from the password database, not $HOME, so each inventory points UserKnownHostsFile at the
test's own file: the machine's real known_hosts is never read or written here.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import write_runbook
from tests.integration.test_export_is_run import BIN


@pytest.fixture
def fresh_host(ssh_host_factory):
    """A host no test has connected to yet: its address is new to every known_hosts and control socket."""
    return ssh_host_factory(1)[0]


def inventory(path: Path, host, private_key: Path, **extra) -> Path:
    variables = {
        "ansible_host": host.address,
        "ansible_user": "root",
        "ansible_ssh_private_key_file": str(private_key),
        "ansible_python_interpreter": "/usr/bin/python3",
        "ansible_ssh_common_args": f"-o UserKnownHostsFile={path.parent / 'known_hosts'}",
        # A master connection from another run would skip the key exchange, and with it the check.
        "ansible_control_path_dir": str(path.parent / "control"),
        **extra,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"all": {"hosts": {host.name: variables}}}))
    return path


def runbook(directory: Path) -> Path:
    # A module that needs Python on the host: under --fast, Mitogen runs it (a runbook of command lines runs without).
    return write_runbook(directory, "name: keys\nhosts: all\ntasks:\n- {name: reach, ping: {}}\n")


def without_host_key_settings() -> dict[str, str]:
    """This environment with nothing that turns checking off, whatever the shell running the tests says."""
    env = {name: value for name, value in os.environ.items()
           if name not in ("ANSIBLE_HOST_KEY_CHECKING", "ANSIBLE_SSH_HOST_KEY_CHECKING", "ANSIBLE_SSH_COMMON_ARGS",
                           "ANSIBLE_CONFIG")}
    return {**env, "PATH": f"{BIN}{os.pathsep}{env['PATH']}", "ANSIBLE_NOCOLOR": "1"}


def run(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / args[0]), *args[1:]], capture_output=True, text=True, timeout=300, env=env,
                          cwd=cwd)


def test_an_unknown_host_key_is_refused_like_ansible_playbook_refuses_it(fresh_host, lab_keys, tmp_path, fast_runs):
    hosts = inventory(tmp_path / "inv" / "hosts.yml", fresh_host, lab_keys.private_key)
    env = without_host_key_settings()

    refused = run("rb2ansible", "run", str(runbook(tmp_path / "rb")), "-i", str(hosts), "--export",
                  str(tmp_path / "kept"), env=env, cwd=tmp_path)
    by_ansible = run("ansible-playbook", "site.yml", env=env, cwd=tmp_path / "kept" / "project")
    by_runner = run("ansible-runner", "run", str(tmp_path / "kept"), "-p", "site.yml", env=env, cwd=tmp_path)

    assert refused.returncode == 1, refused.stdout + refused.stderr
    # Under --fast Mitogen's own ssh connection refuses the key, in its words.
    said = ("SSH reported an unrecognized or mismatching host key" if fast_runs else "Host key verification failed")
    assert said in refused.stdout, refused.stdout
    assert by_ansible.returncode == 4 and "Host key verification failed" in by_ansible.stdout
    # The export states the setting, so ansible-runner (which turns checking off by default) refuses too.
    assert "Host key verification failed" in by_runner.stdout, by_runner.stdout
    assert "host_key_checking = True" in (tmp_path / "kept" / "project" / "ansible.cfg").read_text()
    assert not (tmp_path / "inv" / "known_hosts").exists()  # nothing was remembered behind the user's back


def test_the_environment_or_the_inventory_turns_checking_off(fresh_host, lab_keys, tmp_path):
    env = without_host_key_settings()
    by_environment = run("rb2ansible", "run", str(runbook(tmp_path / "rb")),
                         "-i", str(inventory(tmp_path / "a" / "hosts.yml", fresh_host, lab_keys.private_key)),
                         env={**env, "ANSIBLE_HOST_KEY_CHECKING": "False"}, cwd=tmp_path)
    by_inventory = run("rb2ansible", "run", str(runbook(tmp_path / "rb")),
                       "-i", str(inventory(tmp_path / "b" / "hosts.yml", fresh_host, lab_keys.private_key,
                                           ansible_host_key_checking=False)),
                       env=env, cwd=tmp_path)
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "ansible.cfg").write_text("[defaults]\nhost_key_checking = False\n")
    by_config = run("rb2ansible", "run", str(runbook(tmp_path / "rb")),
                    "-i", str(inventory(tmp_path / "c" / "hosts.yml", fresh_host, lab_keys.private_key)),
                    env=env, cwd=tmp_path / "cfg")  # ./ansible.cfg, as ansible-playbook would read it here

    for done in (by_environment, by_inventory, by_config):
        assert done.returncode == 0, done.stdout + done.stderr
