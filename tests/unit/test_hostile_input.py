"""Hostile input ends with exit 2 and a located message, never a traceback, a hang or a Python object.

The four cases of issue 10 (5,000 levels of nesting, a billion laughs, `!!python/object`, `!!binary`
junk) and the paths that cannot be used run the installed command as a user would, with a
generous timeout that only stands for "does not hang". The rest run in-process.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tests.conftest import ROOT
from translator import cli as cli_module
from translator.build import load_runbook
from translator.errors import RunbookInvalid
from translator.loader import MAX_ALIAS_EXPANSION, MAX_DEPTH, scalar_value

HANG = 30  # seconds: far above the 2 s these take, only there so that a hang fails instead of blocking


def located(output: str, path: Path) -> list[str]:
    """The `path:line:col: error: message` lines about `path`."""
    return re.findall(rf"^{re.escape(str(path))}:\d+:\d+: error: .+$", output, re.MULTILINE)


def command(rb2ansible_command, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([*rb2ansible_command, *args], capture_output=True, text=True, timeout=HANG,
                          stdin=subprocess.DEVNULL)
    assert "Traceback" not in done.stdout + done.stderr
    return done


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def nested_runbook(levels: int) -> str:
    """`levels` serial/parallel blocks, one inside the other, around one echo (flow style: one line)."""
    opening = "".join(f"[{{name: 'level {n}', {('serial', 'parallel')[n % 2]}: " for n in range(levels))
    return f"name: deep\ntasks: {opening}[{{name: leaf, echo: hi}}]{'}]' * levels}\n"


LAUGHS = "name: bomb\nvars:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"  l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]\n" for n in range(1, 10)) + "tasks:\n- {name: x, echo: hi}\n"


# -- the four cases of issue 10, as a user meets them ---------------------------------------------------


def test_a_runbook_nested_5000_levels_deep(rb2ansible_command, tmp_path):
    runbook = write(tmp_path / "run.yml", nested_runbook(5000))
    done = command(rb2ansible_command, "validate", str(runbook))
    assert done.returncode == 2
    [message] = located(done.stderr, runbook)
    assert re.fullmatch(rf".*:2:\d+: error: nested more than {MAX_DEPTH} levels deep; flatten the structure", message)


def test_a_billion_laughs_in_vars(rb2ansible_command, tmp_path):
    runbook = write(tmp_path / "run.yml", LAUGHS)
    done = command(rb2ansible_command, "validate", str(runbook))
    assert done.returncode == 2
    [message] = located(done.stderr, runbook)
    assert f"aliases expand to more than {MAX_ALIAS_EXPANSION:,} values" in message


def test_a_python_object_tag_is_refused_and_never_built(rb2ansible_command, tmp_path):
    marker = tmp_path / "constructed"
    runbook = write(tmp_path / "run.yml", "name: p\ntasks:\n- name: x\n"
                                          f"  echo: !!python/object/apply:os.system ['touch {marker}']\n")
    done = command(rb2ansible_command, "validate", str(runbook))
    assert done.returncode == 2
    assert located(done.stderr, runbook) == [
        f"{runbook}:4:9: error: unsupported YAML tag '!!python/object/apply:os.system' (rb2ansible reads strings, "
        "numbers, booleans, null, dates, lists, mappings and !vault)"]
    assert not marker.exists()


def test_binary_junk(rb2ansible_command, tmp_path):
    runbook = write(tmp_path / "run.yml", "name: p\ntasks:\n- name: x\n  echo: !!binary 'not base64 !!!'\n")
    done = command(rb2ansible_command, "validate", str(runbook))
    assert done.returncode == 2
    assert located(done.stderr, runbook)[0].startswith(f"{runbook}:4:9: error: unsupported YAML tag '!!binary'")


# -- what the loader refuses, and where it says so --------------------------------------------------------


@pytest.mark.parametrize(("value", "column", "message"), [
    ("!!int abc", 9, "cannot read 'abc' as int: invalid literal"),
    ("!!float x", 9, "cannot read 'x' as float: could not convert"),
    ("!!bool maybe", 9, "cannot read 'maybe' as bool"),
    ("2001-13-45", 9, "cannot read '2001-13-45' as timestamp: month must be in 1..12"),
    ("!!timestamp 2001-02-30", 9, "cannot read '2001-02-30' as timestamp: day is out of range for month"),
    ("1" * 5000, 9, "cannot read '1111111111111111111111111111111111111111' as int: Exceeds the limit"),
    ("!!set {a, b}", 9, "unsupported YAML tag '!!set'"),
    ("!unsafe x", 9, "unsupported YAML tag '!unsafe'"),
    ("!vault [1]", 9, "'!vault' marks an encrypted text value, not a list or a mapping"),
    ('"a\\x00b"', 9, "character U+0000 is not allowed in a value"),
    ('"\\ud800"', 9, "character U+D800 is not allowed in a value"),
    ('"\\e[31m"', 9, "character U+001B is not allowed in a value"),
    ("a\x01b", 10, "character U+0001 is not allowed in YAML"),
    ("a\x7f", 10, "character U+007F is not allowed in YAML"),
    ("{a: &a [1, *a]}", 20, "alias *a refers to a collection that contains it"),
])
def test_a_value_yaml_cannot_or_should_not_read_is_a_located_error(tmp_path, value, column, message):
    runbook = write(tmp_path / "run.yml", f"name: p\ntasks:\n- name: x\n  echo: {value}\n")
    with pytest.raises(RunbookInvalid) as invalid:
        load_runbook(runbook)
    [diagnostic] = invalid.value.diagnostics
    assert (diagnostic.location.line, diagnostic.location.col) == (4, column)
    assert diagnostic.message.startswith(message)


def test_every_file_a_runbook_reads_is_loaded_the_same_way(tmp_path):
    write(tmp_path / "run.yml", "name: p\nvars_files: [more.yml]\ntasks:\n- {name: x, echo: hi}\n")
    for name in ("var.yml", "more.yml", "inventory.yml"):
        write(tmp_path / name, "x: !!python/name:os.system ''\n")
        with pytest.raises(RunbookInvalid) as invalid:
            load_runbook(tmp_path)
        assert [str(d) for d in invalid.value.diagnostics] == [
            f"{tmp_path / name}:1:4: error: unsupported YAML tag '!!python/name:os.system' (rb2ansible reads "
            "strings, numbers, booleans, null, dates, lists, mappings and !vault)"]
        (tmp_path / name).unlink()
    write(tmp_path / "var.yml", LAUGHS.split("tasks:")[0].replace("name: bomb\nvars:\n", ""))
    with pytest.raises(RunbookInvalid) as invalid:
        load_runbook(tmp_path)
    assert invalid.value.diagnostics[0].location.path == tmp_path / "var.yml"


@pytest.mark.parametrize(("value", "message"), [
    ("{a: !!python/object:os.system {}}", "-e:1:5: error: unsupported YAML tag '!!python/object:os.system'"),
    ("{a: &a [*a]}", "-e:1:9: error: alias *a refers to a collection that contains it"),
    ("{" + LAUGHS.split("vars:\n")[1].split("tasks:")[0].replace("\n ", ",").strip(",\n") + "}",
     f"error: aliases expand to more than {MAX_ALIAS_EXPANSION:,} values"),
])
def test_extra_vars_given_as_yaml_are_read_with_the_same_refusals(tmp_path, value, message):
    done = CliRunner().invoke(cli_module.cli, ["export", str(ROOT / "runbooks" / "hello"), "-o", str(tmp_path / "out"),
                                               "-e", value])
    assert done.exit_code == 2
    assert message in done.stderr


def test_anchors_aliases_and_merge_keys_that_stay_small_are_fine(tmp_path):
    runbook = write(tmp_path / "run.yml", "name: p\nvars:\n  base: &base {a: 1, b: [1, 2]}\n  copy: *base\n"
                                          "tasks:\n- {name: x, echo: '${copy}'}\n- {name: y, echo: *base}\n")
    assert load_runbook(runbook).vars == {"base": {"a": 1, "b": [1, 2]}, "copy": {"a": 1, "b": [1, 2]}}


def test_a_character_beyond_u_ffff_written_as_json_writes_it_is_one_character(tmp_path):
    node = yaml.compose('"\\ud83d\\ude00"', Loader=yaml.SafeLoader)
    assert scalar_value(node) == "😀"
    runbook = write(tmp_path / "run.yml", 'name: p\nvars: {smile: "\\ud83d\\ude00"}\ntasks:\n- {name: x, echo: hi}\n')
    assert load_runbook(runbook).vars == {"smile": "😀"}


def test_nesting_just_inside_the_limit_compiles_plans_and_exports(tmp_path):
    """Every stage after the loader (build, schedule, emit, the YAML dumper) follows what the loader lets in."""
    deep_value = "[" * (MAX_DEPTH - 3) + "1" + "]" * (MAX_DEPTH - 3)
    runbook = write(tmp_path / "run.yml", nested_runbook((MAX_DEPTH - 3) // 2).replace(
        "tasks:", f"vars: {{deep: {deep_value}}}\ntasks:"))
    runner = CliRunner()
    for args in (["validate", str(runbook)], ["plan", str(runbook)], ["export", str(runbook), "-o",
                                                                       str(tmp_path / "out")]):
        done = runner.invoke(cli_module.cli, args)
        assert done.exit_code == 0, done.output
    assert (tmp_path / "out" / "project" / "site.yml").is_file()


# -- found by the property test ------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    ("rolling: '²%'\ntasks: [{name: a, echo: hi}]", "2:10: error: 'rolling' is a number of hosts per batch"),
    (f"vars_files: [{'n' * 300}]\ntasks: [{{name: a, echo: hi}}]", "2:14: error: vars file not found: "),
    (f"tasks: [{{name: i, include: {{runbook: {'n' * 300}}}}}]", "2:28: error: included runbook not found: "),
], ids=["a digit int() cannot read", "a vars file name too long", "an include name too long"])
def test_values_the_system_cannot_use_are_located_errors(tmp_path, text, message):
    runbook = write(tmp_path / "run.yml", f"name: n\n{text}\n")
    with pytest.raises(RunbookInvalid) as invalid:
        load_runbook(runbook)
    assert str(invalid.value.diagnostics[0]).startswith(f"{runbook}:{message}")


def test_a_runbook_named_at_length_exports(tmp_path):
    """The role takes its name from the runbook; a directory name has a limit the runbook name does not."""
    runbook = write(tmp_path / "run.yml", f"name: {'x' * 300}\ntasks: [{{name: a, echo: hi}}]\n")
    done = CliRunner().invoke(cli_module.cli, ["export", str(runbook), "-o", str(tmp_path / "out")])
    assert done.exit_code == 0, done.output
    assert [role.name for role in (tmp_path / "out" / "project" / "roles").iterdir()] == ["x" * 64]


def test_variables_named_like_yaml_1_1_booleans_are_located_errors(tmp_path):
    """Issue 10: `vars: {'no': 1}` validated and then export was exit 3; such names are refused up front."""
    text = "name: n\nvars: {'no': 1, 'on': 2, 'True': 3}\ntasks: [{name: a, echo: hi}]\n"
    runbook = write(tmp_path / "run.yml", text)
    done = CliRunner().invoke(cli_module.cli, ["export", str(runbook), "-o", str(tmp_path / "out")])
    assert done.exit_code == 2, done.output
    for name, line_col in (("no", "2:8"), ("on", "2:17"), ("True", "2:26")):
        assert f"{runbook}:{line_col}: error: '{name}' cannot be a variable name" in done.output
    assert not (tmp_path / "out").exists()


def test_variables_named_at_length_export(tmp_path):
    names = "{" + "v" * 200 + ": 4}"
    runbook = write(tmp_path / "run.yml", f"name: n\nvars: {names}\ntasks: [{{name: a, echo: hi, vars: {names}}}]\n")
    done = CliRunner().invoke(cli_module.cli, ["export", str(runbook), "-o", str(tmp_path / "out")])
    assert done.exit_code == 0, done.output
    tasks = yaml.safe_load((tmp_path / "out" / "project" / "roles" / "n" / "tasks" / "main.yml").read_text())
    assert tasks[0]["vars"] == {"v" * 200: 4}


# -- paths that cannot be used: exit 2 naming the path, before anything runs ------------------------------


@pytest.fixture
def marking_runbook(tmp_path) -> tuple[Path, Path]:
    """A runbook whose first task leaves a mark: proof of whether anything ran."""
    marker = tmp_path / "ran"
    return write(tmp_path / "rb" / "run.yml", f"name: mark\ntasks:\n- {{name: mark, shell: touch {marker}}}\n"), marker


@pytest.mark.parametrize(("option", "target", "problem"), [
    ("--results", "/proc/x.json", "cannot write /proc/x.json: /proc does not take new files"),
    ("--results", "{tmp}/no/such/r.json", "cannot write {tmp}/no/such/r.json: {tmp}/no/such does not exist"),
    ("--results", "{tmp}", "is a directory"),
    ("--export", "/nonexistent/x", "cannot write /nonexistent/x: /nonexistent does not exist"),
    ("--export", "{tmp}/rb/run.yml/x", "cannot write {tmp}/rb/run.yml/x: {tmp}/rb/run.yml is not a directory"),
])
def test_run_refuses_a_path_it_cannot_write_before_running(rb2ansible_command, marking_runbook, tmp_path, option,
                                                          target, problem):
    runbook, marker = marking_runbook
    done = command(rb2ansible_command, "run", str(runbook), option, target.format(tmp=tmp_path))
    assert done.returncode == 2
    assert problem.format(tmp=tmp_path) in done.stderr
    assert not marker.exists()


@pytest.mark.parametrize(("target", "problem"), [
    ("/nonexistent/x", "cannot write /nonexistent/x: /nonexistent does not exist"),
    ("/proc/x", "cannot write /proc/x: /proc does not take new files"),
    ("{tmp}/rb/run.yml/x", "cannot write {tmp}/rb/run.yml/x: {tmp}/rb/run.yml is not a directory"),
])
def test_export_refuses_an_output_it_cannot_write(rb2ansible_command, marking_runbook, tmp_path, target, problem):
    runbook, _ = marking_runbook
    done = command(rb2ansible_command, "export", str(runbook), "-o", target.format(tmp=tmp_path))
    assert done.returncode == 2
    assert problem.format(tmp=tmp_path) in done.stderr
    assert not Path("/nonexistent").exists()


def test_init_makes_missing_directories_but_refuses_where_none_can_be_made(rb2ansible_command, tmp_path):
    done = command(rb2ansible_command, "init", "/proc/x/y")
    assert done.returncode == 2
    assert "cannot write /proc/x/y: /proc does not take new files" in done.stderr
    assert command(rb2ansible_command, "init", str(tmp_path / "a" / "b")).returncode == 0
    assert (tmp_path / "a" / "b" / "run.yml").is_file()


def test_a_runbook_that_cannot_be_read_is_named(rb2ansible_command, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    directory = tmp_path / "dir"
    (directory / "run.yml").mkdir(parents=True)
    binary = tmp_path / "binary.yml"
    binary.write_bytes(b"name: \xff\xfe\n")
    fifo = tmp_path / "fifo.yml"
    os.mkfifo(fifo)  # reading it would wait for a writer forever
    for runbook, problem in [(empty, f"{empty / 'run.yml'}:1:1: error: file not found"),
                             (directory, f"{directory / 'run.yml'}:1:1: error: not a regular file"),
                             (binary, f"{binary}:1:1: error: cannot read: not UTF-8 text (invalid start byte at "
                                      "byte 6)"),
                             (fifo, f"{fifo}:1:1: error: not a regular file")]:
        done = command(rb2ansible_command, "validate", str(runbook))
        assert done.returncode == 2, runbook
        assert problem in done.stderr


# -- one object decides the exit code --------------------------------------------------------------------


def test_a_defect_is_exit_3_with_the_debug_log_and_no_traceback(monkeypatch, tmp_path):
    def broken(path):
        raise KeyError("a defect")

    monkeypatch.setattr("translator.build.load_runbook", broken)
    monkeypatch.setattr(cli_module, "DEBUG_LOG", tmp_path / "debug.log")
    done = CliRunner().invoke(cli_module.cli, ["validate", str(ROOT / "runbooks" / "hello")])
    assert done.exit_code == 3
    assert done.stderr == f"rb2ansible: internal error; details in {tmp_path / 'debug.log'}\n"
    assert "KeyError: 'a defect'" in (tmp_path / "debug.log").read_text()
    assert (tmp_path / "debug.log").stat().st_mode & 0o777 == 0o600


def test_includes_nesting_past_what_python_follows_are_exit_2_at_the_runbook(tmp_path):
    """The loader bounds each file; a chain of runbooks including runbooks can still go deeper."""
    files = 30
    for number in range(files - 1):
        include = f"{{name: inc, include: {{runbook: r{number + 1}.yml}}}}"
        write(tmp_path / f"r{number}.yml", nested_runbook(45).replace("{name: leaf, echo: hi}", include))
    write(tmp_path / f"r{files - 1}.yml", nested_runbook(45))
    for command in ("validate", "plan"):
        done = CliRunner().invoke(cli_module.cli, [command, str(tmp_path / "r0.yml")])
        assert done.exit_code == 2
        assert done.stderr.startswith(f"{tmp_path / 'r0.yml'}:1:1: error: the runbook and the runbooks it includes "
                                      "nest too deeply")


def test_exit_codes_for_success_and_invalid_in_process():
    runner = CliRunner()
    assert runner.invoke(cli_module.cli, ["validate", str(ROOT / "runbooks" / "hello")]).exit_code == 0
    invalid = runner.invoke(cli_module.cli, ["validate", str(ROOT / "tests" / "cases" / "invalid" / "yaml-syntax.yml")])
    assert invalid.exit_code == 2 and invalid.stderr.endswith("nothing was run\n")
