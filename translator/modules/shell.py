"""`shell`: a command line, or {cmd, chdir, creates, removes, executable, env, stdin} (ansible.builtin.shell)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from ..calls import jinja_values
from ._core import AnsibleCall, Argument, CoreModule


@dataclass(frozen=True)
class ShellArguments:
    cmd: str
    chdir: str | None = None
    creates: str | None = None
    removes: str | None = None
    executable: str | None = None
    stdin: str | None = None
    env: dict[str, Any] | None = None  # the command's environment: a task keyword in Ansible


class Shell(CoreModule):
    name = "shell"
    fqcn = "ansible.builtin.shell"
    arguments = (
        Argument("cmd", "text", required=True),
        *(Argument(name, "text") for name in ("chdir", "creates", "removes", "executable", "stdin")),
        Argument("env", "environment"),
    )
    free_form = "cmd"
    # Ansible's shell action hands the task to the command action, which runs it as a job.
    background = True

    def typed(self, values: dict[str, Any]) -> ShellArguments:
        return ShellArguments(**values)

    def to_ansible(self, args: ShellArguments, files_prefix: str) -> AnsibleCall:
        module_args = {f.name: getattr(args, f.name) for f in fields(args)
                       if f.name != "env" and getattr(args, f.name) is not None}
        keywords: dict[str, Any] = {}
        if args.env is not None:
            keywords["environment"] = jinja_values(args.env)
        if args.creates is None and args.removes is None:
            # Ansible's own default for commands, written out: a command always counts as a change.
            keywords["changed_when"] = True
        return AnsibleCall(self.fqcn, jinja_values(module_args), keywords)


MODULE = Shell()
