"""What `run --list-tasks` prints: ansible-playbook's own listing of the exported play, with each parallel
block's children shown under it (Ansible sees one task there: the block's action loads its children), chosen
by --tags/--skip-tags as Ansible chooses them."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .emit import Compiled
from .model import IncludeBlock, ModuleCall, ParallelBlock, Runbook, Task, TaskOptions
from .tag_selection import UNTAGGED, TagSelection

# A task line of `ansible-playbook --list-tasks`: "      ROLE : NAME\tTAGS: [...]".
TASK_LINE = re.compile(r"^(?P<indent> +)(?P<role>[^ :]+) : Parallel: (?P<name>.*)\tTAGS: \[(?P<tags>[^\]]*)\]$")


def with_parallel_children(listing: str, compiled: Compiled, tags: str | None, skip_tags: str | None) -> str:
    """`listing` with the children of every parallel block it names listed under the block, indented, each with
    its own tags: the block runs whatever tags are chosen and picks its children by their own tags."""
    selection = TagSelection.from_options(tags, skip_tags)
    lines = []
    for line in listing.splitlines():
        lines.append(line)
        found = TASK_LINE.match(line)
        role = compiled.roles.get(found["role"]) if found else None
        block = _find_parallel(role.runbook, found["name"]) if role and found else None
        if block is not None:
            lines += _children(block, TaskOptions(), found["indent"] + "  ", selection)
    return "\n".join(lines) + ("\n" if listing.endswith("\n") else "")


def _find_parallel(runbook: Runbook, name: str) -> ParallelBlock | None:
    return next((task for task in _walk(runbook.root) if isinstance(task, ParallelBlock) and task.name == name), None)


def _walk(task: Task) -> Iterator[Task]:
    yield task
    if not isinstance(task, (ModuleCall, IncludeBlock)):
        for child in task.children:
            yield from _walk(child)


def _children(block, inherited: TaskOptions, indent: str, selection: TagSelection) -> list[str]:
    """The lines of a block's children that the tags select; a block inside is shown when any of its own is."""
    lines = []
    for child in block.children:
        options = child.options.inherit(inherited)
        if isinstance(child, ModuleCall):
            if selection.selects(set(options.tags) or UNTAGGED):
                lines.append(f"{indent}{child.name}\tTAGS: [{', '.join(sorted(options.tags))}]")
            continue
        if isinstance(child, IncludeBlock):
            heading, inner = f"{child.name} (include, in order)", _children(child.children[0], TaskOptions(),
                                                                             indent + "  ", selection)
        else:
            kind = "parallel" if isinstance(child, ParallelBlock) else "serial, in order"
            heading, inner = f"{child.name} ({kind})", _children(child, options, indent + "  ", selection)
        if inner:
            lines += [indent + heading, *inner]
    return lines
