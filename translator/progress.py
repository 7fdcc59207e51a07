"""Shows a run as the runbook's own tree, live, and ends with a summary."""

from __future__ import annotations

import difflib
import json
import sys
import time

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from .model import ModuleCall, Task
from .results import HostResult, RunResults

STYLES = {
    "pending": ("·", "dim"), "running": ("…", "cyan"), "ok": ("✓", "green"),
    "changed": ("✓", "yellow"), "failed": ("✗", "bold red"), "skipped": ("-", "dim"),
    "unreachable": ("✗", "magenta"), "not_run": ("·", "dim"),
}


class Progress:
    """Live tree on a terminal; one line per finished task and host when output is a pipe or file."""

    def __init__(self, console: Console | None = None):
        self.console = console or Console(file=sys.stdout)
        self.live: Live | None = None
        self.reported: set[tuple[str, str]] = set()

    def update(self, results: RunResults, changed: list[str]) -> None:
        if self.console.is_terminal:
            if self.live is None:
                # Re-rendered at every refresh, so running tasks show their time so far.
                self.live = Live(_LiveTree(results), console=self.console, refresh_per_second=4)
                self.live.start()
            self.live.refresh()
        else:
            for task_id in changed:
                self._print_finished(results, task_id)

    def abandon(self) -> None:
        """The run ended before it started (Ansible refused it): stop the live tree, so what is printed
        next starts on a line of its own, without a summary."""
        if self.live is not None:
            self.live.stop()
            self.live = None

    def close(self, results: RunResults) -> None:
        if self.live is not None:
            self.live.refresh()
            self.live.stop()
        else:
            for task_id in results.tasks:
                self._print_finished(results, task_id)
        if self.live is not None:
            for task_id in results.tasks:
                for host in results.tasks[task_id]:
                    self._print_diff(results, task_id, host)
        self.console.print(render_summary(results))

    def _print_diff(self, results: RunResults, task_id: str, host: str) -> None:
        for text in render_diffs(results.tasks[task_id][host]):
            self.console.print(Text(f"--- {' › '.join(results.leaves[task_id].path)} [{host}]", style="bold"))
            self.console.print(text, highlight=False, markup=False, soft_wrap=True)

    def _print_finished(self, results: RunResults, task_id: str) -> None:
        leaf = results.leaves[task_id]
        for host, result in results.tasks[task_id].items():
            if result.status in STYLES and result.status not in ("pending", "running") \
                    and (task_id, host) not in self.reported:
                self.reported.add((task_id, host))
                line = Text.assemble(_badge(result), " ", " › ".join(leaf.path), (f"  [{host}]", "dim"),
                                     (_duration(result), "dim"), _message(leaf, result))
                self.console.print(line, soft_wrap=True)
                self._print_diff(results, task_id, host)


class _LiveTree:
    def __init__(self, results: RunResults):
        self.results = results

    def __rich__(self) -> Tree:
        return render_tree(self.results)


def render_tree(results: RunResults) -> Tree:
    runbook = results.compiled.runbook
    tree = Tree(Text(runbook.name, style="bold"))
    for child in runbook.root.children:
        _add(tree, child, results)
    return tree


def _add(parent: Tree, task: Task, results: RunResults) -> None:
    if isinstance(task, ModuleCall):
        per_host = results.tasks.get(task.task_id, {})
        label = Text(task.name)
        for host in results.hosts or list(per_host):
            result = per_host.get(host, HostResult())
            label.append("  ")
            label.append_text(_badge(result))
            label.append(f" {host}", style="dim")
            label.append(_duration(result), style="dim")
            label.append_text(_message(task, result))
        parent.add(label)
        return
    kind = "parallel" if type(task).__name__ == "ParallelBlock" else "serial"
    branch = parent.add(Text.assemble(task.name, (f"  ({kind})", "dim")))
    for child in task.children:
        _add(branch, child, results)


def render_summary(results: RunResults) -> Table:
    table = Table(title=f"{results.compiled.runbook.name}: {results.status}"
                  + (" (interrupted)" if results.interrupted else ""), title_justify="left")
    table.add_column("host")
    for column in ("ok", "changed", "failed", "skipped", "unreachable"):
        table.add_column(column, justify="right")
    for host, counts in results.host_counts().items():
        table.add_row(host, *(str(counts[c]) for c in ("ok", "changed", "failed", "skipped", "unreachable")))
    return table


def render_diffs(result: HostResult) -> list[str]:
    """Unified diffs of what a task changed (or would change, with --check), as Ansible shows them."""
    texts = []
    for diff in result.diff:
        if "prepared" in diff:
            texts.append(str(diff["prepared"]))
        elif "before" in diff or "after" in diff:
            before, after = str(diff.get("before", "")), str(diff.get("after", ""))
            lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                         str(diff.get("before_header", "before")),
                                         str(diff.get("after_header", "after")))
            texts.append("".join(lines).rstrip("\n"))
    return [t for t in texts if t]


def _badge(result: HostResult) -> Text:
    symbol, style = STYLES.get(result.status, ("?", ""))
    return Text(f"{symbol} {result.status}", style=style)


def _duration(result: HostResult) -> str:
    if result.status == "running" and result.start is not None:
        return f" {max(0.0, time.time() - result.start):.0f}s"
    return f" {result.duration:.1f}s" if result.duration is not None else ""


def _message(leaf: ModuleCall, result: HostResult) -> Text:
    if leaf.module == "echo" and result.status == "ok":
        return Text(_echoed(result.msg))
    if result.status not in ("failed", "unreachable"):
        return Text("")
    lines = (result.stderr or result.msg or "").strip().splitlines()
    # Ansible 2.19 puts its wrappers first ("Task failed: Finalization of task args ... failed: ...") and the
    # cause last: a long line keeps its end.
    detail = (lines[-1] if len(lines[-1]) <= 200 else "…" + lines[-1][-199:]) if lines else ""
    if result.rc not in (None, 0):
        detail = f"rc={result.rc}" + (f": {detail}" if detail else "")
    return Text(f"  {detail}" if detail else "", style="red")


def _echoed(msg: str) -> str:
    """What an `echo` printed: a mapping or a list (JSON in the results) pretty-printed on lines of its own."""
    try:
        value = json.loads(msg)
    except ValueError:
        value = None
    if isinstance(value, (dict, list)) and value:
        return "\n" + json.dumps(value, indent=2, ensure_ascii=False)
    return f"  {msg}" if msg else ""
