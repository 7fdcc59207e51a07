"""The private ansible-core APIs the dispatcher needs, one adapter per shape they have had (2.18, 2.19-2.20, 2.21).

Each adapter knows how to: run one child through TaskExecutor in the current thread and get a result dict back;
put a callback event for a child on the worker's final queue under the root dispatcher's uuid; and unpack the
callbacks TaskExecutor itself sends (retries, loop items) so they can be re-addressed.
"""

from __future__ import annotations

import inspect

from ansible.executor.task_executor import TaskExecutor
from ansible.executor.task_queue_manager import CallbackSend


class Core218:
    """2.18: TaskExecutor(host, task, job_vars, play_context, new_stdin, ...) returns a dict; TaskResult pickled."""

    name = "2.18"

    def __init__(self) -> None:
        from ansible.executor.task_result import TaskResult
        from ansible.playbook.task import Task

        self._task_result, self._task = TaskResult, Task

    def run(self, *, host, child, job_vars, play_context, loader, shared_loader_obj, final_q, variable_manager):
        return TaskExecutor(host, child, job_vars, play_context, None, loader, shared_loader_obj, final_q,
                            variable_manager).run()

    def empty(self):
        return {}

    def as_dict(self, payload) -> dict:
        return payload

    def from_dict(self, result: dict):
        return result

    def put(self, final_q, method_name, host_name, root_uuid, child_uuid, task_fields, payload) -> None:
        # from_attrs() of 2.18 skips non-field attributes, so _uuid cannot ride in task_fields: a detached Task
        # copy goes instead (normalize_task_result leaves a Task object alone; it only resolves uuid strings).
        detached = self._task()
        detached.from_attrs(task_fields)
        detached._uuid = child_uuid
        final_q.put(CallbackSend(method_name, self._task_result(host_name, detached, payload, task_fields=task_fields)))

    def unpack(self, args) -> tuple[str, dict, object]:
        result = args[0]
        return result._task, dict(result._task_fields), result._result  # _task is the child's uuid string here


class Core219:
    """2.19-2.20: TaskExecutor returns a dict; CallbackSend carries one _WireTaskResult; tasks run in a TaskContext."""

    name = "2.19"

    def __init__(self) -> None:
        from ansible._internal import _task
        from ansible.executor.task_result import _WireTaskResult

        self._context, self._wire = _task.TaskContext, _WireTaskResult

    def run(self, *, host, child, job_vars, play_context, loader, shared_loader_obj, final_q, variable_manager):
        with self._context(child):
            return TaskExecutor(host, child, job_vars, play_context, loader, shared_loader_obj, final_q,
                                variable_manager).run()

    def empty(self):
        return {}

    def as_dict(self, payload) -> dict:
        return payload

    def from_dict(self, result: dict):
        return result

    def put(self, final_q, method_name, host_name, root_uuid, child_uuid, task_fields, payload) -> None:
        # The controller resolves a result by (host, task uuid) among the tasks it queued, then copies that task
        # and applies task_fields with from_attrs(), which (2.19+) also sets non-field attributes such as _uuid.
        wire = self._wire(host_name=host_name, task_uuid=root_uuid, return_data=payload,
                          task_fields=dict(task_fields, _uuid=child_uuid))
        final_q.put(CallbackSend(method_name=method_name, wire_task_result=wire))

    def unpack(self, args) -> tuple[str, dict, object]:
        result = args[0]
        return result.task._uuid, dict(result.task_fields), result._return_data


class Core221:
    """2.21: the task and its vars live in TaskContext.create(); TaskExecutor returns a UnifiedTaskResult."""

    name = "2.21"

    def __init__(self) -> None:
        from ansible._internal import _task

        self._module = _task

    def run(self, *, host, child, job_vars, play_context, loader, shared_loader_obj, final_q, variable_manager):
        with self._module.TaskContext.create(task=child, task_vars=job_vars, host_name=host.name):
            return TaskExecutor(host, play_context, loader, shared_loader_obj, final_q, variable_manager).run()

    def empty(self):
        return self._module.UnifiedTaskResult.from_action_result_dict({})

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


def detect():
    parameters = list(inspect.signature(TaskExecutor.__init__).parameters)
    if "task" not in parameters:
        return Core221()
    if "new_stdin" in parameters:
        return Core218()
    return Core219()
