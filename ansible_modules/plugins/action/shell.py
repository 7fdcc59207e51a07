# Copyright: (c) 2026, rb2ansible contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible.builtin.shell that runs a plain command line through the connection, without Python on the host.

Ansible runs every shell task as a Python module on the host: a new interpreter that imports
ansible.module_utils from source each time, 0.25 CPU-seconds there for `sleep 1`. Ten such children of a
parallel block on a 2-core host spend more time starting Pythons than sleeping. A plain command line
needs none of it: the connection runs it, as the `raw` action does, and this action shapes the answer
as the shell module would. What needs the module (creates/removes, stdin, check mode, async) still
goes to it, through ansible.builtin.shell's own action.
"""

from __future__ import annotations

import datetime
import shlex

from ansible.plugins.action.shell import ActionModule as ShellAction
from ansible.release import __version__ as core_version

DOCUMENTATION = r"""
---
module: shell
short_description: ansible.builtin.shell, without starting Python on the host for a plain command line
version_added: "0.3.0"
description:
  - Takes every option of M(ansible.builtin.shell) and returns the same keys (V(cmd), V(rc), V(stdout),
    V(stderr), V(stdout_lines), V(stderr_lines), V(start), V(end), V(delta), V(msg)).
  - A command line with at most O(chdir) and O(executable) runs through the connection directly, as
    M(ansible.builtin.raw) runs its command, with the task's C(environment), C(become) and connection.
    V(start) and V(end) are then the controller's clock, around the command's run.
  - With O(creates), O(removes), O(stdin) or any other option, in check mode, as an async task, with a
    become password to type, or over a connection whose shell is not POSIX, it runs M(ansible.builtin.shell)
    itself.
  - Set the variable C(rb2ansible_direct_shell=false) to run M(ansible.builtin.shell) always.
options:
  cmd:
    description: The command line, run by C(/bin/sh -c) or by O(executable).
    type: str
  chdir:
    description: Change into this directory before running the command.
    type: path
  executable:
    description: The shell that runs the command line, instead of C(/bin/sh).
    type: path
"""

# Everything else (creates, removes, stdin, strip_empty_ends...) is the module's to handle.
DIRECT_ARGUMENTS = frozenset({"_raw_params", "cmd", "chdir", "executable", "_uses_shell"})
SWITCH_VARIABLE = "rb2ansible_direct_shell"
# The command module's words for a command that failed: ansible-core 2.21 made them a sentence.
FAILED_MESSAGE = ("The command exited with a non-zero return code."
                  if tuple(int(part) for part in core_version.split(".")[:2]) >= (2, 21) else "non-zero return code")


class ActionModule(ShellAction):

    def run(self, tmp=None, task_vars=None):
        if not self._runs_directly(task_vars or {}):
            # Ansible's parser turns `ansible.builtin.shell: {cmd: ...}` into the free-form command; under this
            # action's name it leaves `cmd` as it is, which the command module takes only from ansible-core 2.19.
            if "cmd" in self._task.args and not self._task.args.get("_raw_params"):
                self._task.args["_raw_params"] = self._task.args.pop("cmd")
            return super().run(tmp, task_vars)
        args = self._task.args
        command = args.get("_raw_params") or args.get("cmd")
        if not command:
            return {"failed": True, "changed": False, "rc": 256, "msg": "no command given"}
        started = datetime.datetime.now()
        # The script goes on standard input, as a pipelined module does: the command line shows only in the
        # process that runs it (which carries the task's environment), and no terminal mixes its output.
        done = self._low_level_execute_command(
            "/bin/sh", in_data=self._script(command, args.get("chdir"), args.get("executable")).encode())
        return command_result(command, done["rc"], done["stdout"], done["stderr"], started, datetime.datetime.now())

    def _runs_directly(self, task_vars: dict) -> bool:
        return set(self._task.args) <= DIRECT_ARGUMENTS and self._connection_runs_scripts(task_vars)

    def _connection_runs_scripts(self, task_vars: dict) -> bool:
        """Whether this task's commands can go to /bin/sh through the connection, arguments aside."""
        connection = self._connection
        return (self._templar.template(task_vars.get(SWITCH_VARIABLE, True)) not in (False, "false", "False")
                and not self._task.async_val
                and not (self._task.check_mode or self._play_context.check_mode)
                and not (connection.become and connection.become.expect_prompt())  # a password to type
                and connection.has_pipelining  # takes a script on standard input
                and getattr(connection._shell, "SHELL_FAMILY", "") == "sh")

    def _script(self, command: str, chdir: str | None, executable: str | None) -> str:
        """One line for /bin/sh: into the directory, then the shell that runs the command replaces it, with the
        task's environment and, as for the module's command, nothing more to read on its input."""
        environment = self._compute_environment_string()
        line = f"exec env {environment} " if environment else "exec "
        line += f"{shlex.quote(executable or '/bin/sh')} -c {shlex.quote(command)} </dev/null"
        if chdir:
            line = f"cd {shlex.quote(chdir)} && {line}"
        return line + "\n"


def command_result(command: str, rc: int, stdout: str, stderr: str, started: datetime.datetime,
                   ended: datetime.datetime) -> dict:
    """What the shell module returns for a command that ran: the same keys, the same words."""
    stdout, stderr = stdout.rstrip("\r\n"), stderr.rstrip("\r\n")
    result = {"changed": True, "cmd": command, "rc": rc, "stdout": stdout, "stderr": stderr,
              "stdout_lines": stdout.splitlines(), "stderr_lines": stderr.splitlines(),
              "start": str(started), "end": str(ended), "delta": str(ended - started), "msg": ""}
    if rc != 0:
        result.update(failed=True, msg=FAILED_MESSAGE)
    return result
