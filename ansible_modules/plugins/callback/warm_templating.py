# Copyright: (c) 2026, rb2ansible contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readies Ansible's templating in the controller before it forks a worker for each task and host.

rb2ansible's generated ansible.cfg enables it (`callbacks_enabled = ..., rb2ansible.runbook.warm_templating`).
"""

from __future__ import annotations

from ansible.plugins.callback import CallbackBase
from ansible.template import Templar

try:  # ansible-core 2.19 and later template only what is marked as trusted
    from ansible.template import trust_as_template
except ImportError:  # 2.18 templates any string
    def trust_as_template(text: str) -> str:
        return text

DOCUMENTATION = r"""
---
name: warm_templating
type: aggregate
short_description: Readies Ansible's templating before workers fork
version_added: "0.4.1"
description:
  - Ansible runs each task on each host in a worker process forked from the controller, and templating is
    readied on first use (Jinja's lexer, the filter and test plugins). When the controller has not templated
    anything before forking, which is the case of a play without templated names or hosts, every worker
    readies it again for the first expression it templates (a task's C(environment), C(when), arguments).
  - This plugin templates one expression with a filter and a test when the playbook starts, so that the
    workers inherit what it readied. Nothing else changes; without it the run is the same, only slower.
requirements: [enable in callbacks_enabled]
author: rb2ansible contributors
"""

# A filter and a test: the first use of each loads its plugins.
WARM_UP = "{{ ('' | default('')) is string }}"


def warm_up(loader) -> object:
    """Template WARM_UP as a task would: True when templating is ready."""
    return Templar(loader=loader).template(trust_as_template(WARM_UP))


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "rb2ansible.runbook.warm_templating"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_start(self, playbook):
        # Measured (a fork of a process that has Ansible's executor loaded, templating a task's environment
        # `{{ rb2a_run_id | default('') }}` and a `when`): 22 ms of CPU in a cold worker, 7 ms in a warmed one;
        # W1 (50 tasks x 3 hosts) forks 150 workers.
        try:
            warm_up(playbook._loader)
        except Exception:  # only a head start: whatever fails here fails where Ansible meets it, as it would
            pass
