# Copyright: (c) 2026, rb2ansible contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turns the parallel action's per-child start and ignored-failure events into the callbacks Ansible defines.

rb2ansible's generated ansible.cfg will enable it (`callbacks_enabled = rb2ansible.runbook.child_events`).
"""

from __future__ import annotations

from ansible.plugins.callback import CallbackBase
from ansible.utils.display import Display
from ansible_collections.rb2ansible.runbook.plugins.plugin_utils.core_compat import (
    CHILD_FAILED_IGNORED,
    CHILD_START,
    result_host_and_task,
    wrap_send_callback,
)

DOCUMENTATION = r"""
---
name: child_events
type: aggregate
short_description: Per-child start events and ignored failures of rb2ansible.runbook.parallel
version_added: "0.2.0"
description:
  - A worker can only send callbacks that carry one task result, but C(v2_runner_on_start) takes a host and
    a task, and an ignored failure needs C(ignore_errors=True). The parallel action sends two private names
    instead; this plugin translates them in the controller, so every callback (ansible-runner's included) sees
    each child's C(v2_runner_on_start) and its ignored failures.
  - Without it the run still works; those two kinds of event are dropped.
requirements: [enable in callbacks_enabled]
author: rb2ansible contributors
"""


def _translate(send_callback, tqm, method_name, *args, **kwargs):
    # This runs in the controller's results thread: an exception here would end that thread and hang the run.
    try:
        if method_name == CHILD_START:
            return send_callback(tqm, "v2_runner_on_start", *result_host_and_task(args[0]))
        if method_name == CHILD_FAILED_IGNORED:
            return send_callback(tqm, "v2_runner_on_failed", args[0], ignore_errors=True)
    except Exception as error:
        Display().warning(f"rb2ansible.runbook.child_events: {method_name} dropped: {error}")
        return None
    return send_callback(tqm, method_name, *args, **kwargs)


wrap_send_callback(_translate)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "rb2ansible.runbook.child_events"
    CALLBACK_NEEDS_ENABLED = True
