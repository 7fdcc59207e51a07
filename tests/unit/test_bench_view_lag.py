"""The bench's view clock, on recorded events: it notes when the view is first shown a task finished, and
changes nothing the view shows. Kept here so a new engine or view that breaks the bench fails a test."""

from __future__ import annotations

import io
import json
from contextlib import nullcontext
from pathlib import Path

from rich.console import Console

import bench.view_lag
from bench.view_lag import FINISHED, ViewClock
from tests.conftest import CASES
from translator.build import load_runbook
from translator.emit import compile_runbook
from translator.progress import Progress
from translator.results import RunResults


class EventCounter:
    """Stands in for the clock: the number of events fed so far, so a note says which event it came with."""

    def __init__(self) -> None:
        self.count = 0

    def time(self) -> float:
        return float(self.count)


def replay_into_view(case: Path, clock: ViewClock | None, counter: EventCounter) -> tuple[str, RunResults]:
    results = RunResults(compile_runbook(load_runbook(case)))
    events = [json.loads(line) for line in (case / "events.jsonl").read_text().splitlines()][:-1]
    output = io.StringIO()
    view = Progress(Console(file=output, width=120))
    with clock.watching() if clock else nullcontext():
        for counter.count, event in enumerate(events, start=1):
            view.update(results, results.feed(event))
    return output.getvalue(), results


def test_each_finished_task_is_noted_with_the_event_that_finished_it(monkeypatch):
    counter = EventCounter()
    monkeypatch.setattr(bench.view_lag, "time", counter)
    clock = ViewClock()
    case = CASES / "events" / "serial-outcomes"
    watched_output, results = replay_into_view(case, clock, counter)
    plain_output, _ = replay_into_view(case, None, counter)

    assert watched_output == plain_output, "the view shows the same with the clock installed"
    report = results.to_json()
    finished = {(tuple(t["path"]), host) for t in report["tasks"] for host, r in t["results"].items()
                if r["status"] in FINISHED}
    assert set(clock.shown_finished) == finished
    assert ((("unreachable code",), "localhost")) not in clock.shown_finished, "not_run is never 'finished'"
    events = [json.loads(line) for line in (case / "events.jsonl").read_text().splitlines()]
    for key, noted in clock.shown_finished.items():
        assert events[int(noted) - 1]["event"] in ("runner_on_ok", "runner_on_failed", "runner_on_skipped"), key
    noted = {path[-1]: at for (path, _), at in clock.shown_finished.items()}
    assert noted["say"] < noted["change something"] < noted["fail but carry on"] < noted["fail for real"]
    assert set(clock.lags(report)) == finished
