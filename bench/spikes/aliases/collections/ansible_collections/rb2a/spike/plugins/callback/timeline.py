"""Spike: record each host's task start and end (wall clock) as JSON lines in $RB2A_TIMELINE."""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: timeline
type: aggregate
short_description: per host and task start/end times as JSON lines
description: Writes one line per task start and end to the file named by RB2A_TIMELINE.
requirements: [enable in callbacks_enabled]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "rb2a.spike.timeline"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        path = os.environ.get("RB2A_TIMELINE")
        self._stream = open(path, "a", buffering=1) if path else None

    def _write(self, event, host, task, **extra):
        if self._stream:
            record = dict(event=event, host=host, task=task.get_name(), uuid=task._uuid, t=time.time(), **extra)
            self._stream.write(json.dumps(record) + "\n")

    def v2_runner_on_start(self, host, task):
        self._write("start", host.get_name(), task)

    def _end(self, status, result):
        self._write("end", result._host.get_name(), result._task, status=status)

    def v2_runner_on_ok(self, result):
        self._end("ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._end("failed", result)

    def v2_runner_on_skipped(self, result):
        self._end("skipped", result)

    def v2_runner_on_unreachable(self, result):
        self._end("unreachable", result)

    def v2_playbook_on_stats(self, stats):
        if self._stream:
            hosts = sorted(stats.processed)
            self._stream.write(json.dumps(dict(event="stats", hosts=hosts, t=time.time())) + "\n")
