# Copyright: (c) 2026, rb2ansible contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible.builtin.template with AutomateJS's `mkdir: true`: the destination's missing directories are created first."""

from __future__ import annotations

from ansible.plugins.action.template import ActionModule as TemplateAction
from ansible_collections.rb2ansible.runbook.plugins.plugin_utils.parents import MakesParents

DOCUMENTATION = r"""
---
module: template
short_description: ansible.builtin.template that can create the destination's directories
version_added: "0.2.0"
description:
  - Takes every option of M(ansible.builtin.template), and O(mkdir).
  - With O(mkdir=true), a missing destination directory is created first (with the directories above it),
    with the task's O(owner) and O(group), as M(ansible.builtin.file) does for the directories it creates.
    Existing directories are left as they are.
options:
  mkdir:
    description: Create the destination's missing directories before writing the file.
    type: bool
    default: false
"""


class ActionModule(MakesParents, TemplateAction):
    pass
