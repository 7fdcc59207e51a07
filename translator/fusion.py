"""When `run` fuses consecutive steps of a serial list into one task on the host, and which steps it keeps apart.

A fused run of steps is one task of `rb2ansible.runbook.shell_steps` (ansible_modules/plugins/action/
shell_steps.py): one script on the host instead of one task each, every step still reported under its own
name with its own rc, stdout, stderr, start and end, the first failure stopping the rest. Only steps whose
result nothing else reads and whose keywords mean the same for the run as for each step are fused.
"""

from __future__ import annotations

from collections.abc import Iterator

from .model import ModuleCall, Runbook, Task, TaskOptions

# Keywords that a step's block gives every step alike and that mean the same on one task running them all.
# Anything else (loop, register, until, timeout, ignore_errors, no_log, notify, delegate_to, run_once...)
# is about each task, or about its result: such a step runs as its own task.
SHARED_KEYWORDS = frozenset({"environment", "become_method", "check_mode", "diff"})
# shell's arguments that its fused form takes; creates/removes/stdin need the module, env and timeout a task.
STEP_ARGUMENTS = ("cmd", "chdir", "executable")
NO_OPTIONS = TaskOptions()
# The fused task's variable holding its steps (ansible_modules/plugins/action/shell_steps.py).
STEPS_VARIABLE = "rb2ansible_steps"


def wanted(runbook: Runbook, asked: bool | None, fast: bool = False) -> bool:
    """Whether to fuse: as asked (--fuse/--no-fuse); else under --fast; else where it changes nothing but the time.

    Under the linear strategy every host ends a task before any host starts the next (SPEC §2); a fused host
    goes on to its next step without waiting for the others. Under `strategy: free` hosts never wait for each
    other, so fusing changes nothing there. --fast asks for speed, and fusion is most of it (bench/per_task.py:
    50 steps on 3 hosts, 7.1 s as tasks, 1.7 s fused): it fuses a linear runbook too, and the run says so
    (`lock_step_note`)."""
    if asked is not None:
        return asked
    return fast or runbook.strategy == "free"


def lock_step_note(runbook: Runbook, fused_runs: list[int], asked: bool | None, fast: bool) -> str | None:
    """What a --fast run tells the user when it fused steps (`fused_runs`: the steps in each fused task) that the
    linear strategy would have run in lock-step."""
    if asked is not None or not fast or runbook.strategy == "free" or not fused_runs:
        return None
    tasks = f"{len(fused_runs)} task{'s' if len(fused_runs) > 1 else ''}"
    return (f"--fast: {sum(fused_runs)} plain shell steps run fused as {tasks}: each host goes through them "
            "without waiting for the other hosts between steps (--no-fuse keeps each step its own task)")


def runs(children: tuple[Task, ...], inherited: TaskOptions) -> Iterator[list[Task]]:
    """The children of a serial list in order, consecutive fusible steps together, each other child alone."""
    run: list[Task] = []
    for child in children:
        if fusible(child, inherited):
            run.append(child)
            continue
        if run:
            yield run
            run = []
        yield [child]
    if run:
        yield run


def fusible(task: Task, inherited: TaskOptions) -> bool:
    """A plain shell step: a command line (with at most chdir and executable) and nothing of its own, under a
    block whose options apply to all its steps alike."""
    if not isinstance(task, ModuleCall) or task.module != "shell" or task.handler or task.options != NO_OPTIONS:
        return False
    core = task.target.core if task.target is not None else None
    if core is None or core.name != "shell":
        return False
    args = task.args
    if any(getattr(args, name) is not None for name in ("creates", "removes", "stdin", "env", "timeout")):
        return False
    return not (inherited.ignore_errors or inherited.no_log) and set(inherited.keywords) <= SHARED_KEYWORDS


def step_arguments(leaf: ModuleCall) -> dict:
    """A fused step's arguments as the runbook gives them (`${...}` not yet Jinja)."""
    return {name: getattr(leaf.args, name) for name in STEP_ARGUMENTS if getattr(leaf.args, name) is not None}
