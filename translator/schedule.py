"""Turns a parallel block into rounds of background and foreground work Ansible can run.

Ansible runs one task at a time per host, so overlap comes from async jobs. A parallel block
becomes rounds: round k holds the k-th step of every child (a serial child contributes one step
per round). Each round launches its background-capable leaves as async jobs, runs the others in
the foreground meanwhile, then joins the round's jobs in one task. A leaf whose serial
predecessors failed is skipped by a guard, so a failure stops only its own serial list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import zip_longest

from .model import IncludeBlock, ModuleCall, ParallelBlock, SerialBlock, Task, TaskOptions


@dataclass(frozen=True)
class Slot:
    leaf: ModuleCall
    options: TaskOptions  # the leaf's options with its blocks' options folded in
    background: bool
    foreground_reason: str
    guards: tuple[ModuleCall, ...]  # earlier leaves of the serial lists this leaf belongs to


@dataclass(frozen=True)
class Round:
    number: int
    slots: tuple[Slot, ...]

    @property
    def background(self) -> tuple[Slot, ...]:
        return tuple(s for s in self.slots if s.background)

    @property
    def foreground(self) -> tuple[Slot, ...]:
        return tuple(s for s in self.slots if not s.background)


def schedule_parallel(block: ParallelBlock, inherited: TaskOptions,
                      carried: Callable[[IncludeBlock], dict] | None = None) -> tuple[Round, ...]:
    """`carried(include)`: the nested runbook defaults its tasks must carry as task vars (default: all)."""
    steps = _steps(block, inherited, (), carried or (lambda include: include.defaults))
    return tuple(Round(number, tuple(slots)) for number, slots in enumerate(steps, start=1))


def placement(leaf: ModuleCall, options: TaskOptions) -> tuple[bool, str]:
    """Whether a leaf inside a parallel block (with its blocks' options) can run in the background, and if not, why."""
    info = leaf.target
    if info is None or not info.background:
        return False, info.foreground_reason if info else "unknown module"
    if options.no_log:
        return False, "its output is hidden (no_log), and a join reports the output of all its jobs"
    if leaf.options.until is not None or leaf.options.retries:
        return False, "it retries, which Ansible does not do for background jobs"
    return True, ""


def _steps(task: Task, inherited: TaskOptions, guards: tuple[ModuleCall, ...], carried) -> list[list[Slot]]:
    options = task.options.inherit(inherited)
    if isinstance(task, IncludeBlock):
        # Run in place inside the block, below the include's own vars.
        options = replace(options, vars={**inherited.vars, **carried(task), **task.options.vars},
                          sudo=True if task.runbook.sudo and options.sudo is None else options.sudo)
    if isinstance(task, ModuleCall):
        background, reason = placement(task, options)
        return [[Slot(task, options, background, reason, guards)]]
    if isinstance(task, (SerialBlock, IncludeBlock)):
        steps: list[list[Slot]] = []
        earlier = guards
        for child in task.children:
            child_steps = _steps(child, options, earlier, carried)
            steps.extend(child_steps)
            earlier = earlier + tuple(s.leaf for step in child_steps for s in step)
        return steps
    merged: list[list[Slot]] = []
    for same_round in zip_longest(*(_steps(child, options, guards, carried) for child in task.children),
                                  fillvalue=[]):
        merged.append([slot for step in same_round for slot in step])
    return merged
