"""Benchmark of compiling: `validate`, `plan` and `export` of large runbooks, and how fast the command starts.

Each figure is one `rb2ansible` process of this checkout (its translator/, not an installed copy),
timed from start to exit with its peak memory (maximum resident set size):

  --help                       the command line's own start
  validate runbooks/hello      a small runbook: what a user waits for on every check
  validate/plan/export N       a generated runbook of N leaf tasks in nested groups (below),
                               with seconds per 1,000 tasks; export also gives the size written

The generated runbook repeats one group of 50 leaves: a `serial` group holding two `parallel`
blocks of 5 and three nested `serial` groups, with the modules runbooks use most (echo, shell,
template, the bare Ansible names `command` and `stat`, an FQCN, an easy module), `${...}` in
values and in `when`. Compiling should cost the same per task at every size.

With --baseline DIR (another checkout, e.g. `git worktree add /tmp/main main`), each figure is
also taken with that checkout's translator/, interleaved run by run, and the ratio printed: on a
busy machine only ratios taken in one sitting mean anything.

Usage: python bench/compile.py [--sizes 3000 30000] [--repeat 3] [--baseline DIR] [--keep DIR]
Run it with `nice -n 19` on a shared machine; see bench/README.md.
"""

from __future__ import annotations

import argparse
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


# -- measuring -----------------------------------------------------------------------------------


def rb2ansible(checkout: Path, *args: str) -> Measure:
    """Run a checkout's command line in a fresh process; its wall time and peak resident memory."""
    command = [sys.executable, "-c", "from translator.cli import main; main()", *args]
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        # Started in the checkout: `python -c` puts the working directory first on sys.path, before PYTHONPATH.
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, env=env, cwd=checkout)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise BenchError(f"rb2ansible {' '.join(args)} exited {process.returncode}:\n"
                             f"{errors.read().decode(errors='replace')[-2000:]}")
    return Measure(seconds, usage.ru_maxrss / 1024)  # Linux gives kilobytes


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


# -- report --------------------------------------------------------------------------------------


def line(label: str, measure: Measure, runs: list[float], extra: str = "") -> str:
    each = " ".join(f"{s:.2f}" for s in runs) if len(runs) > 1 else ""
    return (f"{label:34} {measure.seconds:7.2f} s  {extra:28} peak {measure.peak_mib:5.0f} MiB"
            + (f"  [{each}]" if each else ""))


def report(label: str, figures: Figures, tasks: int = 0, output: Path | None = None) -> None:
    """One line per checkout (this one first), then this one's time and memory as a share of the baseline's."""
    for name, (measure, runs) in zip(("", "baseline "), figures):
        extra = f"{measure.seconds / tasks * 1000:.3f} s per 1,000" if tasks else ""
        if output is not None and not name:
            extra += f", {size_mib(output):.0f} MiB"
        print(line(name + label, measure, runs, extra))
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
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per figure, median shown; the largest size runs once (default 3)")
    parser.add_argument("--baseline", type=Path, help="another checkout to time the same way, for ratios")
    parser.add_argument("--keep", type=Path, help="write the runbooks and exports here and keep them")
    options = parser.parse_args()
    if any(size <= 0 or size % LEAVES_PER_GROUP for size in options.sizes):
        parser.error(f"--sizes must be positive multiples of {LEAVES_PER_GROUP}")
    if options.baseline and not (options.baseline / "translator" / "cli.py").is_file():
        parser.error(f"--baseline {options.baseline}: not a checkout of rb2ansible (no translator/cli.py)")
    checkouts = [ROOT] + ([options.baseline.resolve()] if options.baseline else [])

    work = options.keep or Path(tempfile.mkdtemp(prefix="rb2ansible-bench-"))
    print(f"rb2ansible compile bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}, Python {sys.version.split()[0]}")
    try:
        report("--help", timed(checkouts, options.repeat, "--help"))
        hello = ROOT / "runbooks" / "hello"
        report("validate runbooks/hello", timed(checkouts, options.repeat, "validate", str(hello)))
        largest = max(options.sizes, default=0)
        for size in sorted(options.sizes):
            project = write_runbook(work / f"runbook-{size}", size)
            repeat = 1 if size == largest and len(options.sizes) > 1 else options.repeat
            for command in ("validate", "plan", "export"):
                output = work / f"export-{size}" if command == "export" else None
                figures = timed(checkouts, repeat, command, str(project), output=output)
                report(f"{command} {size:,} tasks", figures, size, output)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        sys.exit(1)
    finally:
        if options.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
