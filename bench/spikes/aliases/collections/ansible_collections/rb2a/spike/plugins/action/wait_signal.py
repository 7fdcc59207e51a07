"""Spike: a branch waits, on the controller, until a sibling branch signalled a point; fails if it failed."""

from __future__ import annotations

import os
import time

from ansible.plugins.action import ActionBase

POLL = 0.02


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        path = os.path.join(args["dir"], task_vars.get("rb2a_parent", task_vars["inventory_hostname"]), args["name"])
        deadline = time.monotonic() + float(args.get("timeout", 3600))
        while not os.path.exists(path):
            if time.monotonic() > deadline:
                return dict(result, failed=True, msg=f"timed out waiting for {args['name']}")
            time.sleep(POLL)
        with open(path) as stream:
            state = stream.read()
        result["changed"] = False
        if state != "ok":
            result.update(failed=True, msg=f"{args['name']} did not succeed ({state})")
        return result
