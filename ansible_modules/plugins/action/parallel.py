# Copyright: (c) 2026, rb2ansible contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The `parallel` action: runs the branches listed in a tasks file of the role at the same time on each host."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.rb2ansible.runbook.plugins.plugin_utils.branches import Dispatch
from ansible_collections.rb2ansible.runbook.plugins.plugin_utils.core_compat import (
    current_worker,
    load_branch,
    load_tasks_file,
    serialise_plugin_imports,
    set_uuid,
    untagged_copy,
    uuid_of,
)
from ansible_collections.rb2ansible.runbook.plugins.plugin_utils.thread_safety import serialise_ast_construction
from ansible_collections.rb2ansible.runbook.plugins.plugin_utils.worker_lifetime import die_with_parent

DOCUMENTATION = r"""
---
module: parallel
short_description: Run the branches of a tasks file at the same time on each host
version_added: "0.2.0"
description:
  - Each top-level entry of O(file) is one branch, which is a task, a C(block) whose tasks run in order (a failure
    stops the rest of that block), or a task of this action (a nested parallel block with its own file).
  - Branches run as threads of the host's worker process; every child is a real task run by Ansible's own
    TaskExecutor and reported as its own callback events (start and result), with the uuid
    C(<this task's uuid>-b<branch>.<step>) (C(.<step>) repeats for blocks inside blocks), the same on every host.
  - Enable the C(rb2ansible.runbook.child_events) callback to get each child's C(v2_runner_on_start) and its
    ignored failures reported; rb2ansible's generated C(ansible.cfg) will enable it.
  - A child's C(timeout) becomes C(async)/C(poll) for modules that can run async, otherwise a watchdog that
    reports the child failed when the time is up (SIGALRM cannot be used outside the main thread).
  - Children are selected by their own tags (C(--tags), C(--skip-tags)); tag this task C(always) so that it
    runs whatever tags are selected. It does not pass its own tags down.
  - Relies on private ansible-core APIs, adapted per version (2.18 to 2.21) in C(plugin_utils/core_compat.py).
options:
  file:
    description: A tasks file, found as C(include_tasks) finds it (the role's C(tasks/) first).
    type: str
    required: true
author: rb2ansible contributors
"""

RETURN = r"""
registered:
  description: The results registered by children, and facts set by C(set_fact) children, by variable name.
  type: dict
  returned: always
children:
  description: Every child that ran (a nested block's children too), by start time.
  type: list
  elements: dict
  returned: always
  contains:
    uuid: {description: The child's uuid, type: str}
    name: {description: The child's name, type: str}
    status: {description: "ok, changed, failed, ignored (failed with ignore_errors), skipped or unreachable", type: str}
    start: {description: When the child started, ISO 8601 UTC, measured in the worker, type: str}
    end: {description: When the child ended, ISO 8601 UTC, type: str}
    timed_out: {description: Whether it failed because its C(timeout) was reached, type: bool}
"""

serialise_plugin_imports()
serialise_ast_construction()


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("file",))

    def run(self, tmp=None, task_vars=None):
        super().run(tmp, task_vars)
        worker = current_worker()
        if worker is None:
            raise AnsibleActionFail("rb2ansible.runbook.parallel runs only in a worker process of ansible-playbook")
        die_with_parent()
        dispatch = Dispatch(worker=worker, task_vars=task_vars or worker.task_vars, loader=self._loader,
                            shared_loader_obj=self._shared_loader_obj)
        return dispatch.run(self._load_branches(worker, task_vars or worker.task_vars))

    def _load_branches(self, worker, task_vars: dict) -> list:
        file_name = self._task.args.get("file")
        if not file_name:
            raise AnsibleActionFail("rb2ansible.runbook.parallel needs file: <tasks file>")
        entries = load_tasks_file(self._loader, self._find_needle("tasks", file_name))
        if not isinstance(entries, list) or not entries:
            raise AnsibleActionFail(f"{file_name}: a parallel block's file must be a non-empty list of branches")
        # The children inherit what this task sets (become, vars, environment), except its tags: it is tagged
        # to run whatever --tags selects, and each child is selected by its own tags instead.
        parent = untagged_copy(self._task)
        # One entry, one branch, loaded alone: consecutive bare tasks would otherwise share an implicit block.
        branches = [load_branch(entry, parent, worker.variable_manager, self._loader) for entry in entries]
        for index, branch in enumerate(branches):
            _name_children(branch, f"{uuid_of(self._task)}-b{index}")  # before filtering: indices stay put
        selected = (branch.filter_tagged_tasks(task_vars) for branch in branches)
        return [branch for branch in selected if branch.has_tasks()]


def _name_children(block, prefix: str) -> None:
    """Uuids that are the same on every host and in every run of the same playbook, so results map by identity."""
    for index, item in enumerate(block.block):
        if hasattr(item, "block"):
            _name_children(item, f"{prefix}.{index}")
        else:
            set_uuid(item, f"{prefix}.{index}")
