"""`shell`: a command line, or {cmd, chdir, creates, removes, executable, env, stdin, timeout}; Ansible shell.

automatejs-core's names are accepted too: `command` for `cmd`, `cwd` for `chdir`; its `timeout`
becomes the task's own `timeout`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from ..calls import jinja_values
from ._core import AnsibleCall, Argument, CoreModule

# Not arguments of Ansible's shell module: `env` is the task's environment, `timeout` the task's timeout.
_TASK_LEVEL = ("env", "timeout")


@dataclass(frozen=True)
class ShellArguments:
    cmd: str
    chdir: str | None = None
    creates: str | None = None
    removes: str | None = None
    executable: str | None = None
    stdin: str | None = None
    env: dict[str, Any] | None = None  # the command's environment: a task keyword in Ansible
    timeout: int | None = None  # seconds: the task's timeout (automatejs-core's shell took it as an argument)


class Shell(CoreModule):
    name = "shell"
    # ansible.builtin.shell's arguments and results; a plain command line runs without Python on the host
    # (ansible_modules/plugins/action/shell.py), which makes short commands cheap, in parallel above all.
    fqcn = "rb2ansible.runbook.shell"
    arguments = (
        Argument("cmd", "text", required=True, aliases=("command",)),
        Argument("chdir", "text", aliases=("cwd",)),
        *(Argument(name, "text") for name in ("creates", "removes", "executable", "stdin")),
        Argument("env", "mapping"),
        Argument("timeout", "seconds"),
    )
    free_form = "cmd"
    # Ansible's shell action hands the task to the command action, which runs it as a job.
    background = True

    def typed(self, values: dict[str, Any]) -> ShellArguments:
        return ShellArguments(**values)

    def task_options(self, args: ShellArguments) -> dict[str, Any]:
        return {"timeout": args.timeout} if args.timeout is not None else {}

    def to_ansible(self, args: ShellArguments, files_prefix: str) -> AnsibleCall:
        module_args = {f.name: getattr(args, f.name) for f in fields(args)
                       if f.name not in _TASK_LEVEL and getattr(args, f.name) is not None}
        keywords: dict[str, Any] = {}
        if args.env is not None:
            keywords["environment"] = jinja_values(args.env)
        if args.creates is None and args.removes is None:
            # Ansible's own default for commands, written out: a command always counts as a change.
            keywords["changed_when"] = True
        return AnsibleCall(self.fqcn, jinja_values(module_args), keywords)


MODULE = Shell()
