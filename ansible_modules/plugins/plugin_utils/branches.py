# Copyright: (c) 2026, rb2ansible contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs a parallel block's branches in threads of the host's worker: each child through TaskExecutor, reported live."""

from __future__ import annotations

import contextvars
import datetime
import re
import threading

from ansible.playbook.block import Block
from ansible.utils.vars import combine_vars
from ansible.vars.clean import module_response_deepcopy, strip_internal_keys
from ansible_collections.rb2ansible.runbook.plugins.plugin_utils.core_compat import (
    CHILD_FAILED_IGNORED,
    CHILD_START,
    CORE,
    async_gave_up,
    register_names,
    uuid_of,
)

PARALLEL_ACTIONS = ("rb2ansible.runbook.parallel",)  # rb2ansible always writes the full name
SET_FACT_ACTIONS = ("ansible.builtin.set_fact", "ansible.legacy.set_fact", "set_fact")
FAILING = ("failed", "unreachable")
OUTCOME_KEYS = ("changed", "failed", "skipped", "unreachable", "attempts")
# The messages of an async job past its limit (TaskExecutor's, async_wrapper's) and of this action's watchdog.
TIMED_OUT = re.compile(r"async task did not complete within the requested time - \d+s|Timeout exceeded|"
                       r"The task timed out after \d+ s \(watchdog\)\.")
CENSORED = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def _censored(payload, result: dict):
    """A no_log child's event: its outcome and nothing else. Left to the callbacks, a hidden result loses its
    `changed` too (ansible-runner keeps one sentence), and the run would report a change as `ok`. (Whether it
    timed out cannot ride here: the controller censors a no_log task's events once more; the block's
    `children` say it.)"""
    kept = {key: result[key] for key in OUTCOME_KEYS if key in result}
    return CORE.from_dict({**kept, "censored": CENSORED})


def _watchdog_message(seconds: int) -> str:
    return f"The task timed out after {seconds} s (watchdog)."


def _in_fresh_context(function, *args):
    """A fresh context, not a copy: 2.19 keeps mutable objects in ContextVars (the stack of template audit
    contexts); a copied context shares them between threads ("Out-of-order context deactivation")."""
    return contextvars.Context().run(function, *args)


class Events:
    """Sends a child's callback events to the controller, addressed to the task this worker was given.

    The controller resolves every result by (host, task uuid) among the tasks it queued, and an unknown uuid
    ends its results thread (the run hangs): so every event, a nested block's too, goes under the worker's
    own task uuid, and the child's uuid rides in the task fields."""

    def __init__(self, worker) -> None:
        self._worker = worker

    def child(self, method_name: str, task, payload) -> None:
        CORE.put(self._worker.final_q, method_name, self._worker.host.name, self._worker.task_uuid, uuid_of(task),
                 task.dump_attrs(), payload)

    def forward(self, method_name: str, args) -> None:
        """A callback TaskExecutor itself sends (retries, loop items, async polls), re-addressed."""
        child_uuid, task_fields, payload = CORE.unpack(args)
        CORE.put(self._worker.final_q, method_name, self._worker.host.name, self._worker.task_uuid, child_uuid,
                 task_fields, payload)


class ChildQueue:
    """The final queue as TaskExecutor sees it inside a branch: callbacks are re-addressed, the rest passes."""

    def __init__(self, final_q, events: Events) -> None:
        self._final_q = final_q
        self._events = events

    def send_callback(self, method_name, *args):
        self._events.forward(method_name, args)

    def __getattr__(self, name):
        return getattr(self._final_q, name)


class Dispatch:
    """One parallel block on one host: its branches' threads and what they leave (children, registered values)."""

    def __init__(self, *, worker, task_vars: dict, loader, shared_loader_obj) -> None:
        self._worker = worker
        self._task_vars = task_vars
        self._loader = loader
        self._shared_loader_obj = shared_loader_obj
        self._events = Events(worker)
        self._lock = threading.Lock()
        self._registered: dict = {}
        self._children: list[dict] = []
        self._secret_registered = False

    def run(self, branches: list[Block]) -> dict:
        threads = [threading.Thread(target=_in_fresh_context, args=(self._run_items, branch),
                                    name=f"rb2ansible-branch-{index}", daemon=True)
                   for index, branch in enumerate(branches)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        failed = [child for child in self._children if child["status"] in FAILING]
        result = {
            "changed": any(child["status"] == "changed" for child in self._children),
            "failed": bool(failed),
            "msg": f"{len(failed)} of {len(self._children)} children failed" if failed else "all children ended",
            "registered": self._registered,
            "children": sorted(self._children, key=lambda child: child["start"]),
        }
        if self._secret_registered:
            # A no_log child's registered value must reach the controller uncensored to become a variable,
            # so the whole block result is censored in callbacks, as Ansible does for a no_log task.
            result["_ansible_no_log"] = True
        return result

    def _run_items(self, block: Block) -> bool:
        """A branch (or a block inside it) runs its items in order; a failure stops the rest."""
        for item in block.block:
            ok = self._run_items(item) if isinstance(item, Block) else self._run_child_safely(item)
            if not ok:
                return False
        return True

    def _run_child_safely(self, child) -> bool:
        """An exception must not end the thread silently: the child would be neither reported nor counted."""
        start = _now()
        try:
            return self._run_child(child, start)
        except Exception as error:
            message = f"rb2ansible.runbook.parallel: {type(error).__name__}: {error}"
            result = {"failed": True, "changed": False, "msg": message, "_ansible_no_log": bool(child.no_log)}
            self._events.child("v2_runner_on_failed", child, CORE.from_dict(result))
            self._record(child, "failed", start, _now())
            return False

    def _run_child(self, child, start: str) -> bool:
        self._events.child(CHILD_START, child, CORE.from_dict({}))
        watchdog = self._timeout_without_signals(child)
        payload = self._execute(watchdog, worker=self._worker, child=child, job_vars=self._child_vars(child),
                                loader=self._loader, shared_loader_obj=self._shared_loader_obj,
                                final_q=ChildQueue(self._worker.final_q, self._events))
        end = _now()
        result = CORE.as_dict(payload)
        status, method_name = self._status(child, result)
        self._events.child(method_name, child, _censored(payload, result) if child.no_log else payload)
        self._keep(child, result)
        message = str(result.get("msg", ""))
        timed_out = status in FAILING and (async_gave_up(result) or bool(TIMED_OUT.fullmatch(message)))
        self._record(child, status, start, end, timed_out=timed_out,
                     nested=result.get("children", []) if self._is_parallel(child) else [])
        return status not in FAILING

    def _child_vars(self, child) -> dict:
        with self._lock:
            job_vars = combine_vars(self._task_vars, self._registered)
        job_vars = combine_vars(job_vars, child.get_vars())
        return combine_vars(job_vars, self._worker.variable_manager.extra_vars)  # -e stays on top

    def _keep(self, child, result: dict) -> None:
        """What later steps and the block's caller see: registered results, set_fact facts, a nested block's."""
        with self._lock:
            for name in register_names(child):
                self._registered[name] = strip_internal_keys(module_response_deepcopy(result))
                self._secret_registered |= bool(child.no_log)
            if child.action in SET_FACT_ACTIONS and "ansible_facts" in result:
                self._registered.update(result["ansible_facts"])
            if self._is_parallel(child) and result.get("registered"):
                self._registered.update(result["registered"])
                self._secret_registered |= bool(result.get("_ansible_no_log"))

    def _record(self, child, status: str, start: str, end: str, timed_out: bool = False, nested: list = ()) -> None:
        with self._lock:
            # the task's own name, as ansible-runner's events carry it (the role is the dispatcher's)
            self._children.append({"uuid": uuid_of(child), "name": child.name or child.action, "status": status,
                                   "start": start, "end": end, "timed_out": timed_out})
            self._children.extend(nested)  # a nested block's children, so every uuid is in the outer result

    @staticmethod
    def _is_parallel(child) -> bool:
        return child.action in PARALLEL_ACTIONS

    def _timeout_without_signals(self, child) -> int | None:
        """TaskExecutor implements `timeout` with SIGALRM, which only the main thread may set.

        A module that can run async gets `async: timeout, poll: 1` instead: async_wrapper kills it on the host
        when the time is up. Any other action gets a watchdog (returned): the branch waits that long at most and
        reports the child failed; the action's thread cannot be stopped and runs on until it ends."""
        timeout = child.timeout
        if not timeout:
            return None
        child.timeout = None
        short_name = child.action.rsplit(".", 1)[-1]
        # command and shell, and modules without an action plugin (run by `normal`), support async
        has_action_plugin = self._shared_loader_obj.action_loader.has_plugin(child.action)
        if (short_name in ("command", "shell") or not has_action_plugin) and not child.async_val:
            child.async_val, child.poll = int(timeout), 1
            return None
        return int(timeout)

    @staticmethod
    def _execute(watchdog: int | None, **executor_args):
        if watchdog is None:
            return CORE.run(**executor_args)
        outcome: list = []

        def run_and_keep() -> None:
            try:
                outcome.append(CORE.run(**executor_args))
            except Exception as error:  # raised again in the branch's thread, which reports it
                outcome.append(error)

        runner = threading.Thread(target=_in_fresh_context, args=(run_and_keep,), name="rb2ansible-watched-child",
                                  daemon=True)
        runner.start()
        runner.join(watchdog)
        if runner.is_alive():
            return CORE.from_dict({"failed": True, "changed": False, "msg": _watchdog_message(watchdog)})
        if isinstance(outcome[0], Exception):
            raise outcome[0]
        return outcome[0]

    @staticmethod
    def _status(child, result: dict) -> tuple[str, str]:
        if result.get("unreachable"):
            return "unreachable", "v2_runner_on_unreachable"
        if result.get("failed"):
            if child.ignore_errors:
                return "ignored", CHILD_FAILED_IGNORED
            return "failed", "v2_runner_on_failed"
        if result.get("skipped"):
            return "skipped", "v2_runner_on_skipped"
        return ("changed" if result.get("changed") else "ok"), "v2_runner_on_ok"
