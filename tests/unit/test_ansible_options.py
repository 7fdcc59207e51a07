"""ansible-playbook's options on `run` and `export`: Ansible's own names, and where each value goes."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from translator.ansible_options import AT_RUN_TIME, PASSED_OPTIONS, ansible_playbook_options
from translator.cli import cli
from translator.inventory_copy import HostList, copy_inventories
from translator.project import RunSettings


def test_every_passed_option_is_spelled_as_ansible_playbook_spells_it():
    ansible = ansible_playbook_options()
    for option in PASSED_OPTIONS:
        _, spellings, _ = ansible[option.dest]
        assert set(option.names) == set(spellings), option.dest


def test_run_and_export_take_ansible_playbooks_names_for_the_options_they_share():
    ansible = ansible_playbook_options()
    for command, expected in (("run", {"inventory", "extra_vars", "forks", "verbosity", "vault_ids",
                                       "vault_password_files", "ask_vault_pass", "become_ask_pass", "ask_pass",
                                       "listhosts", "listtasks", "syntax"}),
                              ("export", {"inventory", "extra_vars", "forks", "verbosity", "vault_ids"})):
        params = {param.ansible_dest: param for param in cli.commands[command].params
                  if getattr(param, "ansible_dest", None)}
        assert expected <= params.keys(), command
        for dest, param in params.items():
            assert isinstance(param, click.Option)
            assert set(param.opts) <= set(ansible[dest][1]), (command, dest)


def test_paths_of_this_machine_are_given_at_run_time_and_never_recorded(tmp_path: Path):
    key = tmp_path / "key"
    settings = RunSettings(limit="web", tags="x,y", remote_user="deploy", connection="ssh", timeout=7, become=True,
                           become_method="su", become_user="app", start_at_task="second", private_key=key,
                           become_password_file=key, connection_password_file=key)
    recorded = settings.recorded_options()
    assert recorded == ["--limit", "web", "--tags", "x,y", "--start-at-task", "second", "--user", "deploy",
                        "--connection", "ssh", "--timeout", "7", "--become", "--become-method", "su",
                        "--become-user", "app"]
    assert str(key) not in recorded
    assert settings.credential_options() == ["--private-key", str(key), "--connection-password-file", str(key),
                                             "--become-password-file", str(key)]
    assert {option.field for option in PASSED_OPTIONS if option.goes == AT_RUN_TIME} == {
        "private_key", "connection_password_file", "become_password_file"}
    assert settings.connection_options() == ["--user", "deploy", "--connection", "ssh", "--timeout", "7",
                                             "--become", "--become-method", "su", "--become-user", "app"]


def test_a_host_list_becomes_the_inventory_ansibles_host_list_plugin_would_make(tmp_path: Path):
    copy_inventories((HostList("web1, web2:2222,[::1]:2200,web1,"),), tmp_path)
    assert yaml.safe_load((tmp_path / "host_list.yml").read_text()) == {"all": {"hosts": {
        "web1": None, "web2": {"ansible_port": 2222}, "::1": {"ansible_port": 2200}}}}


def test_several_sources_keep_their_order_with_host_lists_among_them(tmp_path: Path):
    ini = tmp_path / "hosts.ini"
    ini.write_text("db1\n")
    target = tmp_path / "inventory"
    target.mkdir()
    copy_inventories((HostList("web1,"), ini), target)
    assert sorted(path.name for path in target.iterdir()) == ["01_host_list.yml", "02_hosts_ini"]


def test_list_tasks_chooses_a_parallel_blocks_children_as_ansible_chooses_tasks(tmp_path: Path):
    from tests.integration.conftest import write_runbook
    from translator.build import load_runbook
    from translator.emit import compile_runbook
    from translator.listing import with_parallel_children

    runbook = write_runbook(tmp_path / "rb", """
name: tags
tasks:
- name: both
  parallel:
  - {name: a, echo: a, tags: [x]}
  - {name: b, echo: b}
  - {name: c, echo: c, tags: [always]}
  - name: inner
    serial:
    - {name: d, echo: d, tags: [never, y]}
""")
    compiled = compile_runbook(load_runbook(runbook))
    listing = "    tasks:\n      tags : Parallel: both\tTAGS: [always]\n"

    def children(tags, skip_tags):
        lines = with_parallel_children(listing, compiled, tags, skip_tags).splitlines()[2:]
        return [line.strip().split("\t")[0] for line in lines]

    assert children(None, None) == ["a", "b", "c"]  # `never` runs only when asked for
    assert children("x", None) == ["a", "c"]
    assert children("y", None) == ["c", "inner (serial, in order)", "d"]
    assert children("tagged", "always") == ["a"]  # d is tagged, but `never` wins
    assert children(None, "all") == ["c"]
