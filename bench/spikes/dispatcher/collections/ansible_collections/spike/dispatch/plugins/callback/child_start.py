"""Controller-side shim: turns the dispatcher's one-result child events into the callback calls Ansible defines.

A worker can only send callbacks that take one task result (2.19+: CallbackSend carries one wire result), but
v2_runner_on_start takes (host, task) and an ignored failure needs ignore_errors=True. This plugin, enabled
with callbacks_enabled, wraps TaskQueueManager.send_callback once, at load, to translate two private names.
"""

from __future__ import annotations

from ansible.executor.task_queue_manager import TaskQueueManager
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: child_start
type: aggregate
short_description: spike shim for per-child start events of spike.dispatch.parallel
description: [translates v2_spike_child_start into v2_runner_on_start]
"""

CHILD_START = "v2_spike_child_start"
CHILD_FAILED_IGNORED = "v2_spike_child_failed_ignored"

_original_send_callback = TaskQueueManager.send_callback


def _send_callback(self, method_name, *args, **kwargs):
    if method_name == CHILD_START:
        result = args[0]
        return _original_send_callback(self, "v2_runner_on_start", result._host, result._task)
    if method_name == CHILD_FAILED_IGNORED:
        return _original_send_callback(self, "v2_runner_on_failed", args[0], ignore_errors=True)
    return _original_send_callback(self, method_name, *args, **kwargs)


if getattr(TaskQueueManager.send_callback, "__name__", "") != "_send_callback":
    TaskQueueManager.send_callback = _send_callback


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "spike.dispatch.child_start"
    CALLBACK_NEEDS_ENABLED = True
