# Copyright: (c) 2026, rb2ansible contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every private ansible-core API the parallel dispatcher touches, with one adapter per shape (2.18, 2.19-2.20, 2.21).

Nothing else in the collection reaches into ansible-core's internals: when a release changes one of these,
this is the only file to read. An unknown shape raises at import, so the dispatcher task fails with a message
instead of sending the controller something it cannot resolve (which would kill its results thread and hang
the run). See docs/design/parallel-dispatcher-spike.md, "Private APIs it relies on".

Read from each release's source, 2.18 to 2.21, and kept alike, so they need no adapter: async_wrapper's first
argument is the job id base and its job files are ANSIBLE_ASYNC_DIR/<base>.<pid> (modules/stop_run.py finds and
removes them; 2.21 changed only the arguments after the time limit). What did change in async results is
async_gave_up's. CI runs the collection's tests under each core (tools/test.sh --ci).
"""

from __future__ import annotations

import inspect
import threading
from dataclasses import dataclass

from ansible.errors import AnsibleError
from ansible.executor.process import worker as worker_module
from ansible.executor.task_executor import TaskExecutor
from ansible.executor.task_queue_manager import CallbackSend, TaskQueueManager
from ansible.playbook.helpers import load_list_of_blocks
from ansible.plugins import loader as plugin_loader

# Private callback names a worker sends for what one task result cannot express; the child_events callback
# turns them back into the calls Ansible defines. Without that callback the controller drops them harmlessly.
CHILD_START = "v2_rb2ansible_child_start"  # -> v2_runner_on_start(host, task)
CHILD_FAILED_IGNORED = "v2_rb2ansible_child_failed_ignored"  # -> v2_runner_on_failed(result, ignore_errors=True)


@dataclass(frozen=True)
class Worker:
    """What the dispatcher needs of the worker process running it (WorkerProcess keeps these private)."""

    task_uuid: str
    host: object
    task_vars: dict
    play_context: object
    variable_manager: object
    final_q: object


def current_worker() -> Worker | None:
    worker = worker_module.current_worker
    if worker is None:
        return None
    return Worker(task_uuid=worker._task._uuid, host=worker._host, task_vars=worker._task_vars,
                  play_context=worker._play_context, variable_manager=worker._variable_manager,
                  final_q=worker._final_q)


def load_tasks_file(loader, path: str):
    """2.19+ must be told the file's templates are trusted (the strategy loads include_tasks files so)."""
    if "trusted_as_template" in inspect.signature(loader.load_from_file).parameters:
        return loader.load_from_file(path, trusted_as_template=True)
    return loader.load_from_file(path)


def load_branch(entry, parent_task, variable_manager, loader):
    """One entry of a tasks file as one Block whose parent is the dispatcher task, so keywords set on it
    (become, vars, when, environment) are inherited the way Ansible inherits them from an include."""
    return load_list_of_blocks([entry], play=_play_of(parent_task), task_include=parent_task,
                               role=parent_task._role, variable_manager=variable_manager, loader=loader)[0]


def untagged_copy(task):
    """The task, as the parent of the children it loads, minus its tags (tags are inherited down the chain)."""
    copy = task.copy(exclude_parent=False, exclude_tasks=True)
    copy.tags = []
    return copy


def _play_of(task):
    node = task._parent
    while node is not None and getattr(node, "_play", None) is None:
        node = node._parent
    if node is None:
        raise AnsibleError("rb2ansible.runbook.parallel: cannot find the play of its task")
    return node._play


def async_gave_up(result: dict) -> bool:
    """Whether TaskExecutor stopped polling an async job that had not finished, i.e. it ran past its `async` limit.

    Only that path puts the last poll in `async_result`. Until 2.20 its message says so ("did not complete within
    the requested time"); 2.21 asks the fresh failure, not the poll, whether it parsed, and so words it "async task
    produced unparsable results". translator/results.py reads run events the same way."""
    polled = result.get("async_result")
    return isinstance(polled, dict) and not polled.get("finished")


def register_names(task) -> list[str]:
    """2.21 turns `register: name` into a projection {name: expression}; earlier versions keep the string."""
    register = task.register
    if isinstance(register, dict):
        return list(register)
    return [register] if register else []


def uuid_of(task) -> str:
    return task._uuid


def set_uuid(task, uuid: str) -> None:
    task._uuid = uuid


def serialise_plugin_imports() -> None:
    """PluginLoader puts a plugin's module in sys.modules before executing it: a second thread loading the same
    plugin meanwhile gets a half-initialised module ("has no attribute 'ActionModule'"). One lock per process."""
    original = plugin_loader.PluginLoader._load_module_source
    if getattr(original, "rb2ansible_serialised", False):
        return
    lock = threading.RLock()

    def load_module_source(self, *args, **kwargs):
        with lock:
            return original(self, *args, **kwargs)

    load_module_source.rb2ansible_serialised = True
    plugin_loader.PluginLoader._load_module_source = load_module_source


class _DictResults(object):
    """Before 2.21 TaskExecutor returns a plain dict, so a result needs no conversion either way."""

    def as_dict(self, payload):
        return payload

    def from_dict(self, result):
        return result


class Core218(_DictResults):
    """2.18: TaskExecutor(host, task, job_vars, play_context, new_stdin, ...) returns a dict; TaskResult pickled."""

    def __init__(self) -> None:
        from ansible.executor.task_result import TaskResult
        from ansible.playbook.task import Task

        self._task_result, self._task = TaskResult, Task

    def run(self, *, worker: Worker, child, job_vars, loader, shared_loader_obj, final_q):
        return TaskExecutor(worker.host, child, job_vars, worker.play_context, None, loader, shared_loader_obj,
                            final_q, worker.variable_manager).run()

    def put(self, final_q, method_name, host_name, root_uuid, child_uuid, task_fields, payload) -> None:
        # 2.18's from_attrs() skips non-field attributes, so _uuid cannot ride in task_fields: a detached Task
        # goes instead, which the controller leaves alone (it only resolves uuid strings). root_uuid is unused.
        detached = self._task()
        detached.from_attrs(task_fields)
        detached._uuid = child_uuid
        # Callbacks give a task's file:line (ansible-runner's task_path) from its _ds, which a detached Task lacks;
        # 2.19+ copy the dispatcher task, _ds included. The results mapper finds a child through that position.
        detached._ds = self._position_of(worker_module.current_worker._task._ds)
        final_q.put(CallbackSend(method_name, self._task_result(host_name, detached, payload, task_fields=task_fields)))

    def unpack(self, args) -> tuple[str, dict, object]:
        result = args[0]
        return result._task, dict(result._task_fields), result._result  # _task is the child's uuid string here

    @staticmethod
    def _position_of(ds):
        """An empty mapping at ds's position: the position without the dispatcher's whole task to pickle."""
        from ansible.parsing.yaml.objects import AnsibleMapping

        position = AnsibleMapping()
        position.ansible_pos = ds.ansible_pos
        return position


class Core219(_DictResults):
    """2.19-2.20: TaskExecutor runs inside a TaskContext and returns a dict; CallbackSend carries one wire result."""

    def __init__(self) -> None:
        from ansible._internal import _task
        from ansible.executor.task_result import _WireTaskResult

        self._context, self._wire = _task.TaskContext, _WireTaskResult

    def run(self, *, worker: Worker, child, job_vars, loader, shared_loader_obj, final_q):
        with self._context(child):
            return TaskExecutor(worker.host, child, job_vars, worker.play_context, loader, shared_loader_obj,
                                final_q, worker.variable_manager).run()

    def put(self, final_q, method_name, host_name, root_uuid, child_uuid, task_fields, payload) -> None:
        # The controller resolves (host, root_uuid) among the tasks it queued, copies that task and applies
        # task_fields with from_attrs(), which since 2.19 also sets _uuid: callbacks see the child.
        wire = self._wire(host_name=host_name, task_uuid=root_uuid, return_data=payload,
                          task_fields=dict(task_fields, _uuid=child_uuid))
        final_q.put(CallbackSend(method_name=method_name, wire_task_result=wire))

    def unpack(self, args) -> tuple[str, dict, object]:
        result = args[0]
        return result.task._uuid, dict(result.task_fields), result._return_data


class Core221:
    """2.21: the task and its vars live in TaskContext.create(); TaskExecutor returns a UnifiedTaskResult."""

    def __init__(self) -> None:
        from ansible._internal import _task

        self._module = _task

    def run(self, *, worker: Worker, child, job_vars, loader, shared_loader_obj, final_q):
        with self._module.TaskContext.create(task=child, task_vars=job_vars, host_name=worker.host.name):
            return TaskExecutor(worker.host, worker.play_context, loader, shared_loader_obj, final_q,
                                worker.variable_manager).run()

    def as_dict(self, payload) -> dict:
        return payload.as_result_dict()

    def from_dict(self, result: dict):
        return self._module.UnifiedTaskResult.from_action_result_dict(result)

    def put(self, final_q, method_name, host_name, root_uuid, child_uuid, task_fields, payload) -> None:
        wire = self._module.WireTaskResult(host_name=host_name, task_uuid=root_uuid, utr=payload,
                                           task_fields=dict(task_fields, _uuid=child_uuid))
        final_q.put(CallbackSend(method_name=method_name, wire_task_result=wire))

    def unpack(self, args) -> tuple[str, dict, object]:
        _host, task, utr = args
        return task._uuid, task.dump_attrs(), utr


def _detect():
    parameters = list(inspect.signature(TaskExecutor.__init__).parameters)
    if parameters == ["self", "host", "play_context", "loader", "shared_loader_obj", "final_q", "variable_manager"]:
        return Core221()
    if "new_stdin" in parameters and "task" in parameters:
        return Core218()
    if parameters == ["self", "host", "task", "job_vars", "play_context", "loader", "shared_loader_obj", "final_q",
                      "variable_manager"]:
        return Core219()
    raise AnsibleError(f"rb2ansible.runbook.parallel does not know this ansible-core's TaskExecutor{parameters}")


CORE = _detect()


def result_host_and_task(result) -> tuple:
    """The (host, task) of a result as the controller's callbacks receive it.

    2.18 TaskResult has _host/_task; 2.19 _RawTaskResult has both spellings; 2.21 HostTaskResult only host/task."""
    host = getattr(result, "host", None) or result._host
    task = getattr(result, "task", None) or result._task
    return host, task


def wrap_send_callback(translate) -> None:
    """Route every callback the controller dispatches through translate(original, tqm, method_name, *args)."""
    original = TaskQueueManager.send_callback
    if getattr(original, "rb2ansible_translated", False):
        return

    def send_callback(self, method_name, *args, **kwargs):
        return translate(original, self, method_name, *args, **kwargs)

    send_callback.rb2ansible_translated = True
    TaskQueueManager.send_callback = send_callback
