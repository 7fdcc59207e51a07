"""Describes what will run when, and what overlaps what: the text of `rb2ansible plan`."""

from __future__ import annotations

import os

from .model import IncludeBlock, ModuleCall, ParallelBlock, Runbook, Task, TaskOptions
from .schedule import schedule_parallel


def describe(runbook: Runbook) -> list[str]:
    lines = [f"runbook '{runbook.name}' on hosts {runbook.hosts!r}"
             f" ({'parallel' if runbook.flow == 'parallel' else 'serial'} top level"
             f"{', strategy ' + runbook.strategy if runbook.strategy != 'linear' else ''}"
             f"{', rolling ' + str(runbook.rolling) if runbook.rolling else ''})"]
    if isinstance(runbook.root, ParallelBlock):
        lines += _parallel(runbook.root, TaskOptions(), 1)
    else:
        lines += _serial(runbook.root.children, TaskOptions(), 1)
    return lines


def _serial(children: tuple[Task, ...], inherited: TaskOptions, depth: int) -> list[str]:
    lines = []
    for step, task in enumerate(children, start=1):
        pad = "  " * depth
        if isinstance(task, ModuleCall):
            lines.append(f"{pad}{step}. {task.name} [{task.module}]")
        elif isinstance(task, IncludeBlock):
            shown = os.path.relpath(task.runbook.source, task.location.path.parent)
            lines.append(f"{pad}{step}. {task.name}: include {shown} (its role), in order")
            lines += _serial(task.children[0].children, TaskOptions(), depth + 1)
        elif isinstance(task, ParallelBlock):
            lines.append(f"{pad}{step}. {task.name}: parallel, {len(task.children)} children")
            lines += _parallel(task, inherited, depth + 1)
        else:
            lines.append(f"{pad}{step}. {task.name}: serial, in order, stops at the first failure")
            lines += _serial(task.children, task.options.inherit(inherited), depth + 1)
    return lines


def _parallel(block: ParallelBlock, inherited: TaskOptions, depth: int) -> list[str]:
    pad = "  " * depth
    lines = []
    for round_ in schedule_parallel(block, inherited):
        together = [_name(s.leaf) for s in round_.slots]
        lines.append(f"{pad}round {round_.number}: together: {', '.join(together)}")
        for slot in round_.background:
            lines.append(f"{pad}  - {_name(slot.leaf)}: background job{_after(slot.guards)}")
        for slot in round_.foreground:
            lines.append(f"{pad}  - {_name(slot.leaf)}: foreground, because {slot.foreground_reason}"
                         f"{_after(slot.guards)}")
        if round_.background:
            lines.append(f"{pad}  then wait for {len(round_.background)} job(s) in one round trip")
    lines.append(f"{pad}the block fails after every child has ended if any child failed")
    return lines


def _after(guards: tuple[ModuleCall, ...]) -> str:
    if not guards:
        return ""
    return f" (runs only if {', '.join(_name(g) for g in guards)} did not fail)"


def _name(leaf: ModuleCall) -> str:
    return " › ".join((*leaf.scope, leaf.name))
