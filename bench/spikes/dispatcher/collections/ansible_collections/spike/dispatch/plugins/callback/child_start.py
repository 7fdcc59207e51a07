"""Controller-side shim: turns the dispatcher's one-result child events into the callback calls Ansible defines.

A worker can only send callbacks that take one task result (2.19+: CallbackSend carries one wire result), but
v2_runner_on_start takes (host, task) and an ignored failure needs ignore_errors=True. This plugin, enabled
with callbacks_enabled, wraps TaskQueueManager.send_callback once, at load, to translate two private names.
"""

from __future__ import annotations

from ansible.executor.task_queue_manager import TaskQueueManager
from ansible.plugins.callback import CallbackBase
from ansible.utils.display import Display

DOCUMENTATION = """
name: child_start
type: aggregate
short_description: spike shim for per-child start events of spike.dispatch.parallel
description: [translates v2_spike_child_start into v2_runner_on_start]
"""

CHILD_START = "v2_spike_child_start"
CHILD_FAILED_IGNORED = "v2_spike_child_failed_ignored"

_original_send_callback = TaskQueueManager.send_callback


def _host_and_task(result) -> tuple:
    # 2.18 TaskResult has _host/_task; 2.19 _RawTaskResult has both spellings; 2.21 HostTaskResult only host/task.
    host = getattr(result, "host", None) or result._host
    task = getattr(result, "task", None) or result._task
    return host, task


def _send_callback(self, method_name, *args, **kwargs):
    # This runs in the controller's results thread: an exception here would end that thread and hang the run.
    try:
        if method_name == CHILD_START:
            return _original_send_callback(self, "v2_runner_on_start", *_host_and_task(args[0]))
        if method_name == CHILD_FAILED_IGNORED:
            return _original_send_callback(self, "v2_runner_on_failed", args[0], ignore_errors=True)
    except Exception as error:
        Display().warning(f"spike.dispatch.child_start: {method_name} dropped: {error}")
        return None
    return _original_send_callback(self, method_name, *args, **kwargs)


if getattr(TaskQueueManager.send_callback, "__name__", "") != "_send_callback":
    TaskQueueManager.send_callback = _send_callback


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "spike.dispatch.child_start"
    CALLBACK_NEEDS_ENABLED = True
