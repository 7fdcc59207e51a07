"""Maps ansible-runner events back onto the runbook's own tasks, per host (SPEC §4)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .emit import Compiled, TaskRef
from .model import ModuleCall

FINAL = ("ok", "changed", "failed", "skipped", "unreachable", "not_run")
COUNTED = ("ok", "changed", "failed", "skipped", "unreachable")


@dataclass
class HostResult:
    status: str = "pending"  # pending -> running -> one of FINAL
    rc: int | None = None
    stdout: str = ""
    stderr: str = ""
    msg: str = ""
    start: float | None = None
    end: float | None = None
    values: dict[str, Any] = field(default_factory=dict)  # other values the module returned
    diff: list[dict[str, Any]] = field(default_factory=list)  # before/after, with --diff

    @property
    def duration(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return round(max(0.0, self.end - self.start), 3)


@dataclass
class RunResults:
    """The state of a run as events arrive; the progress view reads it, the results file dumps it."""

    compiled: Compiled
    hosts: list[str] = field(default_factory=list)
    tasks: dict[str, dict[str, HostResult]] = field(default_factory=dict)  # leaf id -> host -> result
    started: float | None = None
    finished: float | None = None
    status: str = "running"
    interrupted: bool = False

    def __post_init__(self) -> None:
        self.leaves: dict[str, ModuleCall] = {leaf.task_id: leaf for leaf in self.compiled.leaves}
        self.tasks = {task_id: {} for task_id in self.leaves}

    # -- feeding -------------------------------------------------------------------------------

    def feed(self, event: dict[str, Any]) -> list[str]:
        """Take one ansible-runner event; returns the ids of the leaves it changed."""
        kind = event.get("event", "")
        data = event.get("event_data", {})
        if kind == "playbook_on_start" and self.started is None:
            self.started = _timestamp(event.get("created"))
        if kind == "playbook_on_stats":
            for host in _stats_hosts(data):
                self.add_host(host)
            return []
        kind = _ASYNC_KINDS.get(kind, kind)
        host = data.get("host")
        ref = self.compiled.ref_at(data.get("task_path", ""))
        if kind not in _RUNNER_KINDS or host is None or ref is None:
            return []
        self.add_host(host)
        if ref.kind == "leaf":
            return self.on_leaf(ref.leaf_ids[0], kind, host, data, _timestamp(data.get("start")),
                                _timestamp(data.get("end")))
        task_id = ref.child_at(str(data.get("task_uuid", "")))
        if task_id is None:  # the dispatcher itself, or a nested one
            return self.on_block_end(ref, host, data.get("res", {}))
        # ansible-runner times a result from the host's last start, which concurrent children share:
        # each child's own start and end are when its events were created.
        created = _timestamp(event.get("created"))
        return self.on_leaf(task_id, kind, host, data, created, created)

    def add_host(self, host: str) -> None:
        if host not in self.hosts:
            self.hosts.append(host)

    def on_leaf(self, task_id: str, kind: str, host: str, data: dict, start: float | None,
                end: float | None) -> list[str]:
        result = self.tasks[task_id].setdefault(host, HostResult())
        if kind == "runner_on_start":
            if result.status != "running":  # an async poll says "still running", not "started again"
                result.status, result.start = "running", start
            return [task_id]
        result.start = result.start or start
        result.end = end
        _apply(result, kind, data.get("res", {}), self.leaves[task_id])
        return [task_id]

    def on_block_end(self, ref: TaskRef, host: str, res: dict) -> list[str]:
        """A block's own result lists its children. Their events said everything but one thing, which a hidden
        (no_log) child's censored event cannot carry: that it failed because it ran out of time."""
        changed = []
        for child in res.get("children") or []:
            task_id = ref.child_at(str(child.get("uuid", "")))
            result = self.tasks[task_id].get(host) if task_id else None
            if result is not None and child.get("timed_out") and not result.msg.startswith("timed out"):
                result.msg = f"timed out after {self.leaves[task_id].options.timeout}s: {result.msg}"
                changed.append(task_id)
        return changed

    def any_failed(self) -> bool:
        """Whether a task failed or lost its host on any host (an ignored failure too)."""
        return any(result.status in ("failed", "unreachable") for per_host in self.tasks.values()
                   for result in per_host.values())

    # -- the end -------------------------------------------------------------------------------

    def finish(self, succeeded: bool, finished: float, interrupted: bool = False) -> None:
        self.finished = finished
        self.interrupted = interrupted
        for per_host in self.tasks.values():
            for host in self.hosts:
                result = per_host.setdefault(host, HostResult())
                if result.status in ("pending", "running"):
                    if result.status == "running" and interrupted:
                        result.status, result.msg = "failed", "interrupted"
                        result.end = finished
                    else:
                        result.status = "not_run"
        self.status = "successful" if succeeded and not interrupted else "failed"

    def host_counts(self) -> dict[str, dict[str, int]]:
        counts = {host: dict.fromkeys(COUNTED, 0) for host in self.hosts}
        for per_host in self.tasks.values():
            for host, result in per_host.items():
                if result.status in COUNTED:
                    counts.setdefault(host, dict.fromkeys(COUNTED, 0))[result.status] += 1
        return counts

    def to_json(self) -> dict[str, Any]:
        started = self.started or self.finished
        return {
            "runbook": self.compiled.runbook.name,
            "status": self.status,
            "started": _iso(started),
            "finished": _iso(self.finished),
            "duration": round((self.finished or 0) - (started or 0), 3),
            "hosts": self.host_counts(),
            "tasks": [self._task_json(leaf) for leaf in self.compiled.leaves],
        }

    def _task_json(self, leaf: ModuleCall) -> dict[str, Any]:
        results = {}
        for host in self.hosts:
            result = self.tasks[leaf.task_id].get(host, HostResult(status="not_run"))
            results[host] = {
                "status": result.status, "rc": result.rc, "stdout": result.stdout,
                "stderr": result.stderr, "msg": result.msg,
                "start": _iso(result.start), "end": _iso(result.end), "duration": result.duration,
                **({"values": result.values} if result.values else {}),
            }
        return {"path": list(leaf.path), "name": leaf.name, "module": leaf.module, "results": results}


_RUNNER_KINDS = {"runner_on_start", "runner_on_ok", "runner_on_failed", "runner_on_skipped",
                 "runner_on_unreachable"}
# A task with `timeout` is an async job polled in place: its poll events mean "running".
_ASYNC_KINDS = {"runner_on_async_ok": "runner_on_ok", "runner_on_async_failed": "runner_on_failed",
                "runner_on_async_poll": "runner_on_start"}

# Keys of a module result that have their own field, or that only Ansible needs.
_PLUMBING = {"changed", "failed", "skipped", "rc", "stdout", "stderr", "msg", "stdout_lines",
             "stderr_lines", "start", "end", "delta", "invocation", "_ansible_no_log", "ansible_job_id",
             "finished", "started", "results_file", "false_condition", "censored", "skip_reason", "cmd",
             "_ansible_verbose_always", "_ansible_verbose_override", "ansible_loop_var", "warnings",
             "deprecations", "exception", "failed_when_result", "changed_when_result", "skipped_reason",
             "diff", "unreachable"}


# How Ansible words a task that ran out of time, in its different code paths.
_TIMEOUT_WORDS = ("timed out", "did not complete within the requested time", "maximum time limit",
                  "in the expected time frame", "Timeout exceeded")


def _ran_out_of_time(res: dict, msg: str) -> bool:
    # Ansible stopped polling an async job that had not finished: only then does the result carry the last poll,
    # and ansible-core 2.21 words that "async task produced unparsable results" (the collection's
    # core_compat.async_gave_up says why).
    polled = res.get("async_result")
    return (isinstance(polled, dict) and not polled.get("finished")) or any(w in msg for w in _TIMEOUT_WORDS)


def _apply(result: HostResult, kind: str, res: dict, leaf: ModuleCall) -> None:
    if kind == "runner_on_unreachable" or res.get("unreachable"):
        result.status = "unreachable"
    elif kind == "runner_on_skipped" or res.get("skipped"):
        result.status = "skipped"
    elif kind == "runner_on_failed" or res.get("failed"):
        result.status = "failed"
    elif res.get("changed") and _reports_change(leaf):
        result.status = "changed"
    else:
        result.status = "ok"
    result.rc = res.get("rc")
    result.stdout = _text(res.get("stdout"))
    result.stderr = _text(res.get("stderr"))
    result.msg = _text(res.get("msg"))
    if res.get("censored"):  # no_log: Ansible already replaced the result; keep its word only
        result.stdout = result.stderr = ""
        result.msg = _text(res.get("censored"))
    if result.status == "failed" and leaf.options.timeout and _ran_out_of_time(res, result.msg):
        result.msg = f"timed out after {leaf.options.timeout}s: {result.msg}"
    result.values = {k: v for k, v in res.items() if k not in _PLUMBING and not k.startswith("_ansible")}
    diff = res.get("diff") or []
    result.diff = [d for d in (diff if isinstance(diff, list) else [diff]) if isinstance(d, dict)]


def _reports_change(leaf: ModuleCall) -> bool:
    """A core module may say its "changed" means nothing (echo): such a result reads as ok."""
    core = leaf.target.core if leaf.target is not None else None
    return core is None or core.reports_change


def _text(value: Any) -> str:
    if value is None:
        return ""
    # A mapping or a list (an `echo` of one) as JSON, which any reader of the results can parse back.
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _stats_hosts(data: dict) -> list[str]:
    hosts: list[str] = []
    for key in ("processed", "ok", "changed", "dark", "failures", "skipped", "ignored", "rescued"):
        for host in data.get(key) or {}:
            if host not in hosts:
                hosts.append(host)
    return hosts


def _timestamp(value: Any) -> float | None:
    """ansible-runner writes ISO times (naive means UTC); the join module gives epoch floats."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _iso(value: float | None) -> str | None:
    if value is None:
        return None
    return datetime.fromtimestamp(value, tz=UTC).isoformat(timespec="milliseconds")
