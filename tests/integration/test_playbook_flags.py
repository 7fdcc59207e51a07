"""ansible-playbook's flags on `run` and `export`: same names, same effect as ansible-playbook's on the export;
--list-hosts, --list-tasks, --syntax-check print what ansible-playbook prints; host keys checked as Ansible does."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import yaml

from tests.integration.conftest import task, write_runbook
from tests.integration.test_export_is_run import tool

PYTHON = f"ansible_python_interpreter={sys.executable}"  # discovery may find a broken pyenv shim here


def tagged_runbook(directory: Path, out: Path) -> Path:
    return write_runbook(directory, f"""
name: flags
tasks:
- name: tagged x
  shell: echo > {out}/x
  tags: [x]
- name: tagged x and y
  shell: echo > {out}/xy
  tags: [x, y]
- name: untagged
  shell: echo > {out}/u
- name: copied
  file: {{source: note.txt, destination: {out}/note.txt}}
  tags: [x]
- name: both
  parallel:
  - name: child x
    shell: echo > {out}/cx
    tags: [x]
  - name: child plain
    shell: echo > {out}/c
""", **{"files__note.txt": "a note\n"})


def markers(out: Path) -> list[str]:
    found = sorted(path.name for path in out.iterdir())
    for path in out.iterdir():
        path.unlink()
    return found


def ansible_playbook(export: Path, *extra: str) -> str:
    """The export run as its README says, with Ansible alone."""
    cmdline = shlex.split((export / "env" / "cmdline").read_text())
    return tool("ansible-playbook", "site.yml", *cmdline, "-e", "@../env/extravars", *extra,
                cwd=export / "project").stdout


def test_the_issue_flags_do_what_they_do_for_ansible_playbook(rb2ansible, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    runbook = tagged_runbook(tmp_path / "rb", out)
    flags = ["-i", "localhost,", "-c", "local", "-l", "localhost", "-t", "x", "--skip-tags", "y", "-e", PYTHON]

    checked = rb2ansible("run", str(runbook), *flags, "-C", "-D")
    assert checked.code == 0, checked.stdout + checked.stderr
    assert markers(out) == []  # check mode changed nothing
    assert task(checked.results, "copied")["status"] == "changed"  # ...and says what it would have changed
    ran = rb2ansible("run", str(runbook), *flags)
    assert ran.code == 0, ran.stdout + ran.stderr
    by_rb2ansible = markers(out)

    exported = rb2ansible("export", str(runbook), *flags, "-o", str(tmp_path / "export"))
    assert exported.code == 0, exported.stderr
    cmdline = (tmp_path / "export" / "env" / "cmdline").read_text()
    assert "--limit localhost --tags x --skip-tags y" in cmdline and "--connection local" in cmdline
    assert yaml.safe_load((tmp_path / "export" / "inventory" / "host_list.yml").read_text()) == {
        "all": {"hosts": {"localhost": None}}}
    assert "`-i host1,host2,`" in (tmp_path / "export" / "README.md").read_text()
    ansible_playbook(tmp_path / "export", "--check", "--diff")
    assert markers(out) == []
    ansible_playbook(tmp_path / "export")
    assert by_rb2ansible == markers(out) == ["cx", "note.txt", "x"]


def test_list_hosts_and_syntax_check_print_what_ansible_playbook_prints(rb2ansible, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    runbook = tagged_runbook(tmp_path / "rb", out)
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(f"[web]\nweb1 ansible_connection=local {PYTHON}\nweb2 ansible_connection=local\n")
    write_runbook(runbook, (runbook / "run.yml").read_text().replace("name: flags\n", "name: flags\nhosts: web\n"))
    flags = ["-i", str(inventory), "-l", "web1"]
    assert rb2ansible("export", str(runbook), *flags, "-o", str(tmp_path / "export")).code == 0

    for mode in ("--list-hosts", "--syntax-check"):
        listed = rb2ansible("run", str(runbook), *flags, mode)
        assert listed.code == 0, listed.stdout + listed.stderr
        assert listed.stdout == ansible_playbook(tmp_path / "export", mode)
        assert listed.results is None  # nothing ran
    assert "hosts (1):\n      web1\n" in rb2ansible("run", str(runbook), *flags, "--list-hosts").stdout
    assert markers(out) == []


def test_list_tasks_is_ansible_playbooks_listing_with_each_parallel_blocks_children(rb2ansible, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    runbook = tagged_runbook(tmp_path / "rb", out)
    flags = ["-t", "x", "--skip-tags", "y"]
    assert rb2ansible("export", str(runbook), *flags, "-o", str(tmp_path / "export")).code == 0

    listed = rb2ansible("run", str(runbook), *flags, "--list-tasks")

    assert listed.code == 0, listed.stdout + listed.stderr
    by_ansible = ansible_playbook(tmp_path / "export", "--list-tasks")
    lines = listed.stdout.splitlines()
    block = lines.index("      flags : Parallel: both\tTAGS: [always]")
    assert lines[block + 1] == "        child x\tTAGS: [x]"  # child plain is not tagged x: not listed
    assert "\n".join(lines[:block + 1] + lines[block + 2:]) + "\n" == by_ansible
    assert "Tagged x\tTAGS: [x]" in by_ansible and "Untagged" not in by_ansible  # Ansible chose by tags
    every = rb2ansible("run", str(runbook), "--list-tasks").stdout
    assert "        child x\tTAGS: [x]\n        child plain\tTAGS: []\n" in every
    assert markers(out) == []


def test_help_groups_the_options_as_ansible_playbook_does(rb2ansible):
    shown = rb2ansible("run", "--help", results=False).stdout
    general, connection = shown.index("Options:"), shown.index("Connection Options:")
    escalation = shown.index("Privilege Escalation Options:")
    assert general < connection < escalation
    for flag in ("-C, --check", "-D, --diff", "-l, --limit", "-t, --tags", "--skip-tags", "--start-at-task",
                 "--list-hosts", "--list-tasks", "--syntax-check", "-k, --ask-pass", "-K, --ask-become-pass",
                 "--become-password-file", "--connection-password-file"):
        assert general < shown.index(flag) < connection, flag
    for flag in ("-u, --user", "-c, --connection", "-T, --timeout", "--private-key, --key-file"):
        assert connection < shown.index(flag) < escalation, flag
    for flag in ("-b, --become", "--become-method", "--become-user"):
        assert escalation < shown.index(flag), flag
    assert "comma separated host list" not in shown and "host list (host1,host2,)" in shown


def test_a_missing_inventory_path_without_a_comma_is_a_usage_error(rb2ansible, tmp_path):
    runbook = write_runbook(tmp_path / "rb", "name: r\ntasks:\n- {name: e, echo: hi}\n")
    done = rb2ansible("run", str(runbook), "-i", "no-such-file", results=False)
    assert done.code == 2 and "a host list needs a comma: 'no-such-file,'" in done.stderr
    assert "Traceback" not in done.stderr


def test_start_at_task_takes_the_runbooks_task_name(rb2ansible, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    runbook = tagged_runbook(tmp_path / "rb", out)

    done = rb2ansible("run", str(runbook), "--start-at-task", "untagged", "-e", PYTHON)

    assert done.code == 0, done.stdout + done.stderr
    assert markers(out) == ["c", "cx", "note.txt", "u"]  # the two tasks before it did not run


def test_connection_and_become_flags_reach_an_ssh_host_named_in_a_host_list(rb2ansible, ssh_hosts, lab_keys,
                                                                             tmp_path, monkeypatch):
    """-i ADDRESS, with -c ssh -u root --private-key -T and -b --become-method sudo --become-user nobody: what
    the inventory would say, said on the command line; the key's path stays out of the kept directory."""
    host = ssh_hosts[0]
    # A host list carries no variables: the lab's settings come from Ansible's environment instead.
    monkeypatch.setenv("ANSIBLE_HOST_KEY_CHECKING", "False")
    monkeypatch.setenv("ANSIBLE_SSH_COMMON_ARGS", "-o UserKnownHostsFile=/dev/null")
    monkeypatch.setenv("ANSIBLE_PYTHON_INTERPRETER", "/usr/bin/python3")
    # A connection of its own: an earlier test's ControlPersist master to this address would log in for it.
    monkeypatch.setenv("ANSIBLE_SSH_CONTROL_PATH_DIR", str(tmp_path / "cp"))
    runbook = write_runbook(tmp_path / "rb", """
name: reach
hosts: all
tasks:
- name: who
  shell: id -un
""")
    kept = tmp_path / "kept"
    logins = host.log_path.read_text().count("Accepted publickey for root")

    done = rb2ansible("run", str(runbook), "-i", f"{host.address},", "-c", "ssh", "-u", "root",
                      "--private-key", str(lab_keys.private_key), "-T", "20",
                      "-b", "--become-method", "sudo", "--become-user", "nobody", "--export", str(kept))

    assert done.code == 0, done.stdout + done.stderr
    assert task(done.results, "who", host.address)["stdout"] == "nobody"
    assert host.log_path.read_text().count("Accepted publickey for root") > logins  # over SSH, with the key
    assert (kept / "env" / "cmdline").read_text().split() == [
        "--user", "root", "--connection", "ssh", "--timeout", "20", "--become", "--become-method", "sudo",
        "--become-user", "nobody"]
    written = "".join(path.read_text(errors="replace") for path in kept.rglob("*")
                      if path.is_file() and "collections" not in path.parts)
    assert str(lab_keys.private_key) not in written and "--private-key" in (kept / "README.md").read_text()


def test_tags_that_choose_no_task_are_no_mistake_but_a_task_or_host_that_does_not_exist_is(rb2ansible, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    runbook = tagged_runbook(tmp_path / "rb", out)
    nowhere = write_runbook(tmp_path / "nowhere", "name: n\nhosts: nogroup\ntasks:\n- {name: a, echo: a, tags: [x]}\n")

    nothing_chosen = rb2ansible("run", str(runbook), "-t", "no-such-tag")
    no_such_task = rb2ansible("run", str(runbook), "--start-at-task", "no such task")
    no_such_host = rb2ansible("run", str(nowhere), "-t", "x")

    assert nothing_chosen.code == 0, nothing_chosen.stdout + nothing_chosen.stderr
    assert markers(out) == []
    assert no_such_task.code == 2 and "--start-at-task 'no such task': no task of the play" in no_such_task.stderr
    assert no_such_host.code == 2 and "no host matched 'nogroup'" in no_such_host.stderr
