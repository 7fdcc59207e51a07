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
    assert found == {"leaf": {"t1"}, "parallel": {"t2", "t3"}}
    dispatcher = next(ref for ref in result.sites.values() if ref.kind == "parallel")
    # children report under `<the dispatcher's uuid>-b<branch>.<step>`: a leaf branch is step 0
    assert dispatcher.child_at("02fc0000-0001-b7fd-a7fd-000000000007-b0.0") == "t2"
    assert dispatcher.child_at("02fc0000-0001-b7fd-a7fd-000000000007-b1.0") == "t3"
    assert dispatcher.child_at("02fc0000-0001-b7fd-a7fd-000000000007") is None
    branches = yaml.safe_load(result.roles["lines"].texts["parallel_together"])
    names = [task["name"] for task in branches] + [task["name"] for task in yaml.safe_load(text)]
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


def test_a_nested_block_maps_its_children_by_their_place_in_the_tree(tmp_path):
    """parallel: [serial: [a, b], serial: [c, parallel: [d, e]], f], as the action names its children."""
    result = compiled(tmp_path, """name: tree
tasks:
- name: top
  parallel:
  - name: ab
    serial:
    - {name: a, shell: 'true'}
    - {name: b, shell: 'true'}
  - name: cde
    serial:
    - {name: c, shell: 'true'}
    - name: de
      parallel:
      - {name: d, shell: 'true'}
      - {name: e, shell: 'true'}
  - {name: f, shell: 'true'}
""")
    (dispatcher,) = result.sites.values()
    by_name = {leaf.task_id: leaf.name for leaf in result.leaves}
    named = {suffix: by_name[task_id] for suffix, task_id in dispatcher.branches.items()}
    assert named == {"-b0.0": "a", "-b0.1": "b", "-b1.0": "c", "-b1.1-b0.0": "d", "-b1.1-b1.0": "e", "-b2.0": "f"}
    assert dispatcher.child_at("02fc0000-0001-65a2-a7fd-000000000007-b1.1-b0.0") == "t4"
