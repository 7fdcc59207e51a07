"""What a run shows, piped and on a terminal: echo values, -v output, failure causes, Ansible's warnings;
and the statuses that are not one event's: tasks left out by --tags, a pause on several hosts."""

from __future__ import annotations

import json
import re

import pytest

from tests.integration.conftest import paper_example_copy, task, write_runbook
from tests.integration.lab_runs import everything_printed, new_marker, run_at_terminal, statuses
from tests.lab.inventory import write_inventory

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def screen(transcript: str) -> str:
    """A terminal transcript as text: colours and cursor moves left out."""
    return ANSI.sub("", transcript).replace("\r", "")


def after_the_tree(output: str, runbook: str) -> str:
    """What a run printed after its tasks: the warnings, then the summary titled `<runbook>: <status>`."""
    tail = output[output.rindex("Ansible's warnings:"):]
    assert re.search(rf"^{re.escape(runbook)}: (successful|failed)", tail, re.M), output
    return tail


def mitogen_strategy_warnings(fast_runs: bool) -> list[str]:
    """What Ansible says of a run with Mitogen's strategy (README: `run --fast`): ansible-core 2.19+ deprecates
    third-party strategies."""
    from ansible.release import __version__ as core_version

    if not fast_runs or tuple(map(int, core_version.split(".")[:2])) < (2, 19):
        return []
    return ["[DEPRECATION WARNING]: Use of strategy plugins not included in ansible.builtin are deprecated and do "
            "not carry any backwards compatibility guarantees. No alternative for third party strategy plugins is "
            "currently planned. This feature will be removed in the future."]


@pytest.fixture
def inventory(ssh_hosts, lab_keys, tmp_path):
    return write_inventory(tmp_path / "hosts.ini", ssh_hosts[:2], lab_keys.private_key, group="web")


def test_the_paper_examples_echo_value_is_printed_piped_and_on_a_terminal(rb2ansible, tmp_path):
    value = f"echoed {new_marker()}"
    project, _ = paper_example_copy(tmp_path, value)

    piped = rb2ansible("run", str(project))

    assert piped.code == 0, everything_printed(piped)
    lines = piped.stdout.splitlines()
    echo_line = next(i for i, line in enumerate(lines) if line.startswith("✓ ok echo1"))
    assert lines[echo_line + 1] == f"    {value}", piped.stdout
    at_terminal = run_at_terminal(["run", str(project)], [])
    assert at_terminal.code == 0, at_terminal.transcript
    assert re.search(rf"echo1 .*\n.*└── {value}", screen(at_terminal.transcript)), at_terminal.transcript


def test_v_shows_a_shell_tasks_output_and_no_log_stays_hidden(rb2ansible, tmp_path):
    marker = new_marker()
    runbook = write_runbook(tmp_path / "rb", f"""
name: outputs
tasks:
- name: speak
  shell: echo out-{marker}; echo err-{marker} >&2
- name: keep quiet
  shell: echo secret-{marker}
  no_log: true
- name: together
  parallel:
  - name: keep quiet in parallel
    shell: echo secret-{marker}
    no_log: true
  - name: talk in parallel
    shell: echo parallel-{marker}
""")
    quiet = rb2ansible("run", str(runbook))
    verbose = rb2ansible("run", str(runbook), "-v")
    ansible_too = rb2ansible("run", str(runbook), "-vvv")

    assert quiet.code == verbose.code == ansible_too.code == 0, everything_printed(verbose)
    assert f"out-{marker}" not in quiet.stdout
    assert f"    stdout | out-{marker}\n    stderr | err-{marker}\n" in verbose.stdout
    # Ansible's own verbose output, as ansible-playbook -vvv prints it, besides rb2ansible's own lines.
    assert "TASK [outputs : Speak]" in ansible_too.stdout and "ESTABLISH LOCAL CONNECTION" in ansible_too.stdout
    assert f"stdout | out-{marker}" in ansible_too.stdout
    assert f"    stdout | parallel-{marker}\n" in verbose.stdout
    at_terminal = run_at_terminal(["run", str(runbook), "-v"], [])
    assert f"stdout | out-{marker}" in screen(at_terminal.transcript)
    for done in (quiet, verbose, ansible_too):
        assert f"secret-{marker}" not in everything_printed(done) + json.dumps(done.results)
    assert f"secret-{marker}" not in at_terminal.transcript


def test_a_missing_interpreter_shows_its_error_line(rb2ansible, ssh_hosts, lab_keys, tmp_path, fast_runs):
    inventory = write_inventory(tmp_path / "hosts.ini", ssh_hosts[:1], lab_keys.private_key, group="web")
    inventory.write_text(inventory.read_text().replace("/usr/bin/python3", "/usr/bin/python3.13"))
    # A module that needs Python on the host (a plain `shell` command line needs none).
    runbook = write_runbook(tmp_path / "rb", "name: interpreter\nhosts: web\ntasks:\n- name: probe\n  ping: {}\n")

    done = rb2ansible("run", str(runbook), "-i", str(inventory))

    assert done.code == 1, everything_printed(done)
    said = r"/usr/bin/python3\.13: (not found|No such file)"
    if fast_runs:
        # Mitogen's connection is that interpreter, started once on the host: without it the host is unreachable,
        # and Mitogen's message carries what the host's shell said.
        assert statuses(done.results, "probe") == {ssh_hosts[0].name: "unreachable"}
        assert re.search(rf"msg \| .*{said}", done.stdout), done.stdout
        return
    assert statuses(done.results, "probe") == {ssh_hosts[0].name: "failed"}
    # What the host's shell said, not only Ansible's "Module result deserialization failed".
    assert re.search(rf"module_stderr \| .*{said}", done.stdout), done.stdout
    assert "/usr/bin/python3.13" in task(done.results, "probe", ssh_hosts[0].name)["values"]["module_stderr"]


def test_a_host_pattern_part_that_matches_nothing_is_named_after_the_tree(rb2ansible, ssh_hosts, inventory,
                                                                         tmp_path):
    runbook = write_runbook(tmp_path / "rb", "name: typo\nhosts: web:typo\ntasks:\n- name: hi\n  echo: hi\n")

    piped = rb2ansible("run", str(runbook), "-i", str(inventory))

    assert piped.code == 0, everything_printed(piped)
    assert statuses(piped.results, "hi") == {h.name: "ok" for h in ssh_hosts[:2]}
    warning = "[WARNING]: Could not match supplied host pattern, ignoring: typo"
    assert warning in after_the_tree(piped.stdout, "typo")
    assert piped.stdout.count(warning) == 1
    assert piped.results["unmatched_patterns"] == ["typo"] and warning in piped.results["warnings"]
    at_terminal = run_at_terminal(["run", str(runbook), "-i", str(inventory)], [])
    assert at_terminal.code == 0, at_terminal.transcript
    assert warning in after_the_tree(screen(at_terminal.transcript), "typo")


def test_tags_leave_an_untagged_task_skipped_not_unrun(rb2ansible, tmp_path):
    runbook = write_runbook(tmp_path / "rb", """
name: tags
tasks:
- name: untagged
  echo: untagged
- name: tagged
  echo: tagged
  tags: [x]
""")
    done = rb2ansible("run", str(runbook), "--tags", "x", "-v")

    assert done.code == 0, everything_printed(done)
    assert statuses(done.results, "untagged") == {"localhost": "skipped"}
    assert statuses(done.results, "tagged") == {"localhost": "ok"}
    assert "- skipped untagged  [localhost]\n    msg | not selected by --tags x" in done.stdout


def test_a_pause_on_two_hosts_is_reported_on_both(rb2ansible, ssh_hosts, inventory, tmp_path):
    runbook = write_runbook(tmp_path / "rb", """
name: pausing
hosts: web
tasks:
- name: wait a moment
  pause: {seconds: 1}
- name: after
  shell: hostname
""")
    done = rb2ansible("run", str(runbook), "-i", str(inventory))

    assert done.code == 0, everything_printed(done)
    both = [h.name for h in ssh_hosts[:2]]
    assert statuses(done.results, "wait a moment") == dict.fromkeys(both, "ok")
    assert statuses(done.results, "after") == dict.fromkeys(both, "changed")
    pauses = [task(done.results, "wait a moment", host) for host in both]
    ran_elsewhere = [p for p in pauses if "ran_on" in p]
    assert len(ran_elsewhere) == 1 and ran_elsewhere[0]["ran_on"] in both


def test_an_inventory_warning_said_before_the_play_is_shown_once(rb2ansible, tmp_path, fast_runs):
    """Ansible warns while reading the inventory, before the playbook starts: still shown after the tree."""
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[web]\nweb ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n")
    # A module that needs Python on the host: under --fast, Mitogen runs it (a runbook of echoes runs without).
    runbook = write_runbook(tmp_path / "rb", "name: same name\nhosts: web\ntasks:\n- name: hi\n  ping: {}\n")

    done = rb2ansible("run", str(runbook), "-i", str(inventory))

    assert done.code == 0, everything_printed(done)
    warning = "[WARNING]: Found both group and host with same name: web"
    assert after_the_tree(done.stdout, "same name").count(warning) == 1
    # Under --fast, ansible-core 2.19+ also warns that Mitogen's strategy is a third-party one, as a user sees.
    expected = [warning, *mitogen_strategy_warnings(fast_runs)]
    assert done.results["warnings"] == expected and done.results["unmatched_patterns"] == []
