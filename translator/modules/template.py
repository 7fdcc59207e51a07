"""`template`: render `source` (Jinja2, from templates/) to `destination` with task-local `variables`
(ansible.builtin.template)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..calls import jinja_values
from ._core import AnsibleCall, Argument
from .file import COPY_ARGUMENTS, CopyArguments, File


@dataclass(frozen=True)
class TemplateArguments(CopyArguments):
    variables: dict[str, Any] = field(default_factory=dict)  # the template's own variables: task vars


class Template(File):
    name = "template"
    fqcn = "ansible.builtin.template"
    arguments = (*COPY_ARGUMENTS, Argument("variables", "variables"))
    folder = "templates"
    foreground_reason = "ansible.builtin.template runs through an action plugin that Ansible cannot run async"

    def typed(self, values: dict[str, Any]) -> TemplateArguments:
        return TemplateArguments(**values)

    def to_ansible(self, args: TemplateArguments, files_prefix: str) -> AnsibleCall:
        keywords = {"vars": jinja_values(args.variables)} if args.variables else {}
        return AnsibleCall(self.fqcn, jinja_values(self.copy_arguments(args, files_prefix)), keywords)


MODULE = Template()
