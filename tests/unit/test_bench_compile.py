"""The compile bench's generated runbook stays a valid runbook of the size asked, so its figures measure compiling."""

from __future__ import annotations

from bench.compile import LEAVES_PER_GROUP, write_long_list, write_runbook
from translator.build import load_runbook
from translator.emit import compile_runbook


def test_the_generated_runbook_validates_with_the_number_of_tasks_asked(tmp_path):
    runbook = load_runbook(write_runbook(tmp_path / "bench", 2 * LEAVES_PER_GROUP))
    leaves = runbook.leaves()
    assert len(leaves) == 2 * LEAVES_PER_GROUP
    assert {leaf.module for leaf in leaves} >= {"echo", "shell", "template", "command", "stat", "stamp"}
    assert len(compile_runbook(runbook).leaves) == 2 * LEAVES_PER_GROUP


def test_the_long_list_is_a_serial_list_of_the_steps_asked_first_in_a_parallel_block(tmp_path):
    runbook = load_runbook(write_long_list(tmp_path / "long", 20))
    block = runbook.root.children[0]
    assert [type(child).__name__ for child in block.children] == ["SerialBlock", "ModuleCall"]
    assert type(block).__name__ == "ParallelBlock" and len(block.children[0].children) == 20
