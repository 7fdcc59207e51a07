"""rb2ansible.runbook.shell on a real SSH host: a plain command line runs with no Python on the host and
answers as ansible.builtin.shell's module does; what needs the module (creates, check mode) still gets it."""

from __future__ import annotations

import uuid

from tests.integration.conftest import task, write_runbook
from tests.lab.inventory import write_inventory

# The command line of the process whose child is the task's shell: Python when the module ran it.
PARENT = "tr '\\\\0' ' ' < /proc/$PPID/cmdline"
FIELDS = ("status", "rc", "stdout", "stderr", "msg")


def shell_runbook(directory, stamp) -> str:
    return write_runbook(directory, f"""
name: shells
hosts: lab
tasks:
- name: parent
  shell: "{PARENT}"
- name: lines
  shell: "printf 'a\\\\nb\\\\n\\\\n'; printf 'warn\\\\n' >&2"
- name: environment and directory
  shell: {{cmd: 'echo "$GREETING" in $(pwd)', chdir: /tmp, env: {{GREETING: "hello ${{inventory_hostname}}"}}}}
- name: another shell
  shell: {{cmd: 'test -n "$BASH_VERSION" && echo bash', executable: /bin/bash}}
- name: already there
  shell: {{cmd: "echo ran", creates: /}}
- name: stamp
  shell: "touch {stamp}"
- name: fails
  shell: "echo out; echo err >&2; exit 3"
""")


def test_plain_command_lines_answer_as_the_module_does_without_python(rb2ansible, ssh_hosts, lab_keys, tmp_path,
                                                                      fast_runs):
    host = ssh_hosts[0]
    stamp = tmp_path / f"stamp-{uuid.uuid4().hex[:8]}"
    runbook = shell_runbook(tmp_path / "rb", stamp)
    inventory = write_inventory(tmp_path / "hosts.ini", [host], lab_keys.private_key)

    direct = rb2ansible("run", str(runbook), "-i", str(inventory))
    module = rb2ansible("run", str(runbook), "-i", str(inventory), "-e", "rb2ansible_direct_shell=false")
    assert direct.code == module.code == 1, direct.stdout + direct.stderr + module.stdout + module.stderr

    if fast_runs:  # Mitogen's interpreter, already on the host for the whole run, starts every command line
        assert "(mitogen:" in task(direct.results, "parent", host.name)["stdout"]
    else:
        assert "python" not in task(direct.results, "parent", host.name)["stdout"]
    assert "python" in task(module.results, "parent", host.name)["stdout"], "the switch brings the module back"
    for name in ("lines", "environment and directory", "another shell", "already there", "stamp", "fails"):
        ran_directly, by_module = task(direct.results, name, host.name), task(module.results, name, host.name)
        assert {f: ran_directly[f] for f in FIELDS} == {f: by_module[f] for f in FIELDS}, name

    assert task(direct.results, "lines", host.name)["stdout"] == "a\nb"
    assert task(direct.results, "environment and directory", host.name)["stdout"] == f"hello {host.name} in /tmp"
    assert task(direct.results, "another shell", host.name)["stdout"] == "bash"
    assert task(direct.results, "already there", host.name)["status"] == "ok"  # the module's creates
    failed = task(direct.results, "fails", host.name)
    assert (failed["status"], failed["rc"], failed["stderr"]) == ("failed", 3, "err")  # msg: the module's, above


def test_check_mode_runs_no_command(rb2ansible, ssh_hosts, lab_keys, tmp_path):
    host = ssh_hosts[0]
    stamp = tmp_path / f"stamp-{uuid.uuid4().hex[:8]}"
    runbook = shell_runbook(tmp_path / "rb", stamp)
    inventory = write_inventory(tmp_path / "hosts.ini", [host], lab_keys.private_key)

    checked = rb2ansible("run", str(runbook), "-i", str(inventory), "--check")
    assert checked.code == 0, checked.stdout + checked.stderr
    assert task(checked.results, "stamp", host.name)["status"] == "skipped"
    assert not stamp.exists()
