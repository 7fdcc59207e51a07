"""Benchmark of compiling (issue 12's W3): `validate`, `plan` and `export` of large runbooks, a long serial
list inside a parallel block, and how fast the command starts, each figure beside its goal.

Each figure is one `rb2ansible` process of this checkout (its translator/, on PYTHONPATH), started in
the bench's scratch directory and timed from start to exit with its peak memory (maximum resident set
size). The processes read their compiled bytecode as an installed copy does (pip compiles it at install):
they get PYTHONPYCACHEPREFIX set into the scratch directory and no PYTHONDONTWRITEBYTECODE, and each
command is first run once per checkout, untimed, to write the bytecode there, so nothing is compiled in a
timed run and nothing is written into the checkout:

  --help                       the command line's own start
  validate runbooks/hello      a small runbook: what a user waits for on every check
  validate/plan/export N       a generated runbook of N leaf tasks in nested groups (below),
                               with seconds per 1,000 tasks; export also gives the size written
  long serial list N           export of a `parallel` block whose first child is a serial list of N
                               steps (--steps), with the bytes of role YAML per step: constant when
                               the output grows linearly

The generated runbook repeats one group of 50 leaves: a `serial` group holding two `parallel`
blocks of 5 and three nested `serial` groups, with the modules runbooks use most (echo, shell,
template, the bare Ansible names `command` and `stat`, an FQCN, an easy module), `${...}` in
values and in `when`. Compiling should cost the same per task at every size.

With --baseline DIR (another checkout, e.g. `git archive main | tar -x -C /tmp/main`), each figure is
also taken with that checkout's translator/, interleaved run by run, and the ratio printed: on a
busy machine only ratios taken in one sitting mean anything.

Usage: python bench/compile.py [--sizes 3000 30000] [--steps 1000 10000] [--repeat 3] [--baseline DIR]
                              [--keep DIR]
Run it with `nice -n 19` on a shared machine; see bench/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
LEAVES_PER_GROUP = 50
# Issue 12's goals on the 2-core machine: (seconds, MiB) a figure must stay under; None: no goal.
START_GOALS = {"--help": (0.3, None), "validate runbooks/hello": (0.6, None)}
SIZE_GOALS = {3000: (1.0, None), 30000: (8.0, 250.0)}  # for validate and export of that many tasks
LONG_LIST_GOAL = (10000, 4.0)  # the serial list of that many steps exports in under that many seconds
LINEAR = (0.95, 1.05)  # bytes per step of the longest list over the shortest's
# The bench's scratch directory (set by main): every measured process starts there, and keeps its bytecode there.
WORK = Path()


class BenchError(Exception):
    """A command failed: its figure would mean nothing."""


@dataclass(frozen=True)
class Measure:
    seconds: float
    peak_mib: float


# -- the work ------------------------------------------------------------------------------------


def leaf(group: int, index: int) -> dict:
    """One leaf task; the kinds cycle so every group holds the same mix."""
    name = f"g{group} task {index}"
    kind = index % 10
    if kind == 0:
        return {"name": name, "echo": "step ${step} of group " + str(group)}
    if kind == 1:
        return {"name": name, "shell": "echo ${workdir}/" + str(index), "when": "${step} > 0"}
    if kind == 2:
        return {"name": name, "command": "true"}
    if kind == 3:
        return {"name": name, "template": {"source": "note.j2", "destination": "${workdir}/" + f"{group}-{index}.txt",
                                           "variables": {"group": group}}}
    if kind == 4:
        return {"name": name, "ansible.builtin.file": {"path": "${workdir}", "state": "directory"}}
    if kind == 5:
        return {"name": name, "stat": {"path": "${workdir}"}, "register": f"seen_{group}_{index}"}
    if kind == 6:
        return {"name": name, "stamp": {"text": "${step}"}}
    if kind == 7:
        return {"name": name, "echo": "${workdir}", "tags": ["report"]}
    if kind == 8:
        return {"name": name, "shell": {"cmd": "test -d ${workdir}", "chdir": "/"}, "ignore_errors": True}
    return {"name": name, "echo": "done ${step}", "when": "${workdir} is defined"}


def group(number: int) -> dict:
    """A serial group of LEAVES_PER_GROUP leaves, nested three deep, with two parallel blocks."""
    leaves = [leaf(number, index) for index in range(LEAVES_PER_GROUP)]

    def block(kind: str, label: str, tasks: list[dict]) -> dict:
        return {"name": f"g{number} {label}", kind: tasks}

    return block("serial", "group", [
        block("parallel", "fan out", leaves[0:5]),
        block("serial", "inner 1", [*leaves[5:15], block("serial", "inner 1a", leaves[15:25])]),
        block("parallel", "fan out again", leaves[25:30]),
        block("serial", "inner 2", leaves[30:50]),
    ])


def write_long_list(directory: Path, steps: int) -> Path:
    """A parallel block whose first child is a serial list of `steps` shell steps, beside one echo."""
    directory.mkdir(parents=True)
    listed = [{"name": f"step {index}", "shell": f"echo {index} > /tmp/rb2ansible-bench-${{step}}"}
              for index in range(steps)]
    runbook = {"name": f"long-list-{steps}", "vars": {"step": 1},
               "tasks": [{"name": "fan out", "parallel": [{"name": "the list", "serial": listed},
                                                          {"name": "beside", "echo": "meanwhile"}]}]}
    (directory / "run.yml").write_text(yaml.safe_dump(runbook, sort_keys=False, width=120))
    return directory


def write_runbook(directory: Path, leaves: int) -> Path:
    """A runbook project with `leaves` leaf tasks (a multiple of LEAVES_PER_GROUP)."""
    directory.mkdir(parents=True)
    (directory / "templates").mkdir()
    (directory / "templates" / "note.j2").write_text("group {{ group }}\n")
    (directory / "modules").mkdir()
    (directory / "modules" / "stamp.py").write_text(
        '"""Says what it was given."""\n\n\ndef run(args):\n    return {"changed": False, "msg": args["text"]}\n')
    runbook = {"name": f"compile-{leaves}", "vars": {"step": 1, "workdir": "/tmp/rb2ansible-bench"},
               "tasks": [group(number) for number in range(leaves // LEAVES_PER_GROUP)]}
    (directory / "run.yml").write_text(yaml.safe_dump(runbook, sort_keys=False, width=120))
    return directory


def written_apart(write, directory: Path, size: int) -> Path:
    """`write(directory, size)` in a child process: PyYAML's dump of 30,000 tasks would grow this process by
    about 100 MiB, and Linux counts a parent's size at the fork in the peak memory of every command it starts."""
    child = multiprocessing.get_context("fork").Process(target=write, args=(directory, size))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise BenchError(f"writing {directory} failed (exit code {child.exitcode})")
    return directory


# -- measuring -----------------------------------------------------------------------------------


def rb2ansible(checkout: Path, *args: str) -> Measure:
    """Run a checkout's command line in a fresh process; its wall time and peak resident memory."""
    command = [sys.executable, "-c", "from translator.cli import main; main()", *args]
    env = {**bytecode_environment(checkout), "PYTHONPATH": str(checkout)}
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        # Started in the scratch directory, which holds no translator/ (`python -c` puts the working directory
        # first on sys.path, before PYTHONPATH), and the same for both checkouts: rb2ansible's memo of Ansible's
        # answers depends on the working directory, and alternating two would have every run ask Ansible again.
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, env=env, cwd=WORK)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise BenchError(f"rb2ansible {' '.join(args)} exited {process.returncode}:\n"
                             f"{errors.read().decode(errors='replace')[-2000:]}")
    return Measure(seconds, usage.ru_maxrss / 1024)  # Linux gives kilobytes


def bytecode_environment(checkout: Path) -> dict[str, str]:
    """The environment of the measured processes: bytecode read from (and, by the warm-up, written to) a folder
    of the bench's own per checkout, as an installed copy reads what pip compiled. With PYTHONDONTWRITEBYTECODE
    (set on the development machines) every process would compile the ~50 modules of translator/ from source
    again: 0.08 to 0.1 s of every figure that no installed copy pays."""
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    environment["PYTHONPYCACHEPREFIX"] = str(WORK / "pycache" / hashlib.sha256(str(checkout).encode()).hexdigest()[:12])
    return environment


def warm_up(checkouts: list[Path]) -> None:
    """Each command the bench times, once per checkout and untimed, on a small runbook of the same kind: it
    writes the bytecode of everything the timed runs import, as pip wrote an installed copy's. With
    PYTHONPYCACHEPREFIX Python reads bytecode from there only, so this covers the installed packages too."""
    runbook = written_apart(write_runbook, WORK / "warm-up", LEAVES_PER_GROUP)
    for checkout in checkouts:
        for args in (("--help",), ("validate", str(ROOT / "runbooks" / "hello")), ("validate", str(runbook)),
                     ("plan", str(runbook)), ("export", str(runbook), "-o", str(WORK / "warm-up-export"))):
            rb2ansible(checkout, *args)


Figures = list[tuple[Measure, list[float]]]  # per checkout: the median, and each run's seconds


def timed(checkouts: list[Path], repeat: int, *args: str, output: Path | None = None) -> Figures:
    """Per checkout, the median time of `repeat` runs (and each run's) with the largest peak memory seen.
    The checkouts take turns, so a change in the machine's load touches them alike. With `output`, each
    checkout writes into its own directory: `output` for this one, `output`-baseline for the other."""
    runs: list[list[Measure]] = [[] for _ in checkouts]
    for _ in range(repeat):
        for number, (checkout, measures) in enumerate(zip(checkouts, runs, strict=True)):
            into = () if output is None else ("-o", str(output if number == 0 else f"{output}-baseline"))
            measures.append(rb2ansible(checkout, *args, *into))
    return [(Measure(statistics.median(m.seconds for m in measures), max(m.peak_mib for m in measures)),
             [m.seconds for m in measures]) for measures in runs]


def size_mib(directory: Path) -> float:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file()) / 2**20


def role_yaml_bytes(export: Path) -> int:
    """Bytes of YAML in the exported roles (tasks, handlers, defaults, meta)."""
    return sum(path.stat().st_size for path in (export / "project" / "roles").rglob("*.yml"))


# -- report --------------------------------------------------------------------------------------


def goal_text(measure: Measure, goal: tuple[float | None, float | None] | None) -> str:
    """The goal beside a figure, and whether this run met it."""
    if goal is None:
        return ""
    seconds, mib = goal
    wanted = []
    if seconds is not None:
        wanted.append(f"< {seconds:g} s")
    if mib is not None:
        wanted.append(f"< {mib:g} MiB")
    met = (seconds is None or measure.seconds < seconds) and (mib is None or measure.peak_mib < mib)
    return f"goal {', '.join(wanted)}: {'met' if met else 'MISSED'}"


def line(label: str, measure: Measure, runs: list[float], extra: str = "", goal: str = "") -> str:
    each = " ".join(f"{s:.2f}" for s in runs) if len(runs) > 1 else ""
    return (f"{label:34} {measure.seconds:7.2f} s  {extra:28} peak {measure.peak_mib:5.0f} MiB"
            + (f"  {goal}" if goal else "") + (f"  [{each}]" if each else ""))


def report(label: str, figures: Figures, tasks: int = 0, output: Path | None = None,
           goal: tuple[float | None, float | None] | None = None, extra: str = "") -> None:
    """One line per checkout (this one first), then this one's time and memory as a share of the baseline's."""
    for name, (measure, runs) in zip(("", "baseline "), figures):
        shown = extra if not name else ""
        if tasks:
            shown = f"{measure.seconds / tasks * 1000:.3f} s per 1,000" + (f", {shown}" if shown else "")
        if output is not None and not name:
            shown += f", {size_mib(output):.0f} MiB"
        print(line(name + label, measure, runs, shown, "" if name else goal_text(measure, goal)))
    if len(figures) == 2:
        (this, _), (base, _) = figures
        print(f"{'  ratio this/baseline':34} {this.seconds / base.seconds:7.2f}"
              f"   (peak memory {this.peak_mib / base.peak_mib:.2f})")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[3000, 30000],
                        help=f"leaf tasks per runbook, multiples of {LEAVES_PER_GROUP} (default 3000 30000; "
                             "none: only the start figures)")
    parser.add_argument("--steps", type=int, nargs="*", default=[1000, 10000],
                        help="steps of the serial list inside a parallel block (default 1000 10000; none: skip)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per figure, median shown; the largest size runs once (default 3)")
    parser.add_argument("--baseline", type=Path, help="another checkout to time the same way, for ratios")
    parser.add_argument("--keep", type=Path, help="write the runbooks and exports here and keep them")
    options = parser.parse_args()
    if any(size <= 0 or size % LEAVES_PER_GROUP for size in options.sizes):
        parser.error(f"--sizes must be positive multiples of {LEAVES_PER_GROUP}")
    if any(steps <= 0 for steps in options.steps):
        parser.error("--steps must be positive")
    if options.baseline and not (options.baseline / "translator" / "cli.py").is_file():
        parser.error(f"--baseline {options.baseline}: not a checkout of rb2ansible (no translator/cli.py)")
    checkouts = [ROOT] + ([options.baseline.resolve()] if options.baseline else [])

    work = options.keep or Path(tempfile.mkdtemp(prefix="rb2ansible-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    global WORK
    WORK = work.resolve()
    print(f"rb2ansible compile bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}, Python {sys.version.split()[0]}")
    try:
        warm_up(checkouts)
        report("--help", timed(checkouts, options.repeat, "--help"), goal=START_GOALS["--help"])
        hello = ROOT / "runbooks" / "hello"
        report("validate runbooks/hello", timed(checkouts, options.repeat, "validate", str(hello)),
               goal=START_GOALS["validate runbooks/hello"])
        largest = max(options.sizes, default=0)
        for size in sorted(options.sizes):
            project = written_apart(write_runbook, work / f"runbook-{size}", size)
            repeat = 1 if size == largest and len(options.sizes) > 1 else options.repeat
            for command in ("validate", "plan", "export"):
                output = work / f"export-{size}" if command == "export" else None
                figures = timed(checkouts, repeat, command, str(project), output=output)
                goal = SIZE_GOALS.get(size) if command != "plan" else None
                report(f"{command} {size:,} tasks", figures, size, output, goal)
        long_list(checkouts, options.repeat, sorted(options.steps), work)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        sys.exit(1)
    finally:
        if options.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


def long_list(checkouts: list[Path], repeat: int, counts: list[int], work: Path) -> None:
    """The serial list inside a parallel block: export time, and role YAML per step, which must not grow."""
    per_step = {}
    for steps in counts:
        project = written_apart(write_long_list, work / f"long-list-{steps}", steps)
        output = work / f"export-long-list-{steps}"
        figures = timed(checkouts, 1 if steps == max(counts) and len(counts) > 1 else repeat, "export", str(project),
                        output=output)
        per_step[steps] = role_yaml_bytes(output) / steps
        goal = (LONG_LIST_GOAL[1], None) if steps == LONG_LIST_GOAL[0] else None
        report(f"export long serial list {steps:,}", figures, goal=goal,
               extra=f"{per_step[steps]:.0f} bytes/step of role YAML")
    if len(per_step) > 1:
        ratio = per_step[counts[-1]] / per_step[counts[0]]
        low, high = LINEAR
        print(f"{'  bytes/step ' + f'{counts[-1]:,} over {counts[0]:,}':34} {ratio:7.3f}    "
              f"goal ~1 ({low}-{high}): {'met' if low <= ratio <= high else 'MISSED'}")


if __name__ == "__main__":
    main()
