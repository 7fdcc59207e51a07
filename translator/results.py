"""Maps ansible-runner events back onto the runbook's own tasks, per host (SPEC §4)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .ansible_warnings import AnsibleWarnings
from .emit import Compiled, TaskRef
from .fusion import STEPS_VARIABLE
from .model import ModuleCall, Task
from .tag_selection import TagSelection

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
    ran_on: str | None = None  # for a task Ansible runs once for all hosts: the host it ran on, if another

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
    selection: TagSelection = field(default_factory=TagSelection)  # --tags / --skip-tags of the run
    warnings: AnsibleWarnings = field(default_factory=AnsibleWarnings)

    def __post_init__(self) -> None:
        self.leaves: dict[str, ModuleCall] = {leaf.task_id: leaf for leaf in self.compiled.leaves}
        self.tasks = {task_id: {} for task_id in self.leaves}
        # host -> the `role` task whose role's tasks are running there: include_role's own event comes first,
        # then the role's tasks, until the next task of the runbook starts on that host.
        self.open_roles: dict[str, str] = {}
        # Ansible's keywords as each leaf has them, a block's around it included (handlers have their own only).
        self.keywords = {leaf.task_id: leaf.options.keywords for leaf in self.leaves.values()}
        self.keywords.update(_effective_keywords(self.compiled.runbook.root, {}))
        self.left_out = self.selection.leaves_left_out(self.compiled.runbook.root)

    # -- feeding -------------------------------------------------------------------------------

    def feed(self, event: dict[str, Any]) -> list[str]:
        """Take one ansible-runner event; returns the ids of the leaves it changed."""
        kind = event.get("event", "")
        data = event.get("event_data", {})
        self.warnings.from_event(kind, event.get("stdout", ""))
        if kind == "playbook_on_start" and self.started is None:
            self.started = _timestamp(event.get("created"))
        if kind == "playbook_on_stats":
            for host in _stats_hosts(data):
                self.add_host(host)
            return []
        kind = _ASYNC_KINDS.get(kind, kind)
        host = data.get("host")
        ref = self.compiled.ref_at(data.get("task_path", ""))
        if kind not in _RUNNER_KINDS or host is None:
            return []
        if ref is None:
            return self.on_role_task(host, kind, data) if host in self.open_roles else []
        self.add_host(host)
        self.open_roles.pop(host, None)
        if ref.kind == "leaf":
            return self.on_leaf(ref.leaf_ids[0], kind, host, data, _timestamp(data.get("start")),
                                _timestamp(data.get("end")))
        if ref.kind == "steps":
            return self.on_steps(ref, kind, host, data)
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
        leaf = self.leaves[task_id]
        _apply(result, kind, data.get("res", {}), leaf)
        if leaf.module == "role" and result.status == "ok":
            self.open_roles[host] = task_id
            result.values = {}
        if "delegate_to" in self.keywords[task_id]:
            result.values["delegated_to"] = _delegated_to(data.get("res", {}), self.keywords[task_id]["delegate_to"])
        self.warnings.from_result(data.get("res", {}), " › ".join(leaf.path))
        if self.keywords[task_id].get("run_once"):
            return [task_id, *self.ran_once(task_id, host)]
        return [task_id]

    def on_steps(self, ref: TaskRef, kind: str, host: str, data: dict) -> list[str]:
        """A fused run of shell steps (fusion.py): it starts as its first step; its result holds the result of
        each step that ran, with the step's own start and end. Steps after a failure have none: not run."""
        start, end = _timestamp(data.get("start")), _timestamp(data.get("end"))
        res = data.get("res") or {}
        ran = res.get(STEPS_VARIABLE)
        if kind == "runner_on_start":
            return self.on_leaf(ref.leaf_ids[0], kind, host, data, start, end)
        if not isinstance(ran, list):
            # No step's result: skipped as a whole by a false `when`, as every step would have been; or unreachable
            # or failed before its first step ran, as that step would have been.
            skipped = kind == "runner_on_skipped" or res.get("skipped")
            return [changed for leaf_id in (ref.leaf_ids if skipped else ref.leaf_ids[:1])
                    for changed in self.on_leaf(leaf_id, kind, host, data, start, end)]
        changed = []
        for leaf_id, step in zip(ref.leaf_ids, ran):
            step_res = step.get("result") or {}
            step_kind = ("runner_on_unreachable" if step_res.get("unreachable") else
                         "runner_on_failed" if step_res.get("failed") else
                         "runner_on_skipped" if step_res.get("skipped") else "runner_on_ok")
            self.tasks[leaf_id].setdefault(host, HostResult()).start = None  # its own start, not the run's
            changed += self.on_leaf(leaf_id, step_kind, host, {**data, "res": step_res},
                                    _timestamp(step.get("started")), _timestamp(step.get("ended")))
        return changed

    def on_role_task(self, host: str, kind: str, data: dict) -> list[str]:
        """A task of the role a `role` task included: the role's outcome so far, and the task's own counts."""
        task_id = self.open_roles[host]
        result = self.tasks[task_id][host]
        if kind == "runner_on_start":
            result.status = "running"
            return [task_id]
        res = data.get("res", {})
        inner = HostResult()
        _apply(inner, kind, res, None)
        if inner.status == "failed" and data.get("ignore_errors"):
            inner.status = "ok"  # the role ignores that failure itself, so the role goes on and has not failed
        counts = result.values.setdefault("role_tasks", dict.fromkeys(COUNTED, 0))
        counts[inner.status] += 1
        result.end = _timestamp(data.get("end")) or result.end
        worst = "failed" if counts["failed"] or counts["unreachable"] else "changed" if counts["changed"] else "ok"
        result.status = worst if not (worst == "ok" and result.status == "changed") else "changed"
        if inner.status in ("failed", "unreachable"):
            result.rc, result.stdout, result.stderr = inner.rc, inner.stdout, inner.stderr
            result.msg = f"{data.get('task', '')}: {inner.msg}"
        return [task_id]

    def ran_once(self, task_id: str, host: str) -> list[str]:
        """`run_once`: Ansible ran the task on one host for all of them (and failed them all if it failed there);
        the others get that outcome and say where it ran (`ran_on`), rather than not_run."""
        ran = self.tasks[task_id][host]
        if ran.status in ("pending", "running", "not_run"):
            return []
        changed = []
        for other in self.hosts:
            result = self.tasks[task_id].setdefault(other, HostResult())
            if other != host and result.status in ("pending", "not_run") and self.in_play(other, task_id):
                # the one run stands for every host (its register and facts are theirs), as pause's does
                result.status = "failed" if ran.status in ("failed", "unreachable") else ran.status
                result.msg = f"run_once: ran on {host} for every host ({ran.status} there)"
                result.start, result.end, result.ran_on = ran.start, ran.end, host
                result.values = {"run_once_on": host}
                changed.append(task_id)
        return changed

    def in_play(self, host: str, task_id: str) -> bool:
        """Whether the host was still in the play when the task ran: no task before it failed there unignored."""
        for leaf_id, leaf in self.leaves.items():
            if leaf_id == task_id:
                return True
            result = self.tasks[leaf_id].get(host)
            if result is not None and result.status in ("failed", "unreachable") and not leaf.options.ignore_errors:
                return False
        return True

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
        """Every task gets a final status on every host: what no event settled is decided here, once."""
        self.finished = finished
        self.interrupted = interrupted
        for task_id, per_host in self.tasks.items():
            for host in self.hosts:
                result = per_host.setdefault(host, HostResult())
                if result.status == "running" and interrupted:
                    result.status, result.msg = "failed", "interrupted"
                    result.end = finished
                elif result.status in ("pending", "running"):
                    self._settle_unseen(task_id, host, result)
        for task_id, leaf in self.leaves.items():
            ran = [h for h, r in self.tasks[task_id].items() if r.status not in ("not_run", "pending", "running")
                   and "run_once_on" not in r.values]
            if self.keywords[task_id].get("run_once") and ran:
                self.ran_once(task_id, ran[0])
            elif leaf.handler and succeeded and not interrupted:
                for result in self.tasks[task_id].values():
                    if result.status == "not_run":
                        result.status, result.msg = "skipped", "not notified: no task that notifies it changed"
        self.status = "successful" if succeeded and not interrupted else "failed"

    def _settle_unseen(self, task_id: str, host: str, result: HostResult) -> None:
        """A task no event reported on this host: left out by --tags, run once for all hosts on another one,
        or never reached."""
        if task_id in self.left_out:
            result.status, result.msg = "skipped", self.left_out[task_id]
            return
        ran_on = self._ran_for_all_on(task_id)
        if ran_on is not None and self._in_play_at(task_id, host):
            shared = self.tasks[task_id][ran_on]
            result.status, result.msg, result.start, result.end = shared.status, shared.msg, shared.start, shared.end
            result.ran_on = ran_on
            return
        result.status = "not_run"

    def _ran_for_all_on(self, task_id: str) -> str | None:
        """The host a task that Ansible runs once for every host (pause, run_once) really ran on, if it ran."""
        if not _runs_once_for_all(self.leaves[task_id]):
            return None
        return next((host for host, result in self.tasks[task_id].items()
                     if result.status in COUNTED and result.ran_on is None), None)

    def _in_play_at(self, task_id: str, host: str) -> bool:
        """Whether the host was still in the play when the task ran: it went on to a later task, or no earlier
        task had failed on it or lost it. (An ignored failure followed by nothing but this task reads as out.)"""
        order = list(self.tasks)
        index = order.index(task_id)
        seen = [self.tasks[other].get(host) for other in order]
        if any(result is not None and result.status in COUNTED for result in seen[index + 1:]):
            return True
        return not any(result is not None and result.status in ("failed", "unreachable") for result in seen[:index])

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
            "warnings": list(self.warnings.texts),
            "unmatched_patterns": list(self.warnings.unmatched_patterns),
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
                **({"ran_on": result.ran_on} if result.ran_on else {}),
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


def _apply(result: HostResult, kind: str, res: dict, leaf: ModuleCall | None) -> None:
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
    timeout = leaf.options.timeout if leaf is not None else None
    if result.status == "failed" and timeout and _ran_out_of_time(res, result.msg):
        result.msg = f"timed out after {timeout}s: {result.msg}"
    result.values = {k: v for k, v in res.items() if k not in _PLUMBING and not k.startswith("_ansible")}
    if isinstance(res.get("results"), list) and leaf is not None and _loops(leaf):
        _summarise_loop(result, res["results"], hidden=bool(leaf.options.no_log or res.get("censored")))
    diff = res.get("diff") or []
    result.diff = [d for d in (diff if isinstance(diff, list) else [diff]) if isinstance(d, dict)]


def _runs_once_for_all(leaf: ModuleCall) -> bool:
    """Ansible runs the task on the first host only and it stands for every host: an action that bypasses the
    host loop (pause). The `run_once` keyword is RunResults.ran_once's."""
    return bool(leaf.target is not None and leaf.target.once_for_all)


def _effective_keywords(task: Task, inherited: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Leaf id -> the Ansible keywords that apply to it, its blocks' included (a parallel block's run_once is its
    dispatcher's: its children run on the one host the dispatcher runs on)."""
    keywords = {**inherited, **task.options.keywords}
    if isinstance(task, ModuleCall):
        return {task.task_id: keywords}
    found: dict[str, dict[str, Any]] = {}
    for child in task.children:
        found.update(_effective_keywords(child, keywords))
    return found


def _summarise_loop(result: HostResult, items: list, hidden: bool) -> None:
    """A loop's result on a host: one line per item (its label, status, rc, message), the stdout of all.
    Under no_log only each item's status is kept: a label or a message may be the secret itself."""
    summary = []
    for item in items:
        if not isinstance(item, dict):
            continue
        status = ("failed" if item.get("failed") else "skipped" if item.get("skipped") else
                  "changed" if item.get("changed") else "ok")
        label = item.get("_ansible_item_label", item.get(item.get("ansible_loop_var", "item")))
        summary.append({"item": None if hidden else label, "status": status,
                        "rc": None if hidden else item.get("rc"), "msg": "" if hidden else _text(item.get("msg"))})
    result.values["items"] = summary
    result.values.pop("results", None)
    counts = {status: sum(s["status"] == status for s in summary) for status in FINAL[:4]}
    result.msg = f"{len(summary)} items: " + ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    results = [item for item in items if isinstance(item, dict) and not hidden]
    result.stdout = "\n".join(_text(item["stdout"]) for item in results if item.get("stdout"))
    result.stderr = "\n".join(_text(item["stderr"]) for item in results if item.get("stderr"))


def _delegated_to(res: dict, written: str) -> str:
    """Where a delegated task ran: the host as the runbook names it, else the address Ansible connected to."""
    items = res.get("results") if isinstance(res.get("results"), list) else []
    delegated = next((r["_ansible_delegated_vars"] for r in [res, *items[:1]]
                      if isinstance(r, dict) and isinstance(r.get("_ansible_delegated_vars"), dict)), {})
    if delegated.get("ansible_delegated_host"):
        return str(delegated["ansible_delegated_host"])
    return written if "${" not in written else str(delegated.get("ansible_host") or written)


def _loops(leaf: ModuleCall) -> bool:
    return any(name == "loop" or name.startswith("with_") for name in leaf.options.keywords)


def _reports_change(leaf: ModuleCall | None) -> bool:
    """A core module may say its "changed" means nothing (echo): such a result reads as ok."""
    core = leaf.target.core if leaf is not None and leaf.target is not None else None
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
