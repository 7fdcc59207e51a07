"""What is shown under a task's line: from replayed runs, and from results too long or broken to record one of."""

from __future__ import annotations

from dataclasses import replace

from tests.unit.test_results_mapper import EVENTS, replay
from translator.results import HostResult
from translator.task_output import LINE_CHARACTERS, TAIL_LINES, detail_lines


def shown(case: str, name: str, verbosity: int, host: str = "localhost") -> list[str]:
    results = replay(EVENTS / case)
    leaf = next(leaf for leaf in results.leaves.values() if leaf.name == name)
    return detail_lines(leaf, results.tasks[leaf.task_id][host], verbosity)


def test_an_echo_shows_its_value_at_every_verbosity():
    assert shown("serial-outcomes", "say", 0) == ["hello"]
    assert shown("serial-outcomes", "say", 1) == ["hello"]


def test_a_shell_tasks_output_is_shown_with_v_only():
    assert shown("serial-outcomes", "change something", 0) == []
    assert shown("serial-outcomes", "change something", 1) == ["stdout | changed", "stderr | warning"]


def test_a_failure_shows_its_code_and_its_stderr_without_v():
    lines = shown("serial-outcomes", "fail for real", 0)
    assert lines[0].startswith("msg | rc=5")
    assert "stderr | bad" in lines


def test_tasks_left_out_by_tags_say_so_with_v():
    assert shown("tags-and-warnings", "untagged", 0) == []
    assert shown("tags-and-warnings", "untagged", 1) == ["msg | not selected by --tags x"]


def test_the_host_a_pause_ran_on_is_named_for_the_other_host():
    assert shown("pause-on-two-hosts", "wait a moment", 1, "h2") == ["ran once for every host, on h1"]


def failed(**fields) -> tuple:
    results = replay(EVENTS / "serial-outcomes")
    leaf = next(leaf for leaf in results.leaves.values() if leaf.name == "fail for real")
    return leaf, replace(HostResult(status="failed"), **fields)


def test_a_module_that_never_ran_shows_what_its_interpreter_said():
    leaf, result = failed(msg="The module interpreter '/usr/bin/python3.13' was not found.", rc=127,
                          values={"module_stderr": "/bin/sh: 1: /usr/bin/python3.13: not found\n"})
    assert detail_lines(leaf, result, 0) == [
        "msg | rc=127: The module interpreter '/usr/bin/python3.13' was not found.",
        "module_stderr | /bin/sh: 1: /usr/bin/python3.13: not found"]


def test_long_values_are_cut_with_an_ellipsis_keeping_the_cause():
    cause = "pyenv: python3.13: command not found"
    long_msg = "Task failed: " + "wrapper " * 60 + cause
    stderr = "\n".join(f"line {n}" for n in range(50))
    leaf, result = failed(msg=long_msg, stderr=stderr)
    lines = detail_lines(leaf, result, 0)
    assert lines[0].startswith("msg | …") and lines[0].endswith(cause)
    assert len(lines[0]) == len("msg | ") + LINE_CHARACTERS
    assert lines[1:] == ["stderr | … 45 earlier lines", *(f"stderr | line {n}" for n in range(50 - TAIL_LINES, 50))]
