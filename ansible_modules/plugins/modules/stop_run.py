#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rb2ansible contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module that kills every process one rb2ansible run left on the target."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: stop_run
short_description: Kill every process of one run on the target
version_added: "0.2.0"
description:
  - Kills, with SIGTERM and then SIGKILL, every process started with the environment variable
    E(RB2A_RUN_ID) set to O(run_id), and everything below them in the process tree (the commands of an
    interrupted run, a command whose connection was lost, an async job (C(timeout)) still running).
    rb2ansible gives every task of a run that variable with the play's C(environment).
  - Removes the async job files (C(~/.ansible_async/<job id>)) of the jobs it killed.
  - Needs C(/proc) (or C(ps)) and permission to read the processes' environment (same user, or root).
options:
  run_id:
    description: The run's id, as its tasks' E(RB2A_RUN_ID).
    type: str
    required: true
attributes:
  check_mode:
    support: full
    details: What a run started really runs in check mode too, so it is killed the same way.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
author: rb2ansible contributors
"""

EXAMPLES = r"""
- name: Stop what the run left behind
  rb2ansible.runbook.stop_run:
    run_id: "{{ rb2a_run_id }}"
"""

RETURN = r"""
stopped:
  description: How many processes of the run were found alive.
  type: int
  returned: always
survivors:
  description: Pids still alive after SIGKILL (the module then fails).
  type: list
  elements: int
  returned: always
"""

import glob
import os
import signal

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rb2ansible.runbook.plugins.module_utils.job_processes import (
    RunTree,
    kill_until_gone,
    process_table,
)

RUN_ID_VAR = "RB2A_RUN_ID"
TERM_GRACE = 2.0  # seconds the processes get to exit on SIGTERM before SIGKILL
KILL_GRACE = 3.0  # seconds to see SIGKILLed processes gone


def async_job_bases(procs):
    """The job id bases of the async_wrappers among procs (their argv: async_wrapper.py <base> <limit> ...; the
    same from ansible-core 2.18 to 2.21, see plugin_utils/core_compat.py)."""
    return {proc.argv[i + 1] for proc in procs for i, arg in enumerate(proc.argv[:-1])
            if os.path.basename(arg).startswith("async_wrapper")}


def main():
    module = AnsibleModule(argument_spec=dict(run_id=dict(type="str", required=True)), supports_check_mode=True)
    procs = process_table()
    if procs is None:
        module.fail_json(msg="cannot list processes on this host (no /proc, no ps), so cannot stop the run")
    tree = RunTree(RUN_ID_VAR, module.params["run_id"])
    found = tree.scan(procs)
    survivors = kill_until_gone([tree], signal.SIGTERM, TERM_GRACE) if found else {}
    if survivors:
        survivors = kill_until_gone([tree], signal.SIGKILL, KILL_GRACE)
    async_dir = os.path.expanduser(os.environ.get("ANSIBLE_ASYNC_DIR", "~/.ansible_async"))
    for base in async_job_bases(found):
        for job_file in glob.glob(os.path.join(async_dir, glob.escape(base) + ".*")):
            os.remove(job_file)
    left = sorted(pid for pids in survivors.values() for pid in pids)
    if left:
        module.fail_json(msg="processes of the run survived SIGKILL: %s" % left, stopped=len(found), survivors=left)
    module.exit_json(changed=bool(found), stopped=len(found), survivors=[])


if __name__ == "__main__":
    main()
