"""--check and --diff change nothing but show the diffs; a second run of core modules changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import write_runbook
from tests.integration.lab_runs import everything_printed, statuses
from tests.lab.inventory import write_inventory


@pytest.fixture
def inventory(ssh_hosts, lab_keys, tmp_path):
    return write_inventory(tmp_path / "hosts.ini", ssh_hosts, lab_keys.private_key)


def config_runbook(directory: Path, out: Path) -> Path:
    return write_runbook(directory, f"""
name: configure
hosts: lab
tasks:
- name: render the config
  template:
    source: app.conf.j2
    destination: "{out}/${{inventory_hostname}}.conf"
    mode: '0644'
    variables: {{listen_port: 8080}}
- name: copy the notes
  file: {{source: notes.txt, destination: "{out}/${{inventory_hostname}}.notes", mode: '0644'}}
- name: render a new file
  template:
    source: app.conf.j2
    destination: "{out}/${{inventory_hostname}}.new"
    mode: '0644'
    variables: {{listen_port: 1}}
""", **{"templates__app.conf.j2": "listen = {{ listen_port }}\n", "files__notes.txt": "new notes\n"})


def test_check_diff_shows_template_and_file_changes_and_changes_nothing(rb2ansible, ssh_hosts, inventory, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    before = {}
    for host in ssh_hosts:
        before[out / f"{host.name}.conf"] = "listen = 80\n"
        before[out / f"{host.name}.notes"] = "old notes\n"
    for path, text in before.items():
        path.write_text(text)
    runbook = config_runbook(tmp_path / "rb", out)

    done = rb2ansible("run", str(runbook), "-i", str(inventory), "--check", "--diff")

    assert done.code == 0, everything_printed(done)
    everyone = {h.name for h in ssh_hosts}
    for name in ("render the config", "copy the notes", "render a new file"):
        assert statuses(done.results, name) == dict.fromkeys(everyone, "changed"), name
    for line in ("-listen = 80", "+listen = 8080", "-old notes", "+new notes", "+listen = 1"):
        assert line in done.stdout, line
    assert {path: path.read_text() for path in before} == before
    assert sorted(out.iterdir()) == sorted(before)


def idempotent_runbook(directory: Path, out: Path) -> Path:
    return write_runbook(directory, f"""
name: settle down
hosts: lab
tasks:
- name: say hello
  echo: hello ${{inventory_hostname}}
- name: copy the notes
  file: {{source: notes.txt, destination: "{out}/${{inventory_hostname}}.notes", mode: '0644'}}
- name: render the config
  template: {{source: app.conf.j2, destination: "{out}/${{inventory_hostname}}.conf", mode: '0600',
             variables: {{listen_port: 8080}}}}
- name: initialise once
  shell: {{cmd: "touch {out}/${{inventory_hostname}}.done", creates: "{out}/${{inventory_hostname}}.done"}}
""", **{"templates__app.conf.j2": "listen = {{ listen_port }}\n", "files__notes.txt": "notes\n"})


def test_second_run_of_core_modules_changes_nothing(rb2ansible, ssh_hosts, inventory, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    runbook = idempotent_runbook(tmp_path / "rb", out)

    first = rb2ansible("run", str(runbook), "-i", str(inventory))
    second = rb2ansible("run", str(runbook), "-i", str(inventory))

    assert first.code == 0 and second.code == 0, everything_printed(first) + everything_printed(second)
    assert all(counts["changed"] == 3 for counts in first.results["hosts"].values()), first.results["hosts"]
    assert second.results["hosts"] == {h.name: {"ok": 4, "changed": 0, "failed": 0, "skipped": 0, "unreachable": 0}
                                       for h in ssh_hosts}
    for entry in second.results["tasks"]:
        assert set(statuses(second.results, entry["name"]).values()) == {"ok"}, entry
