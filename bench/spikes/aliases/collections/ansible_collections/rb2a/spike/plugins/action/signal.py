"""Spike: a branch tells its siblings it reached a point (a file under a per-run directory on the controller)."""

from __future__ import annotations

import os

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        directory = os.path.join(args["dir"], task_vars.get("rb2a_parent", task_vars["inventory_hostname"]))
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, args["name"])
        with open(path + ".tmp", "w") as stream:
            stream.write(args.get("state", "ok"))
        os.replace(path + ".tmp", path)  # a waiter never reads a half-written state
        result["changed"] = False
        return result
