"""The live tree on a terminal shorter than the runbook: recorded events replayed into a real rich Live."""

from __future__ import annotations

import io
import json

from rich.console import Console

from tests.conftest import CASES
from translator.build import load_runbook
from translator.emit import compile_runbook
from translator.progress import Progress, visible_window
from translator.results import RunResults

CASE = CASES / "events" / "serial-outcomes"


def last_frame(terminal: str) -> str:
    """What rich's Live drew last: it erases the previous frame line by line (ESC [2K) before drawing the next;
    the first frame follows the cursor's hiding (ESC [?25l)."""
    erased = terminal.rfind("\x1b[2K")
    return terminal[erased + len("\x1b[2K"):] if erased >= 0 else terminal.split("\x1b[?25l", 1)[1]


def test_a_tall_tree_is_shown_around_its_running_task_then_whole_at_the_end():
    results = RunResults(compile_runbook(load_runbook(CASE)))
    events = [json.loads(line) for line in (CASE / "events.jsonl").read_text().splitlines()]
    output = io.StringIO()
    view = Progress(Console(file=output, width=100, height=5, force_terminal=True, color_system=None))
    fed = next(n for n, event in enumerate(events, start=1)  # up to the start of "fail for real"
               if event["event"] == "runner_on_start" and event["event_data"]["task"] == "Fail for real")
    for event in events[:fed]:
        view.update(results, results.feed(event))
    view.live.refresh()  # a frame now, as the view's 4 Hz refresh would draw it
    shown = last_frame(output.getvalue())
    assert "fail for real  … running" in shown, shown
    assert "… 6 more lines above" in shown and "say" not in shown, shown
    assert len(shown.splitlines()) <= 5

    for event in events[fed:]:
        view.update(results, results.feed(event))
    view.close(results)
    printed = output.getvalue()
    # Frames while "fail for real" ran hid "say"; the last one, left on the terminal, shows it again.
    assert printed.rindex("more line") < printed.rindex("── say") < printed.rindex("── unreachable code")


def test_the_window_follows_the_first_running_task_else_the_first_pending_one():
    lines = ["title", *(f"t{n}  ✓ ok" for n in range(10)), "t10  … running",
             *(f"t{n}  · pending" for n in range(11, 20))]
    assert visible_window(lines, 50) == (0, 21)
    start, end = visible_window(lines, 8)
    assert end - start == 6 and start <= 11 < end and start == 11 - 2
    pending = [line.replace("… running", "· pending") for line in lines]
    assert visible_window(pending, 8)[0] == 11 - 2
    done = [line.replace("… running", "✓ ok").replace("· pending", "✓ ok") for line in lines]
    assert visible_window(done, 8) == (15, 21)  # nothing left to run: the end
    unknown = [line.split("  ")[0] for line in lines]  # no host known yet: no badges
    assert visible_window(unknown, 8, started=False) == (0, 6)
