"""Each emitted task is known by its tasks file and line, as ansible-runner's task_path names it."""

from __future__ import annotations

from pathlib import Path

import yaml

from translator.build import load_runbook
from translator.emit import compile_runbook


def compiled(tmp_path: Path, text: str, **files: str):
    (tmp_path / "run.yml").write_text(text)
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    return compile_runbook(load_runbook(tmp_path / "run.yml"))


def test_every_leaf_is_found_at_the_line_ansible_gives_its_task(tmp_path):
    result = compiled(tmp_path, """name: lines
tasks:
- name: a (2)
  echo: one
- name: together
  parallel:
  - name: a
    shell: sleep 0
  - name: A
    echo: three
    no_log: true
""")
    text = result.roles["lines"].texts["main"]
    found = {}
    for (path, line), ref in result.sites.items():
        assert path == "lines/tasks/main.yml"
        # ansible-core: a task's path is its file and the line its mapping starts on, counted from 1
        assert text.splitlines()[line - 1].lstrip().startswith("- name: ")
        found.setdefault(ref.kind, set()).update(ref.leaf_ids)
    assert found["leaf"] == {"t1", "t3"} and found["launch"] == {"t2"} and found["join"] == {"t2"}
    assert found["changed"] == {"t3"}
    names = [task["name"] for task in yaml.safe_load(text)[1]["block"]] + [yaml.safe_load(text)[0]["name"]]
    assert len(names) == len(set(names)), names
    assert result.ref_at(f"/anywhere/else/lines/tasks/main.yml:{min(line for _, line in result.sites)}") is not None
    assert result.ref_at("/anywhere/else/lines/tasks/main.yml:not-a-line") is None


def test_includes_whose_names_read_alike_get_a_tasks_file_each(tmp_path):
    result = compiled(tmp_path, """name: book
tasks:
- name: a-b
  include: {runbook: sub.yml}
- name: a b
  include: {runbook: sub.yml}
""", **{"sub.yml": "name: sub\ntasks:\n- name: say\n  echo: hi\n"})
    assert sorted(result.roles["sub"].task_files) == ["a_b", "a_b_2", "main"]
    played = {path for path, _ in result.sites}
    assert played == {"sub/tasks/a_b.yml", "sub/tasks/a_b_2.yml"}, "main.yml of sub is for the role used alone"
