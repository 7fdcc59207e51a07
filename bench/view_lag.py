"""When rb2ansible's progress view is told that a task finished on a host, against that task's recorded end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from translator.progress import Progress
from translator.results import RunResults

# A result the view draws as done. `not_run` is left out: mid-run, the results say so for every
# task a known host has not reached yet.
FINISHED = ("ok", "changed", "failed", "skipped", "unreachable")

TaskOnHost = tuple[tuple[str, ...], str]  # (the task's path in the runbook, host)


class ViewClock:
    """Wraps Progress.update, the one door through which a run's results reach the view, and notes
    the first moment each task is shown finished on each host. Behaviour is unchanged: the view
    gets every update as before, a few microseconds later.

    It reads what the view is told, the tasks `changed` by each update, in the results' own terms (the task's
    path and each host's status, as in the results file, SPEC §4), so it does not depend on how the parallel
    engine gets results to the view. Only the changed tasks: converting every task at every update made the
    bench's own process take CPU from the run it measures (W1: 50 tasks on 3 hosts, 357 updates)."""

    def __init__(self) -> None:
        self.shown_finished: dict[TaskOnHost, float] = {}
        self._paths: dict[str, tuple[str, ...]] = {}  # task id -> the task's path in the runbook

    @contextmanager
    def watching(self) -> Iterator[ViewClock]:
        original = Progress.update

        def update(view, results, changed, *args, **kwargs):
            received = time.time()
            self._note(results, changed, received)
            return original(view, results, changed, *args, **kwargs)

        Progress.update = update
        try:
            yield self
        finally:
            Progress.update = original

    def _note(self, results: RunResults, changed: list[str], received: float) -> None:
        if not self._paths:
            self._paths = {leaf.task_id: tuple(leaf.path) for leaf in results.compiled.leaves}
        for task_id in changed:
            for host, result in results.tasks.get(task_id, {}).items():
                if result.status in FINISHED:
                    self.shown_finished.setdefault((self._paths[task_id], host), received)

    def lags(self, report: dict) -> dict[TaskOnHost, float]:
        """Seconds from each finished task's recorded `end` (results file) to the view being shown it."""
        lags = {}
        for task in report["tasks"]:
            for host, result in task["results"].items():
                if result["status"] not in FINISHED:
                    continue
                key = (tuple(task["path"]), host)
                if result["end"] is None or key not in self.shown_finished:
                    raise ValueError(f"{' › '.join(key[0])} on {host}: no recorded end, or never shown finished")
                lags[key] = self.shown_finished[key] - datetime.fromisoformat(result["end"]).timestamp()
        return lags
