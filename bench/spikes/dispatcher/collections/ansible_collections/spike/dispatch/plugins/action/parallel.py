"""Spike of design B: a parallel block's branches run in threads of the host's worker, each child through TaskExecutor.

Args: `file`, a tasks file of the role (or beside the playbook). Each top-level entry of that file is one
branch: a task, a `block:` (its tasks run in order), or a task of this action (a nested parallel block).
Every child is a real Task loaded by Ansible's own loaders, run by Ansible's own TaskExecutor with its own
connection, and reported as real callback events through the worker's final queue.

Private APIs used: see plugin_utils/core_compat.py and docs/design/parallel-dispatcher-spike.md.
"""

from __future__ import annotations

import contextvars
import ctypes
import datetime
import signal
import threading

from ansible.errors import AnsibleActionFail
from ansible.executor.process import worker as worker_module
from ansible.playbook.block import Block
from ansible.playbook.helpers import load_list_of_blocks
from ansible.plugins import loader as plugin_loader
from ansible.plugins.action import ActionBase
from ansible.utils.vars import combine_vars
from ansible.vars.clean import module_response_deepcopy, strip_internal_keys
from ansible_collections.spike.dispatch.plugins.plugin_utils.core_compat import detect

CORE = detect()
CHILD_START = "v2_spike_child_start"  # turned into v2_runner_on_start(host, task) by the child_start callback
CHILD_FAILED_IGNORED = "v2_spike_child_failed_ignored"  # -> v2_runner_on_failed(result, ignore_errors=True)

# The dispatcher the controller knows (the play's own task): nested dispatchers report under its uuid,
# because the controller resolves every result by (host, task uuid) among the tasks it queued.
_ROOT = contextvars.ContextVar("spike_dispatch_root", default=None)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


def _register_names(child) -> list[str]:
    # 2.21 turns `register: name` into a projection {name: expression}; earlier versions keep the string.
    register = child.register
    if isinstance(register, dict):
        return list(register)
    return [register] if register else []


class Events:
    """Sends a child's callback events to the controller under the root dispatcher's uuid."""

    def __init__(self, final_q, root_uuid: str, host) -> None:
        self._final_q = final_q
        self._root_uuid = root_uuid
        self._host = host

    def child(self, method_name: str, task, payload) -> None:
        CORE.put(self._final_q, method_name, self._host.name, self._root_uuid, task._uuid, task.dump_attrs(), payload)

    def forward(self, method_name: str, args) -> None:
        """A callback TaskExecutor itself sends (retries, loop items): re-addressed to the root."""
        child_uuid, task_fields, payload = CORE.unpack(args)
        CORE.put(self._final_q, method_name, self._host.name, self._root_uuid, child_uuid, task_fields, payload)


class ChildQueue:
    """The final queue as TaskExecutor sees it inside a branch: callbacks are re-addressed, the rest passes."""

    def __init__(self, final_q, events: Events) -> None:
        self._final_q = final_q
        self._events = events

    def send_callback(self, method_name, *args):
        self._events.forward(method_name, args)

    def __getattr__(self, name):
        return getattr(self._final_q, name)


def _serialise_plugin_imports() -> None:
    """PluginLoader puts a plugin's module in sys.modules before running it: a second thread loading the same
    plugin meanwhile gets a half-initialised module ("has no attribute 'ActionModule'"). One lock, once per worker."""
    original = plugin_loader.PluginLoader._load_module_source
    if getattr(original, "spike_serialised", False):
        return
    lock = threading.RLock()

    def load_module_source(self, *args, **kwargs):
        with lock:
            return original(self, *args, **kwargs)

    load_module_source.spike_serialised = True
    plugin_loader.PluginLoader._load_module_source = load_module_source


_serialise_plugin_imports()


def _die_with_controller() -> None:
    """After kill -9 of ansible-playbook an orphaned worker kept running, then blocked for ever writing events
    into the result pipe nobody reads (it holds the pipe's read end itself). Linux: SIGTERM when the parent
    dies, which the worker's own handler turns into killing its process group."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("file",))

    def run(self, tmp=None, task_vars=None):
        super().run(tmp, task_vars)
        worker = worker_module.current_worker
        if worker is None:
            raise AnsibleActionFail("spike.dispatch.parallel must run in a worker process")
        _die_with_controller()
        root = _ROOT.get()
        root_uuid = root if root is not None else self._task._uuid
        self._worker = worker
        self._events = Events(worker._final_q, root_uuid, worker._host)
        self._registered: dict = {}
        self._lock = threading.Lock()
        self._children: list[dict] = []
        self._secret_registered = False

        branches = self._load_branches(self._task.args.get("file"))
        threads = []
        for index, branch in enumerate(branches):
            # A fresh context, not a copy: 2.19 keeps mutable objects in ContextVars (AnsibleAccessContext's stack of
            # audit contexts); a copied context shares them between threads ("Out-of-order context deactivation").
            context = contextvars.Context()
            context.run(_ROOT.set, root_uuid)
            thread = threading.Thread(target=context.run, args=(self._run_branch, branch, f"{index}"),
                                      name=f"branch-{index}", daemon=True)
            threads.append(thread)
            thread.start()
        for thread in threads:
            thread.join()

        failed = [c for c in self._children if c["status"] in ("failed", "unreachable")]
        result = {
            "changed": any(c["status"] == "changed" for c in self._children),
            "failed": bool(failed),
            "msg": f"{len(failed)} of {len(self._children)} children failed" if failed else "all children ended",
            "registered": self._registered,
            "children": sorted(self._children, key=lambda c: c["start"]),
        }
        if self._secret_registered:
            # A no_log child's registered value must reach the controller uncensored (to become a variable),
            # so the whole block result is censored in callbacks, as Ansible does for a no_log task.
            result["_ansible_no_log"] = True
        return result

    # -- loading -------------------------------------------------------------------------------------

    def _load_branches(self, file_name) -> list[Block]:
        if not file_name:
            raise AnsibleActionFail("spike.dispatch.parallel needs file=<tasks file>")
        path = self._find_needle("tasks", file_name)
        try:
            data = self._loader.load_from_file(path, trusted_as_template=True)  # 2.19+: templates in it are trusted
        except TypeError:
            data = self._loader.load_from_file(path)  # 2.18 has no data tagging
        if not isinstance(data, list):
            raise AnsibleActionFail(f"{file_name}: a parallel block's file must be a list of branches")
        # One entry, one branch: loaded one at a time, because consecutive bare tasks would share an implicit block.
        blocks = [
            load_list_of_blocks(
                [entry], play=self._play(), task_include=self._task, role=self._task._role,
                variable_manager=self._worker._variable_manager, loader=self._loader,
            )[0]
            for entry in data
        ]
        for index, block in enumerate(blocks):
            self._name_children(block, f"{self._task._uuid}-b{index}")
        return blocks

    def _play(self):
        node = self._task._parent
        while node is not None and getattr(node, "_play", None) is None:
            node = node._parent
        return node._play

    def _name_children(self, block: Block, prefix: str) -> None:
        """Uuids that are the same on every host, so results map by identity (dispatcher uuid + position)."""
        for index, item in enumerate(block.block):
            if isinstance(item, Block):
                self._name_children(item, f"{prefix}.{index}")
            else:
                item._uuid = f"{prefix}.{index}"

    # -- running -------------------------------------------------------------------------------------

    def _run_branch(self, block: Block, label: str) -> bool:
        """Run a block's items in order; a failure stops the rest. Returns False when the branch failed."""
        for item in block.block:
            ok = self._run_branch(item, label) if isinstance(item, Block) else self._run_child_safely(item)
            if not ok:
                return False
        return True

    def _child_vars(self, child) -> dict:
        job_vars = dict(self._worker._task_vars)
        with self._lock:
            job_vars.update(self._registered)
        job_vars = combine_vars(job_vars, child.get_vars())
        return combine_vars(job_vars, self._worker._variable_manager.extra_vars)  # -e stays on top

    def _run_child_safely(self, child) -> bool:
        """An exception must not end the thread silently: the child would be neither reported nor counted."""
        try:
            return self._run_child(child)
        except Exception as error:
            result = {"failed": True, "changed": False, "msg": f"dispatcher error: {type(error).__name__}: {error}"}
            self._events.child("v2_runner_on_failed", child, CORE.from_dict(result))
            with self._lock:
                self._children.append({"uuid": child._uuid, "name": child.get_name(), "status": "failed",
                                       "start": _now(), "end": _now(), "msg": result["msg"]})
            return False

    def _run_child(self, child) -> bool:
        events = self._events
        start = _now()
        events.child(CHILD_START, child, CORE.empty())
        watchdog = self._timeout_without_signals(child)
        payload = self._execute(watchdog, host=self._worker._host, child=child, job_vars=self._child_vars(child),
                                play_context=self._worker._play_context, loader=self._loader,
                                shared_loader_obj=self._shared_loader_obj,
                                final_q=ChildQueue(self._worker._final_q, events),
                                variable_manager=self._worker._variable_manager)
        end = _now()
        result = CORE.as_dict(payload)
        status, method = self._status(child, result)
        events.child(method, child, payload)
        with self._lock:
            for name in _register_names(child):
                self._registered[name] = strip_internal_keys(module_response_deepcopy(result))
                self._secret_registered |= bool(child.no_log)
            if "ansible_facts" in result and child.action in ("set_fact", "ansible.builtin.set_fact"):
                self._registered.update(result["ansible_facts"])
            self._children.append({"uuid": child._uuid, "name": child.get_name(), "status": status,
                                   "start": start, "end": end})
        return status not in ("failed", "unreachable")

    def _timeout_without_signals(self, child) -> int | None:
        """TaskExecutor implements `timeout` with SIGALRM, which only the main thread may set.

        A module that can run async gets `async: timeout, poll: 1` instead: the job runs under async_wrapper, which
        kills it on the host when the time is up. Any other action gets a watchdog (returned): the thread waits for
        it at most that long, and reports it failed when the time is up."""
        timeout = child.timeout
        if not timeout:
            return None
        child.timeout = None
        action = child.action.rsplit(".", 1)[-1]
        # command/shell, and modules without an action plugin (run by `normal`), support async.
        has_action_plugin = self._shared_loader_obj.action_loader.has_plugin(child.action)
        async_capable = action in ("command", "shell") or not has_action_plugin
        if async_capable and not child.async_val:
            child.async_val, child.poll = int(timeout), 1
            return None
        return int(timeout)

    @staticmethod
    def _execute(watchdog: int | None, **executor_args):
        if watchdog is None:
            return CORE.run(**executor_args)
        outcome: list = []
        runner = threading.Thread(target=contextvars.Context().run,
                                  args=(lambda: outcome.append(CORE.run(**executor_args)),), daemon=True)
        runner.start()
        runner.join(watchdog)
        if runner.is_alive():
            return CORE.from_dict({"failed": True, "changed": False,
                                   "msg": f"The task timed out after {watchdog} s (watchdog)."})
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
