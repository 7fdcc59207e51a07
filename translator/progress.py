"""Shows a run as the runbook's own tree, live, and ends with a summary."""

from __future__ import annotations

import difflib
import sys
import time

from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from .model import ModuleCall, Task
from .results import HostResult, RunResults
from .task_output import detail_lines

STYLES = {
    "pending": ("·", "dim"), "running": ("…", "cyan"), "ok": ("✓", "green"),
    "changed": ("✓", "yellow"), "failed": ("✗", "bold red"), "skipped": ("-", "dim"),
    "unreachable": ("✗", "magenta"), "not_run": ("·", "dim"),
}
# How a running or pending badge reads in a rendered line (_badge).
_RUNNING, _PENDING = "… running", "· pending"
_DIM = Style(dim=True)


class Progress:
    """Live tree on a terminal; one line per finished task and host when output is a pipe or file. Both show the
    same things: under a task, what task_output says of it; after the tree, Ansible's warnings, then a summary."""

    def __init__(self, console: Console | None = None, verbosity: int = 0):
        self.console = console or Console(file=sys.stdout)
        self.verbosity = verbosity
        self.live: Live | None = None
        self.tree: _LiveTree | None = None
        self.reported: set[tuple[str, str]] = set()

    def update(self, results: RunResults, changed: list[str]) -> None:
        if self.console.is_terminal:
            if self.live is None:
                # Re-rendered at every refresh, so running tasks show their time so far. Only there: a refresh
                # per event rendered the whole tree hundreds of times a second, and took the CPU Ansible needs
                # (50 tasks x 3 hosts: 14.5 CPU-seconds in rb2ansible's process, 1.1 without a terminal).
                self.tree = _LiveTree(results, self.verbosity)
                self.live = Live(self.tree, console=self.console, refresh_per_second=4)
                self.live.start()
        else:
            for task_id in changed:
                self._print_finished(results, task_id)

    def ansible_output(self, text: str) -> None:
        """What ansible-playbook printed itself (-vvv): above the live tree, or between the finished tasks."""
        self.console.print(Text.from_ansi(text.replace("\r\n", "\n")), highlight=False, markup=False, soft_wrap=True)

    def abandon(self) -> None:
        """The run ended before it started (Ansible refused it): stop the live tree, so what is printed
        next starts on a line of its own, without a summary."""
        if self.live is not None:
            self.live.stop()
            self.live = None

    def close(self, results: RunResults) -> None:
        if self.live is not None:
            self.tree.whole = True  # the last frame, which stop() draws and leaves on the terminal: all of it
            self.live.stop()
        else:
            for task_id in results.tasks:
                self._print_finished(results, task_id)
        if self.live is not None:
            for task_id in results.tasks:
                for host in results.tasks[task_id]:
                    self._print_diff(results, task_id, host)
        if results.warnings.texts:
            self.console.print(render_warnings(results))
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
                                     (_duration(result), "dim"))
                self.console.print(line, soft_wrap=True)
                for detail in detail_lines(leaf, result, self.verbosity):
                    self.console.print(_detail_text(detail, result), soft_wrap=True)
                self._print_diff(results, task_id, host)


class _LiveTree:
    """The tree as the terminal can show it: a runbook taller than the terminal is shown around its running
    tasks (rich would show its top lines), with how many lines are hidden above and below; whole at the end."""

    def __init__(self, results: RunResults, verbosity: int):
        self.results = results
        self.verbosity = verbosity
        self.whole = False

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = console.render_lines(render_tree(self.results, self.verbosity), options, pad=False)
        texts = ["".join(segment.text for segment in line) for line in lines]
        start, end = (0, len(lines)) if self.whole else visible_window(texts, options.size.height,
                                                                         started=bool(self.results.hosts))
        shown = lines[start:end]
        if start:
            shown.insert(0, [Segment(_hidden(start, "above"), _DIM)])
        if end < len(lines):
            shown.append([Segment(_hidden(len(lines) - end, "below"), _DIM)])
        for number, line in enumerate(shown):  # lines between, none after: the frame is exactly its lines
            yield from line if number == 0 else (Segment.line(), *line)


def _hidden(count: int, where: str) -> str:
    return f"… {count} more line{'s' if count > 1 else ''} {where}"


def visible_window(lines: list[str], height: int, started: bool = True) -> tuple[int, int]:
    """Which lines [start, end) to show in `height` rows, with a row kept above and below for what is hidden:
    the first running task a third of the way down, else the first pending one, else the end (all done), or
    the top before any host is known."""
    if len(lines) <= height:
        return 0, len(lines)
    rows = max(1, height - 2)
    focus = next((n for n, text in enumerate(lines) if _RUNNING in text), None)
    if focus is None:
        focus = next((n for n, text in enumerate(lines) if _PENDING in text), len(lines) - 1 if started else 0)
    start = min(max(0, focus - rows // 3), len(lines) - rows)
    return start, start + rows


def render_tree(results: RunResults, verbosity: int = 0) -> Tree:
    runbook = results.compiled.runbook
    tree = Tree(Text(runbook.name, style="bold"))
    for child in runbook.root.children:
        _add(tree, child, results, verbosity)
    return tree


def _add(parent: Tree, task: Task, results: RunResults, verbosity: int) -> None:
    if isinstance(task, ModuleCall):
        per_host = results.tasks.get(task.task_id, {})
        hosts = results.hosts or list(per_host)
        label = Text(task.name)
        for host in hosts:
            result = per_host.get(host, HostResult())
            label.append("  ")
            label.append_text(_badge(result))
            label.append(f" {host}", style="dim")
            label.append(_duration(result), style="dim")
        node = parent.add(label)
        for host in hosts:
            result = per_host.get(host, HostResult())
            details = detail_lines(task, result, verbosity)
            if details:  # whose lines they are, once several hosts share the task's line
                heading = Text(f"[{host}] ", style="dim") if len(hosts) > 1 else Text("")
                node.add(heading + Text("\n").join(_detail_text(d, result, "") for d in details))
        return
    kind = "parallel" if type(task).__name__ == "ParallelBlock" else "serial"
    branch = parent.add(Text.assemble(task.name, (f"  ({kind})", "dim")))
    for child in task.children:
        _add(branch, child, results, verbosity)


def render_warnings(results: RunResults) -> Text:
    """Ansible's warnings and deprecations, each once, after the tree (the results file keeps them too)."""
    lines = [Text("Ansible's warnings:", style="bold magenta")]
    for warning in results.warnings.texts:
        first, *rest = warning.splitlines()
        lines.append(Text(f"  {first}", style="magenta"))
        lines += [Text(f"    {line}", style="magenta") for line in rest]
    return Text("\n").join(lines)


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


def _detail_text(line: str, result: HostResult, indent: str = "    ") -> Text:
    return Text(indent + line, style="red" if result.status in ("failed", "unreachable") else "")
