"""Comments are data: dumped once with the YAML they belong to, on the right lines, never breaking a value."""

from __future__ import annotations

import yaml

from translator import yamlout
from translator.emit import AnsibleTask


def test_task_comments_and_marks_land_on_their_lines_and_the_yaml_reads_back_the_same():
    long_command = "echo" + " word" * 40
    inner = AnsibleTask("run.yml:5 shell 'b > c'", {"name": "C", "ansible.builtin.shell": {"cmd": long_command},
                                                      "register": "seen"},
                        noqa={("name",): "command-instead-of-shell", ("register",): "var-naming[no-role-prefix]"})
    literal = AnsibleTask("run.yml:9 echo 'd'\nsecond line", {"name": "D", "ansible.builtin.debug": {"msg": "a\nb\n"}},
                          noqa={("ansible.builtin.debug", "msg"): "some-rule"})
    outer = AnsibleTask("run.yml:3 parallel 'b'", {"name": "Parallel: b"}, [inner])

    text, _ = yamlout.task_document([outer, literal], "run.yml")

    lines = text.splitlines()
    assert lines[2] == "# run.yml:3 parallel 'b'"
    assert lines[3] == "- name: 'Parallel: b'"
    assert lines[4:6] == ["  block:", "    # run.yml:5 shell 'b > c'"]
    assert lines[6] == "    - name: C  # noqa: command-instead-of-shell"
    assert f"cmd: {long_command}" not in text  # a long value without a mark folds as before
    assert "      register: seen  # noqa: var-naming[no-role-prefix]" in lines
    assert "# run.yml:9 echo 'd' second line" in lines  # a line break cannot end a comment early
    assert "    msg: |  # noqa: some-rule" in lines
    assert yaml.safe_load(text) == [
        {"name": "Parallel: b", "block": [{"name": "C", "ansible.builtin.shell": {"cmd": long_command},
                                           "register": "seen"}]},
        {"name": "D", "ansible.builtin.debug": {"msg": "a\nb\n"}}]


def test_a_marked_long_value_stays_on_one_line():
    value = "x " * 100
    text = yamlout.document({"key": value.strip(), "other": 1}, noqa={("key",): "rule"})
    assert f"key: {value.strip()}  # noqa: rule" in text.splitlines()
    assert yaml.safe_load(text) == {"key": value.strip(), "other": 1}


def test_a_long_tasks_file_is_one_document_whatever_its_parts_end_with():
    """Written TASKS_PER_DUMP tasks at a time: a part that ends with a literal keeping its last line breaks
    (`|+`, which ends a stream with `...`) must not end the file there."""
    def task(number: int, command: str = "true") -> AnsibleTask:
        return AnsibleTask(f"run.yml:{number} shell 't{number}'", {"name": f"T{number}", "shell": command})

    count = yamlout.TASKS_PER_DUMP + 1
    kept = "echo kept\n\n"
    tasks = [task(number, kept if number == yamlout.TASKS_PER_DUMP - 1 else "true") for number in range(count)]
    for fallback in (False, True):  # the writer's text, and PyYAML's for a part the writer leaves to it
        if fallback:
            tasks[0].fields["rate"] = 0.5  # a float: PyYAML's
        text, lines = yamlout.task_document(tasks, "run.yml")
        loaded = yaml.safe_load(text)
        assert len(loaded) == count and loaded[yamlout.TASKS_PER_DUMP - 1]["shell"] == kept
        assert text.endswith("- name: T100\n  shell: 'true'\n")
        assert [line for _, line in lines] == [node.start_mark.line + 1
                                               for node in yaml.compose(text, Loader=yaml.SafeLoader).value]
