"""Which steps `run` fuses (translator/fusion.py), and what the fused task looks like in an export."""

from __future__ import annotations

from translator import fusion
from translator.build import load_runbook
from translator.emit import compile_runbook

RUNBOOK = """
name: fusion
hosts: localhost
tasks:
- {name: a, shell: "echo a"}
- {name: b, shell: {cmd: "echo b", chdir: /tmp}}
- {name: registered, shell: "echo r", register: r}
- {name: c, shell: "echo ${r.stdout}"}
- {name: d, shell: "echo d", when: "${r.rc} == 0"}
- {name: e, shell: "echo e"}
- {name: f, shell: {cmd: "echo f", creates: /tmp}}
- {name: g, shell: "echo g"}
- {name: h, shell: {cmd: "echo h", timeout: 5}}
- name: block
  sudo: true
  environment: {A: "1"}
  serial:
  - {name: i, shell: "echo i"}
  - {name: j, shell: "echo j"}
- name: ignored
  ignore_errors: true
  serial:
  - {name: k, shell: "echo k"}
  - {name: l, shell: "echo l"}
- name: together
  parallel:
  - {name: m, shell: "echo m"}
  - {name: n, shell: "echo n"}
"""


def _groups(tmp_path, fuse: bool) -> list[list[str]]:
    (tmp_path / "run.yml").write_text(RUNBOOK)
    compiled = compile_runbook(load_runbook(tmp_path / "run.yml"), fuse=fuse)
    names = {leaf.task_id: leaf.name for leaf in compiled.leaves}
    return [[names[i] for i in ref.leaf_ids] for _, ref in sorted(compiled.sites.items()) if ref.kind != "parallel"]


def test_only_plain_steps_side_by_side_are_fused(tmp_path):
    groups = _groups(tmp_path, fuse=True)
    assert ["a", "b"] in groups  # chdir is a step's own
    assert ["c"] in groups and ["d"] in groups and ["registered"] in groups  # c alone: d has a `when`
    assert ["e"] in groups and ["f"] in groups and ["g"] in groups and ["h"] in groups  # creates, timeout
    assert ["i", "j"] in groups  # the block's sudo and environment apply to the run as to each step
    assert ["k"] in groups and ["l"] in groups  # an ignored failure must not stop the next step
    assert all(len(group) == 1 for group in _groups(tmp_path, fuse=False))


def test_a_fused_task_carries_its_steps_for_the_action_to_template(tmp_path):
    (tmp_path / "run.yml").write_text(RUNBOOK)
    compiled = compile_runbook(load_runbook(tmp_path / "run.yml"), fuse=True)
    fused = compiled.tasks[0].fields
    assert fused["rb2ansible.runbook.shell_steps"] == {}
    assert fused["vars"]["rb2ansible_steps"] == [{"name": "a", "cmd": "echo a"},
                                                  {"name": "b", "cmd": "echo b", "chdir": "/tmp"}]
    block = next(task for task in compiled.tasks if task.block)
    assert block.block[0].fields["become"] is True and block.block[0].fields["environment"] == {"A": "1"}


def test_run_fuses_by_default_only_where_hosts_do_not_wait_for_each_other(tmp_path):
    """`run` passes fuse=None unless told: linear (the default strategy) keeps each step a task on every host."""
    def fused_tasks(text: str, fuse) -> int:
        (tmp_path / "run.yml").write_text(text)
        compiled = compile_runbook(load_runbook(tmp_path / "run.yml"), fuse=fuse)
        return sum(ref.kind == "steps" for ref in compiled.sites.values())

    assert fused_tasks(RUNBOOK, None) == 0
    assert fused_tasks(RUNBOOK.replace("hosts: localhost", "hosts: localhost\nstrategy: free"), None) == 2
    assert fused_tasks(RUNBOOK.replace("hosts: localhost", "hosts: localhost\nstrategy: free"), False) == 0
    assert fused_tasks(RUNBOOK, True) == 2


def test_fast_fuses_a_linear_runbook_and_says_what_that_changes(tmp_path):
    """--fast trades linear's lock-step between plain steps for speed, unless --no-fuse; the note says so."""
    (tmp_path / "run.yml").write_text(RUNBOOK)
    runbook = load_runbook(tmp_path / "run.yml")
    compiled = compile_runbook(runbook, fuse=None, fast=True)
    assert compiled.fused_runs == [2, 2]
    note = fusion.lock_step_note(runbook, compiled.fused_runs, None, fast=True)
    assert note.startswith("--fast: 4 plain shell steps run fused as 2 tasks: each host goes through them without "
                           "waiting for the other hosts between steps")
    assert compile_runbook(runbook, fuse=False, fast=True).fused_runs == []
    # Nothing to say where nothing changed: asked for, not --fast, or hosts that never wait for each other.
    assert fusion.lock_step_note(runbook, [2, 2], True, fast=True) is None
    assert fusion.lock_step_note(runbook, [2, 2], None, fast=False) is None
    assert fusion.lock_step_note(runbook, [], None, fast=True) is None
    (tmp_path / "run.yml").write_text(RUNBOOK.replace("hosts: localhost", "hosts: localhost\nstrategy: free"))
    assert fusion.lock_step_note(load_runbook(tmp_path / "run.yml"), [2, 2], None, fast=True) is None
