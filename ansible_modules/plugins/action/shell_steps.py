# Copyright: (c) 2026, rb2ansible contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Consecutive shell steps of a runbook's serial list in one task, each with the result its own task would have.

A runbook's short commands one after the other cost Ansible a task each: a round of the strategy, the
callbacks and the connection, for a command that runs in milliseconds. This action takes such a run of
steps (rb2ansible groups only steps that have nothing of their own but the command, see
translator/fusion.py) and runs them in one script through the connection, in order, stopping at the first
that fails, as the tasks would have stopped. Each step's result has the shell module's keys (rc, stdout,
stderr, start, end...) and the results mapper reports it under the step's own name. Where a plain command
line cannot go to /bin/sh (check mode, a become password, a shell that is not POSIX, or
rb2ansible_direct_shell=false) the steps run one by one through ansible.builtin.shell, still in this task.
"""

from __future__ import annotations

import datetime
import re
import secrets

from ansible.errors import AnsibleError
from ansible_collections.rb2ansible.runbook.plugins.action.shell import ActionModule as ShellAction
from ansible_collections.rb2ansible.runbook.plugins.action.shell import command_result

DOCUMENTATION = r"""
---
module: shell_steps
short_description: Several shell commands in one task, each with its own result, stopping at the first failure
version_added: "0.4.0"
description:
  - Runs the commands of the task variable C(rb2ansible_steps) in order, each as M(rb2ansible.runbook.shell)
    would run it, and stops at the first that fails.
  - C(rb2ansible_steps) is a list of C({name, cmd, chdir, executable}). Each entry is templated just before its
    command would run, so an undefined variable fails that step after the steps before it ran, as separate
    tasks would.
  - Returns C(rb2ansible_steps), one entry per step that ran, C({name, started, ended, result}) with the shell
    module's result, and fails (with that step's rc, stdout and stderr) when a step failed.
  - rb2ansible writes this task itself for runs of plain steps; C(rb2ansible export --fuse) keeps it in an export.
"""

STEPS_VARIABLE = "rb2ansible_steps"


class ActionModule(ShellAction):

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        steps, unusable = self._templated_steps(task_vars)
        if self._connection_runs_scripts(task_vars):
            ran = self._in_one_script(steps)
        else:
            ran = self._one_by_one(steps, tmp, task_vars)
        if unusable is not None and len(ran) == len(steps) and not any(_stops(entry) for entry in ran):
            ran.append(unusable)
        return _summary(ran, len(task_vars.get(STEPS_VARIABLE) or ()))

    def _templated_steps(self, task_vars: dict) -> tuple[list[dict], dict | None]:
        """The steps templated in order, up to the first that cannot be, which becomes that step's failure."""
        steps = []
        for raw in task_vars.get(STEPS_VARIABLE) or ():
            now = _now()
            try:  # the step's name is the runbook's, shown as written
                steps.append({**self._templar.template({k: v for k, v in raw.items() if k != "name"}),
                              "name": raw.get("name", "")})
            except AnsibleError as error:
                failure = {"failed": True, "changed": False, "msg": str(error)}
                return steps, {"name": raw.get("name", ""), "started": now, "ended": _now(), "result": failure}
        return steps, None

    def _in_one_script(self, steps: list[dict]) -> list[dict]:
        """Every step in one /bin/sh script. Each step's output is framed by marker lines carrying its start,
        its exit code and its end, with a marker no command prints (a fresh random one per task)."""
        marker = f"rb2a-{secrets.token_hex(8)}"
        lines = [f"m={marker}", "now() { date +%s.%N 2>/dev/null; }"]
        for step in steps:
            command = self._script(step["cmd"], step.get("chdir"), step.get("executable")).rstrip("\n")
            lines += ['printf \'%s S %s\\n\' "$m" "$(now)"',
                      f"( {command} )",  # a subshell: the step's `cd` and `exec` end with it
                      'r=$?; t=$(now); printf \'\\n%s E %s %s\\n\' "$m" "$r" "$t"; printf \'\\n%s E\\n\' "$m" >&2',
                      '[ "$r" -eq 0 ] || exit 0']
        started = _now()
        done = self._low_level_execute_command("/bin/sh", in_data="\n".join(lines + [""]).encode())
        return _framed_results(steps, marker, done, started, _now())

    def _one_by_one(self, steps: list[dict], tmp, task_vars: dict) -> list[dict]:
        """Each step through Ansible's shell action in turn (as its own task would have run), up to a failure."""
        ran = []
        for step in steps:
            self._task.args = {"_raw_params": step["cmd"],
                               **{k: step[k] for k in ("chdir", "executable") if step.get(k) is not None}}
            started = _now()
            result = super(ShellAction, self).run(tmp, task_vars)
            ran.append({"name": step.get("name", ""), "started": started, "ended": _now(), "result": result})
            if _stops(ran[-1]):
                break
        return ran


_NUMBER = re.compile(r"^\d+(\.\d+)?$")


def _framed_results(steps: list[dict], marker: str, done: dict, started: float, ended: float) -> list[dict]:
    """Each step's result from the script's framed output; the step whose end marker never came (its shell died
    under it, or the script before it) fails with what it printed."""
    frames = re.finditer(rf"{marker} S (\S*)\n(.*?)\n{marker} E (\d+) (\S*)\n", done["stdout"], re.S)
    errors = done["stderr"].split(f"\n{marker} E\n")
    ran = []
    for step, frame in zip(steps, frames):
        began, rc, finished = _clock(frame[1], started), int(frame[3]), _clock(frame[4], ended)
        result = command_result(step["cmd"], rc, frame[2], errors[len(ran)], _local(began), _local(finished))
        ran.append({"name": step.get("name", ""), "started": began, "ended": finished, "result": result})
    if len(ran) < len(steps) and not (ran and _stops(ran[-1])):
        # The script ended before this step's end marker: its shell died under it, or never started it.
        step = steps[len(ran)]
        step_began = done["stdout"].count(f"{marker} S ") > len(ran)
        printed = done["stdout"].rpartition(f"{marker} S ")[2].partition("\n")[2] if step_began else ""
        result = command_result(step["cmd"], done["rc"] or 1, printed, errors[-1] if step_began else "",
                                _local(started), _local(ended))
        result["msg"] = ("the step's shell ended before its command did" if step_began else
                         "the shell that runs the steps ended before this step started")
        ran.append({"name": step.get("name", ""), "started": started, "ended": ended,
                    "result": {**result, "failed": True}})
    return ran


def _summary(ran: list[dict], total: int) -> dict:
    """The task's own result: its steps, and the failing step's rc, output and message when one failed."""
    summary = {"changed": any(entry["result"].get("changed") for entry in ran), STEPS_VARIABLE: ran,
               "msg": f"{len(ran)} of {total} steps ran"}
    last = ran[-1]["result"] if ran else {}
    if ran and _stops(ran[-1]):
        summary.update({key: last[key] for key in ("rc", "stdout", "stderr", "unreachable") if key in last})
        summary["failed"] = not last.get("unreachable")
        summary["unreachable"] = bool(last.get("unreachable"))
        summary["msg"] = f"step '{ran[-1]['name']}' failed: {last.get('msg', '')}"
    # Steps the module skipped (check mode) leave the task itself ok: the event of a skipped task carries no
    # result, and each step's own result is what says it was skipped.
    return summary


def _stops(entry: dict) -> bool:
    return bool(entry["result"].get("failed") or entry["result"].get("unreachable"))


def _now() -> float:
    return datetime.datetime.now().timestamp()


def _clock(text: str, otherwise: float) -> float:
    """The host's clock (`date +%s.%N`), or the controller's around the script where the host's date lacks %N."""
    return float(text) if _NUMBER.match(text) else otherwise


def _local(moment: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(moment)
