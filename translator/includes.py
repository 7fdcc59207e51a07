"""`include: {runbook, vars}`: finds the nested runbook, refuses cycles, and builds it in its place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import yaml

from .errors import Location
from .loader import is_dir, is_file
from .model import IncludeBlock, Runbook, TaskOptions
from .nodes import NodeReader, hint

INCLUDE_KEYS = {"runbook", "vars"}


def runbook_file(path: Path) -> Path:
    """A runbook is a file, or a directory holding run.yml (the AutomateJS layout)."""
    return path / "run.yml" if is_dir(path) else path


def read_include(reader: NodeReader, node: yaml.Node, *, name: str, path: tuple[str, ...], options: TaskOptions,
                 location: Location, scope: tuple[str, ...], including: tuple[Path, ...],
                 build: Callable[[Path, tuple[Path, ...]], Runbook | None]) -> IncludeBlock | None:
    """`build(source, chain)` builds the nested runbook (None when it is not even a runbook);
    `including` are the runbooks that include this one, outermost first."""
    if not isinstance(node, yaml.MappingNode):
        reader.plain(node)
        reader.error(node, "'include' takes {runbook: path, vars: {...}}")
        return None
    keys = reader.key_nodes(node)
    unknown_keys = sorted(keys.keys() - INCLUDE_KEYS)
    for unknown in unknown_keys:
        reader.plain(keys[unknown][1])
        reader.error(keys[unknown][0], f"'include' has no argument '{unknown}'{hint(unknown, INCLUDE_KEYS)}")
    include_vars = {}
    if "vars" in keys:
        vars_node = keys["vars"][1]
        if isinstance(vars_node, yaml.MappingNode):
            include_vars = reader.variables(vars_node, "vars")
        else:
            reader.plain(vars_node)
            reader.error(vars_node, "the 'vars' of an include must be a mapping")
    target_name = reader.string(keys["runbook"][1], "runbook") if "runbook" in keys else None
    if "runbook" not in keys:
        reader.error(node, "'include' needs 'runbook': the path of the runbook to include")
    if target_name is None or unknown_keys:
        return None
    target = reader.source.parent / target_name
    source = runbook_file(target).resolve()
    if not is_file(source):
        reader.error(node, f"included runbook not found: {target}")
        return None
    chain = (*including, reader.source.resolve())
    if source in chain:
        cycle = " -> ".join(p.name if p.parent == source.parent else str(p) for p in (*chain, source))
        reader.error(node, f"include cycle: {cycle}")
        return None
    runbook = build(source, chain)
    if runbook is None:
        return None
    options = replace(options, vars={**options.vars, **include_vars})
    return IncludeBlock(name, path, (runbook.root,), options, location, runbook, scope)

