"""Answers of ansible-core kept on disk: the same as Ansible's, only for its own files, and never a reason to fail."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from translator import ansible_memo
from translator.modules import _ansible
from translator.nodes import reserved_names

# Imported only to ask Ansible something: a `validate` that needs no answer it has not kept must not load them.
ANSIBLE_MACHINERY = ("ansible.plugins.loader", "ansible.playbook", "ansible.constants", "ansible.vars.reserved")


@pytest.fixture
def memo_dir(tmp_path, monkeypatch):
    """A fresh memo file for this test; every in-process answer forgotten before and after."""
    monkeypatch.setattr(ansible_memo, "CACHE_DIR", tmp_path / "cache")
    forget()
    yield tmp_path / "cache"
    forget()


def forget() -> None:
    for function in (ansible_memo._answers, ansible_memo._file, _ansible.fqcn, _ansible.runs_async,
                     _ansible.argument_spec, reserved_names):
        function.cache_clear()


def kept(memo_dir) -> dict:
    [path] = memo_dir.glob("ansible-*.json")
    return json.loads(path.read_text())


def test_answers_read_back_from_the_file_are_the_ones_ansible_gives(memo_dir):
    asked = (_ansible.argument_spec("ansible.builtin.copy"), _ansible.runs_async("ansible.builtin.copy"),
             _ansible.fqcn("ansible.builtin.copy"), reserved_names())
    assert asked[0] == _ansible._argument_spec("ansible.builtin.copy")
    assert set(kept(memo_dir)) == {"format", "arguments ansible.builtin.copy", "runs async ansible.builtin.copy",
                                   "own module ansible.builtin.copy", "reserved names"}
    forget()  # a new process: everything comes from the file now
    assert (_ansible.argument_spec("ansible.builtin.copy"), _ansible.runs_async("ansible.builtin.copy"),
            _ansible.fqcn("ansible.builtin.copy"), reserved_names()) == asked
    assert "when" in asked[3] and asked[1] is False and "dest" in asked[0].names


def test_only_ansible_cores_own_modules_are_kept(memo_dir):
    assert _ansible.fqcn("ansible.builtin.no_such_module") is None  # asked again next time: it may be installed
    assert _ansible.fqcn("no_such_module") is None
    assert _ansible.fqcn("stat") == "ansible.builtin.stat"  # a short name: kept with what decides its meaning
    assert _ansible.runs_async("ansible.builtin.stat") is True
    assert set(kept(memo_dir)) == {"format", "runs async ansible.builtin.stat", "short name stat"}
    assert kept(memo_dir)["short name stat"]["answer"] == "ansible.builtin.stat"


def test_a_short_name_is_asked_again_once_a_library_folder_or_the_configuration_changes(tmp_path):
    """`stat` means ansible-core's module until a module of that name appears in a folder Ansible searches."""
    library = tmp_path / "library"
    library.mkdir()
    probe = ("import sys\nfrom translator.modules import _ansible\n"
             "print(_ansible.fqcn('stat'), 'ansible.plugins.loader' in sys.modules)\n")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "ANSIBLE_LIBRARY": str(library)}

    def ask(**changes) -> str:
        return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env={**env, **changes},
                              cwd=ROOT, check=True).stdout.strip()

    assert ask() == "ansible.builtin.stat True"
    assert ask() == "ansible.builtin.stat False"  # kept: Ansible not loaded
    (library / "stat.py").write_text("#!/usr/bin/python\nprint('{}')\n")
    assert ask() == "stat True"  # the user's module shadows ansible-core's (Ansible names it so)
    (library / "stat.py").unlink()
    assert ask() == "ansible.builtin.stat True"
    assert ask(ANSIBLE_LIBRARY=str(tmp_path)) == "ansible.builtin.stat True"  # another configuration: asked
    assert ask() == "ansible.builtin.stat True"  # and back: asked again, the file keeps the latest answer
    assert ask() == "ansible.builtin.stat False"


@pytest.mark.parametrize("damage", ["garbage", "wrong format", "a directory in its place", "cannot be created"])
def test_a_memo_that_cannot_be_read_or_written_costs_the_import_and_nothing_else(memo_dir, damage):
    if damage == "cannot be created":
        memo_dir.parent.joinpath("cache").write_text("a file where the directory should be\n")
    else:
        memo_dir.mkdir()
        path = ansible_memo._file()
        if damage == "garbage":
            path.write_text("{not json")
        elif damage == "wrong format":
            path.write_text(json.dumps({"format": 0, "reserved names": ["nothing"]}))
        else:
            path.mkdir()
    assert "when" in reserved_names()
    assert _ansible.argument_spec("ansible.builtin.copy") == _ansible._argument_spec("ansible.builtin.copy")


def test_validate_of_the_hello_runbook_loads_no_ansible_machinery_once_answers_are_kept(tmp_path):
    """Issue 12: `validate` of a small runbook paid for loading Ansible's plugin system on every run."""
    probe = ("import sys\nfrom click.testing import CliRunner\nfrom translator.cli import cli\n"
             f"result = CliRunner().invoke(cli, ['validate', {str(ROOT / 'runbooks' / 'hello')!r}])\n"
             "print(result.exit_code, result.output.strip())\n"
             f"print(sorted(name for name in {ANSIBLE_MACHINERY!r} if name in sys.modules))\n")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    first, second = (subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                                    cwd=tmp_path, check=True).stdout.splitlines() for _ in range(2))
    assert first[0].startswith("0 ") and first[0].endswith("ok (6 tasks)")
    assert first[1] != "[]"  # the first run asked Ansible
    assert second == [first[0], "[]"]


def test_the_fingerprint_keeps_no_value_of_the_environment(memo_dir, monkeypatch):
    monkeypatch.setenv("ANSIBLE_BECOME_PASSWORD", "hunter2-not-on-disk")
    assert _ansible.fqcn("stat") == "ansible.builtin.stat"
    assert "hunter2-not-on-disk" not in json.dumps(kept(memo_dir))
    assert kept(memo_dir)["short name stat"]["answer"] == "ansible.builtin.stat"
