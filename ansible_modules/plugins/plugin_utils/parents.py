# Copyright: (c) 2026, rb2ansible contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Creates the missing directories above a destination, as AutomateJS's `mkdir: true` did, with Ansible's modules."""

from __future__ import annotations

import posixpath

from ansible.module_utils.parsing.convert_bool import boolean


def parent_of(dest: str) -> str:
    """The directory a file is written into; a destination ending in `/` is itself that directory."""
    return dest.rstrip("/") if dest.endswith("/") else posixpath.dirname(dest)


def make_parents(action, task_vars) -> dict | None:
    """Creates the destination's directory, and those above it, when it is missing.

    Returns None when the file can be written now; otherwise the task's result: a failure, or (in
    check mode) that the directories and the file would be created. Only directories created here
    get the task's owner and group (ansible.builtin.file's rule for the directories it creates); an
    existing directory is never changed, so `owner:` on a file never reaches /root or /etc.
    """
    args = action._task.args
    parent = parent_of(str(args.get("dest") or ""))
    if parent in ("", "/"):
        return None
    stat = action._execute_module(module_name="ansible.legacy.stat",
                                  module_args={"path": parent, "get_checksum": False}, task_vars=task_vars)
    if stat.get("failed"):
        return stat
    found = stat.get("stat", {})
    if found.get("exists"):
        if found.get("isdir"):
            return None
        return {"failed": True, "msg": f"cannot create {parent}: it exists and is not a directory"}
    directory = {"path": parent, "state": "directory"}
    directory.update({key: args[key] for key in ("owner", "group") if args.get(key) is not None})
    made = action._execute_module(module_name="ansible.legacy.file", module_args=directory, task_vars=task_vars)
    if made.get("failed"):
        return made
    if action._task.check_mode:
        return {"changed": True, "msg": f"would create {parent} and write {args.get('dest')} in it"}
    return None


class MakesParents:
    """Mixed into an action plugin before Ansible's own: handles `mkdir`, then lets that action write the file."""

    def run(self, tmp=None, task_vars=None):
        if boolean(self._task.args.pop("mkdir", False), strict=True):
            stopped = make_parents(self, task_vars)
            if stopped is not None:
                return stopped
        return super().run(tmp, task_vars)
