"""Describes what will run when, and what overlaps what: the text of `rb2ansible plan`."""

from __future__ import annotations

import os

from .model import IncludeBlock, ModuleCall, ParallelBlock, Runbook, Task, TaskOptions


def describe(runbook: Runbook) -> list[str]:
    lines = [f"runbook '{runbook.name}' on hosts {runbook.hosts!r}"
             f" ({'parallel' if runbook.flow == 'parallel' else 'serial'} top level"
             f"{', strategy ' + runbook.strategy if runbook.strategy != 'linear' else ''}"
             f"{', rolling ' + str(runbook.rolling) if runbook.rolling else ''})"]
    if isinstance(runbook.root, ParallelBlock):
        lines += _parallel(runbook.root, TaskOptions(), 1)
    else:
        lines += _serial(runbook.root.children, TaskOptions(), 1)
    if runbook.handlers:
        lines.append("  handlers, each run once per host at the end of the play where a task notifying it changed: "
                     + ", ".join(f"{handler.name} [{handler.module}]" for handler in runbook.handlers))
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
    """Every child is a branch that starts with the block; a serial branch advances as soon as its own step ends."""
    pad = "  " * depth
    lines = []
    for number, child in enumerate(block.children, start=1):
        if isinstance(child, ModuleCall):
            lines.append(f"{pad}branch {number}: {child.name} [{child.module}]")
        elif isinstance(child, ParallelBlock):
            lines.append(f"{pad}branch {number}: {child.name}: parallel, {len(child.children)} children")
            lines += _parallel(child, child.options.inherit(inherited), depth + 1)
        elif isinstance(child, IncludeBlock):
            shown = os.path.relpath(child.runbook.source, child.location.path.parent)
            lines.append(f"{pad}branch {number}: {child.name}: include {shown}, in order, in place")
            lines += _serial(child.children[0].children, TaskOptions(), depth + 1)
        else:
            lines.append(f"{pad}branch {number}: {child.name}: serial, in order, stops at the first failure")
            lines += _serial(child.children, child.options.inherit(inherited), depth + 1)
    lines.append(f"{pad}all branches start together; the block ends when every one has ended,"
                 " and fails if any child failed")
    return lines
