"""Recorded ansible-runner events replayed through the results mapper: no Ansible run needed.

Each case folder holds a runbook, the events a real run produced (events.jsonl) and the reviewed
results (expected.json, timestamps left out), and may hold the run's options (options.json: `tags`,
`skip_tags`, `fuse`, and `inventory`, a file of the case). `--regenerate` re-records by really running the
case (on localhost unless its inventory says otherwise); review the diff like code.
"""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from tests.conftest import CASES
from translator.build import load_runbook
from translator.emit import compile_runbook
from translator.execute import execute
from translator.project import RunSettings
from translator.results import RunResults
from translator.tag_selection import TagSelection

EVENTS = CASES / "events"
CASE_DIRS = sorted(p for p in EVENTS.iterdir() if (p / "run.yml").is_file())
TIMES = ("start", "end", "duration")


def options(case: Path) -> dict:
    path = case / "options.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def replay(case: Path, moved=lambda event: event) -> RunResults:
    """`moved` rewrites each event first, e.g. as if the project had been run from another directory."""
    chosen = options(case)
    selection = TagSelection.from_options(chosen.get("tags"), chosen.get("skip_tags"))
    results = RunResults(compile_runbook(load_runbook(case), fuse=chosen.get("fuse", False)), selection=selection)
    events = [moved(json.loads(line)) for line in (case / "events.jsonl").read_text().splitlines()]
    for event in events[:-1]:
        results.feed(event)
    outcome = events[-1]  # the last line records how the run ended
    results.finish(outcome["succeeded"], outcome["finished"])
    return results


def without_times(report: dict) -> dict:
    report = {k: v for k, v in report.items() if k not in ("started", "finished", "duration")}
    for entry in report["tasks"]:
        for result in entry["results"].values():
            for key in TIMES:
                result.pop(key)
    return report


def record(case: Path, tmp_path: Path) -> None:
    private = tmp_path / "private"
    # `scratch` gives each recording fresh files, so "changed" is what gets recorded.
    chosen = options(case)
    inventories = (case / chosen["inventory"],) if "inventory" in chosen else ()
    settings = RunSettings(extravars={"scratch": str(tmp_path)}, inventories=inventories,
                           tags=chosen.get("tags"), skip_tags=chosen.get("skip_tags"))
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    execution = execute(compile_runbook(load_runbook(case), fuse=chosen.get("fuse", False)), settings, private,
                        lambda results, changed: None, threading.Event(), artifacts)
    lines = [path.read_text().strip() for path in
             sorted((artifacts / "run" / "job_events").glob("*.json"),
                    key=lambda p: int(p.name.split("-")[0]))]
    outcome = {"succeeded": execution.runner_rc == 0, "finished": execution.results.finished}
    (case / "events.jsonl").write_text("\n".join([*lines, json.dumps(outcome)]) + "\n")
    shutil.rmtree(private)


@pytest.mark.parametrize("case", CASE_DIRS, ids=lambda p: p.name)
def test_replayed_events_give_the_reviewed_results(case: Path, tmp_path: Path, regenerate: bool):
    if regenerate:
        record(case, tmp_path)
        report = without_times(replay(case).to_json())
        (case / "expected.json").write_text(json.dumps(report, indent=2) + "\n")
    assert without_times(replay(case).to_json()) == json.loads((case / "expected.json").read_text())


def statuses(case: str) -> dict[str, str]:
    report = replay(EVENTS / case).to_json()
    return {entry["name"]: entry["results"]["localhost"]["status"] for entry in report["tasks"]}


def test_serial_outcomes_are_named_after_the_runbook():
    assert statuses("serial-outcomes") == {
        "say": "ok", "change something": "changed", "never wanted": "skipped",
        "fail but carry on": "failed", "fail for real": "failed", "unreachable code": "not_run"}
    report = replay(EVENTS / "serial-outcomes").to_json()
    assert report["status"] == "failed"
    assert report["hosts"]["localhost"] == {"ok": 1, "changed": 1, "failed": 2, "skipped": 1, "unreachable": 0}
    changed = report["tasks"][1]["results"]["localhost"]
    assert (changed["stdout"], changed["stderr"], changed["rc"]) == ("changed", "warning", 0)


def test_parallel_children_are_reported_each_under_its_own_name():
    assert statuses("parallel-outcomes") == {
        "first link fails": "failed", "second link": "not_run", "background works": "changed",
        "foreground render": "changed", "inner one": "changed", "inner two": "changed",
        "after the block": "not_run"}
    report = replay(EVENTS / "parallel-outcomes").to_json()
    paths = [entry["path"] for entry in report["tasks"]]
    assert paths[:2] == [["together", "chain", "first link fails"], ["together", "chain", "second link"]]
    assert paths[4] == ["together", "inner", "inner one"]
    failed = report["tasks"][0]["results"]["localhost"]
    assert (failed["rc"], failed["stderr"]) == (2, "link")


def test_tolerated_failures_and_hidden_changes_are_reported_truly():
    assert statuses("parallel-statuses") == {
        "tolerated failure": "failed", "tolerated link": "failed", "link after it": "changed",
        "hidden change": "changed", "hidden look": "ok", "after the block": "ok"}
    assert replay(EVENTS / "parallel-statuses").to_json()["status"] == "successful"


def test_background_children_carry_their_own_run_times():
    report = replay(EVENTS / "parallel-outcomes").to_json()
    background = next(t for t in report["tasks"] if t["name"] == "background works")["results"]["localhost"]
    foreground = next(t for t in report["tasks"] if t["name"] == "foreground render")["results"]["localhost"]
    assert background["start"] < foreground["end"], "the job started before the foreground child ended"
    assert background["end"] >= background["start"]


def test_fused_steps_are_reported_each_with_its_own_result_and_times():
    assert statuses("fused-steps") == {"first": "changed", "second": "changed", "third fails": "failed",
                                       "never": "not_run", "after": "not_run"}
    report = replay(EVENTS / "fused-steps").to_json()
    first, second, third = (report["tasks"][index]["results"]["localhost"] for index in range(3))
    assert (first["stdout"], first["stderr"], first["rc"]) == ("hello", "warn", 0)
    assert (second["stdout"], third["stdout"], third["rc"]) == ("/", "bad", 6)
    assert first["start"] <= first["end"] <= second["start"] <= second["end"] <= third["start"] <= third["end"]


def elsewhere_and_renamed(event: dict) -> dict:
    """The event as a run of the same project exported to another directory would give it, with every
    task name changed: results go by task_path, the tasks file and line, and ignore where the file is."""
    data = event.get("event_data", {})
    if "task_path" in data:
        path, _, line = data["task_path"].rpartition(":")
        data["task_path"] = f"/srv/exports/other/project/roles/{'/'.join(path.split('/')[-3:])}:{line}"
    if "task" in data:
        data["task"] = "a name that means nothing"
    return event


@pytest.mark.parametrize("case", CASE_DIRS, ids=lambda p: p.name)
def test_results_follow_task_paths_wherever_the_project_ran(case: Path):
    recorded = [json.loads(line) for line in (case / "events.jsonl").read_text().splitlines()]
    assert any("task_path" in event.get("event_data", {}) for event in recorded)
    moved = without_times(replay(case, elsewhere_and_renamed).to_json())
    assert moved == json.loads((case / "expected.json").read_text())


def test_loops_run_once_roles_and_handlers_report_each_host_truthfully():
    report = replay(EVENTS / "keyword-outcomes").to_json()
    by_name = {entry["name"]: entry["results"] for entry in report["tasks"]}
    assert by_name["items"]["web1"]["msg"] == "2 items: 2 changed"  # one result per host, its items summarised
    assert [item["status"] for item in by_name["one item fails"]["web2"]["values"]["items"]] == ["changed", "failed"]
    assert {host: r["status"] for host, r in by_name["once"].items()} == {"web1": "ok", "web2": "ok"}
    assert by_name["once"]["web2"]["msg"] == "run_once: ran on web1 for every host (ok there)"
    assert by_name["once"]["web2"]["ran_on"] == "web1" and "ran_on" not in by_name["once"]["web1"]
    # a parallel block's run_once is its dispatcher's: the children ran on web1 only, for both hosts
    assert {host: r["status"] for host, r in by_name["second of two"].items()} == {"web1": "ok", "web2": "ok"}
    assert by_name["stamp role"]["web2"]["status"] == "changed"
    # its role's copy changed the file, and a failure the role ignores itself does not fail it
    assert by_name["stamp role"]["web2"]["values"]["role_tasks"] == {"ok": 2, "changed": 1, "failed": 0,
                                                                     "skipped": 0, "unreachable": 0}
    assert {r["status"] for r in by_name["changed handler"].values()} == {"ok"}
    assert {r["status"] for r in by_name["quiet handler"].values()} == {"skipped"}


def test_tasks_left_out_by_tags_are_skipped_and_say_why():
    """`not_run` means "never reached because of an earlier failure": a task --tags leaves out is skipped,
    inside a parallel block too, while a block's tag still selects what it holds."""
    assert statuses("tags-and-warnings") == {
        "untagged": "skipped", "tagged": "changed", "inherits the tag": "ok", "deprecated condition": "ok",
        "tagged child": "changed", "skipped by when": "skipped", "untagged child": "skipped", "always runs": "ok"}
    report = replay(EVENTS / "tags-and-warnings").to_json()
    assert report["tasks"][0]["results"]["localhost"]["msg"] == "not selected by --tags x"
    assert report["hosts"]["localhost"]["skipped"] == 3


def test_ansible_warnings_are_recorded_once_with_the_unmatched_pattern():
    report = replay(EVENTS / "tags-and-warnings").to_json()
    assert report["unmatched_patterns"] == ["typo"]
    assert report["warnings"][0] == "[WARNING]: Could not match supplied host pattern, ignoring: typo"
    deprecations = [w for w in report["warnings"] if w.startswith("[DEPRECATION WARNING]")]
    assert len(deprecations) == 1 and "(task: tagged by its block › deprecated condition)" in deprecations[0]


def test_pause_stands_for_every_host_it_paused():
    """Ansible runs pause once, on the first host; the second host paused too and went on to the next task."""
    report = replay(EVENTS / "pause-on-two-hosts").to_json()
    pause = next(t for t in report["tasks"] if t["name"] == "wait a moment")["results"]
    assert (pause["h1"]["status"], pause["h2"]["status"]) == ("ok", "ok")
    assert pause["h2"]["ran_on"] == "h1" and "ran_on" not in pause["h1"]
    assert report["hosts"]["h2"] == {"ok": 2, "changed": 1, "failed": 0, "skipped": 0, "unreachable": 0}


def test_a_once_for_all_task_is_not_given_to_a_host_an_earlier_failure_took_out():
    report = replay(EVENTS / "pause-on-two-hosts", failed_before_the_pause({"h2"})).to_json()
    pause = next(t for t in report["tasks"] if t["name"] == "wait a moment")["results"]
    assert (pause["h1"]["status"], pause["h2"]["status"]) == ("ok", "not_run")


def test_a_once_for_all_task_that_ran_nowhere_is_not_run_everywhere():
    """The run stopped after the first task: no host went past the pause, and no host's not_run is copied."""
    report = replay(EVENTS / "pause-on-two-hosts", stopped_before_the_pause).to_json()
    pause = next(t for t in report["tasks"] if t["name"] == "wait a moment")["results"]
    assert {host: (r["status"], r.get("ran_on")) for host, r in pause.items()} == {
        "h1": ("not_run", None), "h2": ("not_run", None)}


def failed_before_the_pause(hosts: set[str]):
    """As if the first task had failed on these hosts, which then ran nothing after it."""
    def moved(event: dict) -> dict:
        data = event.get("event_data", {})
        if data.get("host") in hosts:
            if data.get("task") != "Before":
                return {"event": "dropped"}
            if event["event"] == "runner_on_ok":
                return {**event, "event": "runner_on_failed"}
        return event
    return moved


def stopped_before_the_pause(event: dict) -> dict:
    task_name = event.get("event_data", {}).get("task")
    return {"event": "dropped"} if task_name in ("Wait a moment", "After") else event
