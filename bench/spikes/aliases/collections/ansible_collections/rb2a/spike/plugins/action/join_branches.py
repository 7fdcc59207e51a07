"""Spike: after a block's alias play, fail the real host if any of its branches did not finish."""

from __future__ import annotations

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        block = self._task.args["block"]
        me = task_vars["inventory_hostname"]
        aliases = [a for a in task_vars["groups"].get(f"rb2a_block_{block}", []) if a.startswith(f"{me}~{block}~")]
        hostvars = task_vars["hostvars"]
        unfinished = sorted(a for a in aliases if "rb2a_done" not in hostvars.raw_get(a))
        result.update(changed=False, branches=len(aliases), unfinished=unfinished)
        if unfinished or not aliases:
            result.update(failed=True, msg=f"block {block}: branches not finished: {unfinished or 'none ran'}")
        return result
