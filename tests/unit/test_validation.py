"""Validation and the shape of modules: core modules found by name with typed arguments, module
resolution done once per name, async support read from Ansible's classes, and the mistakes that
used to validate and then fail later now refused with a located message (tests/cases/invalid
holds the full diagnostics)."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from translator import modules
from translator.build import load_runbook
from translator.emit import compile_runbook
from translator.errors import RunbookInvalid
from translator.model import ModuleArguments
from translator.modules import _ansible
from translator.modules.echo import EchoArguments
from translator.modules.file import CopyArguments
from translator.modules.shell import ShellArguments
from translator.modules.template import TemplateArguments


def rb2ansible(*args: str) -> subprocess.CompletedProcess:
    """The command line of this checkout (not an installed copy), as a user runs it."""
    return subprocess.run([sys.executable, "-c", "from translator.cli import main; main()", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def messages(path: Path) -> list[str]:
    with pytest.raises(RunbookInvalid) as raised:
        load_runbook(path)
    return [d.message for d in raised.value.diagnostics]


def test_core_modules_are_the_files_of_the_modules_package():
    assert modules.core_names() == ("echo", "file", "role", "shell", "template")
    assert {name: modules.core(name).fqcn for name in modules.core_names()} == {
        "echo": "ansible.builtin.debug", "file": "ansible.builtin.copy",
        "role": "ansible.builtin.include_role", "shell": "rb2ansible.runbook.shell",
        "template": "ansible.builtin.template"}
    assert modules.core("serial") is None and modules.core("_core") is None
    assert list(modules.CORE_MODULES) == ["echo", "file", "role", "shell", "template", "serial", "parallel", "include"]


def test_module_arguments_are_typed_after_the_builder():
    paper = load_runbook(ROOT / "runbooks" / "paper-example")
    leaves = [*load_runbook(ROOT / "runbooks" / "academic-stack").leaves(), *paper.leaves()]
    kinds = {type(leaf.args) for leaf in leaves}
    assert kinds == {EchoArguments, ShellArguments, CopyArguments, TemplateArguments, ModuleArguments}
    copy = next(leaf.args for leaf in paper.leaves() if leaf.name == "copy file")
    assert copy == CopyArguments(source="somefile.files", destination="/root/asdf", mode="0400", owner="1003")


def test_each_module_name_is_resolved_once(tmp_path: Path, monkeypatch):
    """Forty tasks naming the same Ansible module by its short name cost one look-up among
    installed packages' easy modules, not forty (each used to rescan every package's entry points)."""
    scans = []
    real = importlib.metadata.entry_points

    def counting(*args, **kwargs):
        scans.append(kwargs.get("group"))
        return real(*args, **kwargs)

    monkeypatch.setattr(importlib.metadata, "entry_points", counting)
    tasks = "".join(f"- name: check {n}\n  stat: {{path: /tmp/rb2a-{n}}}\n" for n in range(40))
    runbook = load_runbook(write(tmp_path / "many.yml", f"name: many\ntasks:\n{tasks}"))
    assert len(runbook.leaves()) == 40
    assert scans.count("rb2ansible.modules") == 1


@pytest.mark.parametrize(("fqcn", "background"), [
    ("ansible.builtin.command", True),   # its action switches async on inside run()
    ("ansible.builtin.shell", True),     # hands the task to the command action
    ("ansible.builtin.uri", True),
    ("ansible.builtin.lineinfile", True),  # no action plugin of its own: `normal` runs it
    ("ansible.builtin.copy", False),
    ("ansible.builtin.template", False),
    ("ansible.builtin.debug", False),
])
def test_async_support_is_read_from_the_action_class(fqcn: str, background: bool):
    assert _ansible.runs_async(fqcn) is background


def test_argument_specs_come_from_the_module_documentation():
    spec = modules.argument_spec("ansible.builtin.copy")
    assert {"src", "dest", "mode", "content"} <= set(spec.names)
    assert spec.names["attr"] == "attributes"  # aliases are arguments too
    assert modules.argument_spec("ansible.builtin.shell").free_form
    assert modules.argument_spec("ansible.builtin.set_fact").any_keys


def test_a_task_reports_all_of_its_problems(tmp_path: Path):
    path = write(tmp_path / "run.yml", "name: t\ntasks:\n- name: a\n  echo: hi\n"
                                       "- name: a\n  shel: ls\n  sudo: maybe\n")
    found = messages(path)
    assert "duplicate task name 'a' (first used at line 3)" in found
    assert "unknown module 'shel' (did you mean 'shell' or 'serial'?)" in found
    assert "'sudo' must be true or false" in found


def test_unknown_argument_names_the_argument_and_lists_the_modules_arguments(tmp_path: Path):
    path = write(tmp_path / "run.yml", "name: t\ntasks:\n- name: a\n  lineinfile: {bogusarg: 1}\n")
    [message] = messages(path)
    assert message.startswith("'lineinfile' has no argument 'bogusarg'; its arguments: ")
    assert "insertafter" in message and "regexp" in message and "path" in message


@pytest.mark.parametrize("word", ["no", "yes", "on", "off"])
def test_yaml_boolean_words_as_variable_names_are_refused_before_export(tmp_path: Path, word: str):
    """They used to validate, then crash `export` (and `run`) with an internal error."""
    path = write(tmp_path / "run.yml", f"name: t\nvars: {{'{word}': 1}}\ntasks:\n- name: a\n  echo: hi\n")
    done = rb2ansible("export", str(path), "-o", str(tmp_path / "out"))
    assert done.returncode == 2, done.stderr
    assert f"{path}:2:8: error: '{word}' cannot be a variable name: YAML reads it unquoted as" in done.stderr
    assert not (tmp_path / "out").exists()


def test_owner_list_is_a_type_error_not_a_string(tmp_path: Path):
    """`owner: [root, daemon]` used to be exported as the string "['root', 'daemon']"."""
    path = write(tmp_path / "run.yml", "name: t\ntasks:\n- name: a\n"
                                       "  file: {source: '${f}', destination: /tmp/x, owner: [root, daemon]}\n")
    assert messages(path) == ["'owner' must be a string, not a list"]


def test_template_variables_must_be_a_mapping(tmp_path: Path):
    path = write(tmp_path / "run.yml", "name: t\ntasks:\n- name: a\n"
                                       "  template: {source: '${f}', destination: /tmp/x, variables: []}\n")
    assert messages(path) == ["'variables' must be a mapping of names to values, not a list"]


def test_broken_condition_is_a_validation_error_with_its_line(tmp_path: Path):
    path = write(tmp_path / "run.yml", "name: t\ntasks:\n- name: first\n  shell: touch /tmp/rb2a-x\n"
                                       "- name: second\n  echo: hi\n  when: \"{{ env == 'prod' }\"\n")
    with pytest.raises(RunbookInvalid) as raised:
        load_runbook(path)
    [diagnostic] = raised.value.diagnostics
    assert (diagnostic.location.line, diagnostic.location.col) == (7, 9)
    assert diagnostic.message == "Ansible cannot template \"{{ env == 'prod' }\": unexpected '}'"
    assert diagnostic.render().endswith("7 |   when: \"{{ env == 'prod' }\"\n  |         " + "^" * 20)


def test_reserved_variable_names_are_refused(tmp_path: Path):
    path = write(tmp_path / "run.yml", "name: t\nvars: {port: 80}\ntasks:\n- name: a\n  echo: hi\n")
    assert messages(path) == ["'port' is a name Ansible reserves for itself; choose another variable name"]


def test_decimal_looking_mode_suggests_the_octal_one(tmp_path: Path):
    path = write(tmp_path / "run.yml", "name: t\ntasks:\n- name: a\n"
                                       "  file: {source: '${f}', destination: /tmp/x, mode: 644}\n"
                                       "- name: b\n  file: {source: '${f}', destination: /tmp/y, mode: 0644}\n")
    assert messages(path) == ["'mode: 644' is read by YAML as the number 644; quote the octal mode: '0644'"]


def test_timeout_zero_is_refused(tmp_path: Path):
    path = write(tmp_path / "run.yml", "name: t\ntasks:\n- name: a\n  shell: sleep 1\n  timeout: 0\n")
    [message] = messages(path)
    assert message.startswith("'timeout: 0' would mean no time limit at all")


def test_runbooks_use_no_variable_ansible_reserves():
    for runbook in sorted((ROOT / "runbooks").glob("*/run.yml")):
        load_runbook(runbook)  # raises on a reserved name, among other things


def test_template_variables_join_the_vars_a_task_inherits(tmp_path: Path):
    """A template's `variables` are its own task vars: a block's `vars` used to replace them."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "t.j2").write_text("{{ a }} {{ b }}\n")
    path = write(tmp_path / "run.yml", "name: t\ntasks:\n- name: block\n  vars: {a: outer, b: 2}\n  serial:\n"
                                       "  - name: render\n    template: {source: t.j2, destination: /tmp/x,"
                                       " variables: {a: 1}}\n")
    [block] = compile_runbook(load_runbook(path)).tasks
    assert block.block[0].fields["vars"] == {"a": 1, "b": 2}


def test_roles_that_would_share_a_directory_in_the_project_are_refused(tmp_path):
    for folder in ("a/web", "b/web", "roles/clash"):
        (tmp_path / folder / "tasks").mkdir(parents=True)
        (tmp_path / folder / "tasks" / "main.yml").write_text("- name: X\n  ansible.builtin.debug: {msg: x}\n")
    (tmp_path / "run.yml").write_text("name: clash\ntasks:\n- {name: one, role: ./a/web}\n"
                                      "- {name: two, role: ./b/web}\n- {name: again, role: ./a/web}\n"
                                      "- {name: mine, role: clash}\n")
    with pytest.raises(RunbookInvalid) as raised:
        compile_runbook(load_runbook(tmp_path))
    assert [(d.location.line, d.message.split(";")[0]) for d in raised.value.diagnostics] == [
        (4, f"two different roles are named 'web' ({tmp_path / 'a/web'} and {tmp_path / 'b/web'})"),
        (6, "role 'clash' has the name of the role rb2ansible makes of a runbook here")]


def test_requirements_beside_the_runbook_are_checked_at_validation(tmp_path, monkeypatch):
    monkeypatch.setenv("ANSIBLE_ROLES_PATH", str(tmp_path / "installed"))
    (tmp_path / "installed" / "acme.present" / "tasks").mkdir(parents=True)
    (tmp_path / "run.yml").write_text("name: needs roles\ntasks:\n- {name: hi, echo: hi}\n")
    (tmp_path / "requirements.yml").write_text("roles:\n- name: acme.present\n- name: acme.absent\n"
                                               "- src: https://example.invalid/role.tar.gz\n"
                                               "collections:\n- nobody.nocollection\n")
    result = rb2ansible("validate", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.replace(f"{tmp_path}/", "").splitlines()[::4] == [
        "requirements.yml:3:3: error: requirements.yml lists role 'acme.absent', which is not installed; "
        "run: ansible-galaxy install -r requirements.yml",
        "requirements.yml:6:3: error: requirements.yml lists collection 'nobody.nocollection', which is not "
        "installed; run: ansible-galaxy install -r requirements.yml",
        "2 errors; nothing was run"]
