"""Benchmark of `parallel`: one block against the same children in `serial` and against hand-written Ansible.

Every rb2ansible run goes through `rb2ansible run` itself (its command line, in this process), so
the figures hold whatever engine sits behind it. Per place, the median of --repeat interleaved runs:

  parallel/serial    wall time of one `parallel` block / the same children in `serial`
  rb2ansible/hand    rb2ansible's `parallel` / the same work written by hand as async + poll: 0 +
                     async_status, run by ansible-playbook in the very directory rb2ansible ran
                     (same ansible.cfg: pipelining, ControlPersist, forks; same inventory)
  view lag           the largest gap between a child's recorded `end` (--results) and the moment
                     the progress view was given the update that shows it finished
  nested span        localhost only: parallel: [serial: [a 1s, b 1s], serial: [c 1s, parallel:
                     [d 1s, e 1s]], f 2s], from the first child's start to the last child's end
                     (its critical path is 2 s: a+b, c+d, f; no lock-step between branches means close to it)

Places: localhost (6 x `sleep 2`) and 3 loopback SSH hosts this script starts and always stops
(10 x `sleep 1`); needs root and sshd, like the test lab. See bench/README.md.

Usage: python bench/parallel.py [--where local|ssh|both] [--children N] [--seconds S] [--repeat 3]
                               [--shell-module]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import click
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's translator/ and tests/lab/, not an installed copy

from bench.view_lag import ViewClock
from tests.lab import LabError
from tests.lab.inventory import write_inventory
from tests.lab.keys import make_lab_keys
from tests.lab.ssh_hosts import start_ssh_hosts, stop_ssh_hosts
from translator.cli import cli

KINDS = {"parallel": "rb2ansible parallel", "serial": "rb2ansible serial",
         "hand": "hand-written async + async_status"}
SSH_HOSTS = 3


class BenchError(Exception):
    """A run failed or the lab could not start: the figures would mean nothing."""


@dataclass(frozen=True)
class Place:
    name: str
    children: int
    seconds: float
    inventory: Path | None = None  # None: rb2ansible's own default, localhost
    run_args: tuple[str, ...] = ()  # added to every `rb2ansible run`


@dataclass
class Figures:
    times: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    lags: dict[str, list[float]] = field(default_factory=lambda: {"parallel": [], "serial": []})
    spans: list[float] = field(default_factory=list)  # the nested block's, localhost only

    def median(self, kind: str) -> float:
        return statistics.median(self.times[kind])


# -- the work ------------------------------------------------------------------------------------


def write_runbook(directory: Path, name: str, tasks: list[dict]) -> Path:
    directory.mkdir(parents=True)
    (directory / "run.yml").write_text(yaml.safe_dump({"name": name, "hosts": "all", "tasks": tasks},
                                                      sort_keys=False))
    return directory


def sleepers(place: Place) -> list[dict]:
    return [{"name": f"sleep {n}", "shell": f"sleep {place.seconds:g}"} for n in range(place.children)]


def nested_block() -> list[dict]:
    def sleep(name: str, seconds: int) -> dict:
        return {"name": name, "shell": f"sleep {seconds}"}
    return [{"name": "nested", "parallel": [
        {"name": "ab", "serial": [sleep("a", 1), sleep("b", 1)]},
        {"name": "cde", "serial": [sleep("c", 1), {"name": "de", "parallel": [sleep("d", 1), sleep("e", 1)]}]},
        sleep("f", 2)]}]


def span(results: Path) -> float:
    """From the first task's start to the last task's end, on the one host, from --results."""
    runs = [task["results"]["localhost"] for task in json.loads(results.read_text())["tasks"]]
    starts = [datetime.fromisoformat(run["start"]) for run in runs]
    ends = [datetime.fromisoformat(run["end"]) for run in runs]
    return (max(ends) - min(starts)).total_seconds()


def hand_written_play(place: Place) -> list[dict]:
    """The Ansible docs' way: launch each job with async + poll 0, then poll them with async_status."""
    launches = [{"name": f"Sleep {n}", "ansible.builtin.shell": f"sleep {place.seconds:g}", "async": 600,
                 "poll": 0, "register": f"sleep_{n}", "changed_when": True} for n in range(place.children)]
    wait = {"name": "Wait for the jobs", "ansible.builtin.async_status": {"jid": "{{ item.ansible_job_id }}"},
            "register": "job", "until": "job.finished", "retries": 600, "delay": 1,
            "loop": [f"{{{{ sleep_{n} }}}}" for n in range(place.children)]}
    return [{"name": "Hand-written async", "hosts": "all", "gather_facts": False, "tasks": [*launches, wait]}]


# -- running -------------------------------------------------------------------------------------


@contextmanager
def own_signal_handlers() -> Iterator[None]:
    """`rb2ansible run` takes over Ctrl-C (first: stop the run cleanly); after it, Ctrl-C stops the bench."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


def rb2ansible_run(book: Path, place: Place, run_dir: Path) -> tuple[float, float]:
    """`rb2ansible run BOOK --export DIR --results FILE [-i INVENTORY]`; returns its wall time and view lag."""
    results = run_dir / "results.json"
    args = ["run", str(book), "--export", str(run_dir / "export"), "--results", str(results)]
    if place.inventory:
        args += ["-i", str(place.inventory)]
    args += place.run_args
    log = run_dir / "output.txt"
    run_dir.mkdir(parents=True)
    clock = ViewClock()
    with open(log, "w") as output, redirect_stdout(output), own_signal_handlers(), clock.watching():
        started = time.monotonic()
        try:
            cli.main(args=args, prog_name="rb2ansible", standalone_mode=False)
            code = 0
        except SystemExit as done:
            code = done.code
        except click.Abort:  # Ctrl-C pressed twice: rb2ansible gave up at once
            raise KeyboardInterrupt from None
        elapsed = time.monotonic() - started
    if code != 0:
        raise BenchError(f"rb2ansible {' '.join(args)} exited {code}:\n{_tail(log)}")
    try:
        return elapsed, max(clock.lags(json.loads(results.read_text())).values())
    except ValueError as error:
        raise BenchError(f"view lag of {book.name} on {place.name}: {error}") from None


def hand_written_run(place: Place, rb2ansible_dir: Path, run_dir: Path) -> float:
    """ansible-playbook of the hand-written play, in a copy of the directory rb2ansible exported."""
    shutil.copytree(rb2ansible_dir / "export", run_dir)
    project = run_dir / "project"
    (project / "site.yml").write_text(yaml.safe_dump(hand_written_play(place), sort_keys=False))
    scripts = sysconfig.get_path("scripts")  # the ansible-playbook rb2ansible itself runs
    env = {**os.environ, "PATH": os.pathsep.join([scripts, os.environ.get("PATH", "")]),
           "ANSIBLE_CONFIG": str(project / "ansible.cfg")}
    log = run_dir / "output.txt"
    with open(log, "w") as output:
        started = time.monotonic()
        done = subprocess.run(["ansible-playbook", "site.yml"], cwd=project, env=env, stdout=output,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise BenchError(f"hand-written ansible-playbook exited {done.returncode}:\n{_tail(log)}")
    return elapsed


def _tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-15:])


def bench_place(place: Place, repeat: int, scratch: Path) -> Figures:
    books = {flow: write_runbook(scratch / flow, f"bench {flow}", [{"name": "sleepers", flow: sleepers(place)}])
             for flow in ("parallel", "serial")}
    # Untimed: Python imports and SSH ControlPersist connections are then in place for every
    # measured run alike, not only for those after the first.
    rb2ansible_run(write_runbook(scratch / "warm-up", "warm up", [{"name": "warm up", "shell": "true"}]),
                   place, scratch / "run-warm-up")
    nested = write_runbook(scratch / "nested", "bench nested", nested_block())
    figures = Figures()
    for attempt in range(repeat):
        for flow, book in books.items():
            elapsed, lag = rb2ansible_run(book, place, scratch / f"run-{flow}-{attempt}")
            figures.times[flow].append(elapsed)
            figures.lags[flow].append(lag)
            _progress(place, flow, attempt, repeat, elapsed)
        elapsed = hand_written_run(place, scratch / f"run-parallel-{attempt}", scratch / f"run-hand-{attempt}")
        figures.times["hand"].append(elapsed)
        _progress(place, "hand", attempt, repeat, elapsed)
        if place.inventory is None:
            run_dir = scratch / f"run-nested-{attempt}"
            rb2ansible_run(nested, place, run_dir)
            figures.spans.append(span(run_dir / "results.json"))
            print(f"  {place.name}: nested block span {attempt + 1}/{repeat}: {figures.spans[-1]:.2f} s",
                  file=sys.stderr)
    return figures


# -- reporting -----------------------------------------------------------------------------------


def _progress(place: Place, kind: str, attempt: int, repeat: int, elapsed: float) -> None:
    print(f"  {place.name}: {KINDS[kind]} {attempt + 1}/{repeat}: {elapsed:.2f} s", file=sys.stderr)


def report(place: Place, repeat: int, figures: Figures) -> None:
    print(f"\n{place.name}: {place.children} children x sleep {place.seconds:g}s, "
          f"median of {repeat} interleaved runs")
    for kind, label in KINDS.items():
        runs = ", ".join(f"{t:.2f}" for t in figures.times[kind])
        print(f"  {label:36} {figures.median(kind):6.2f} s   (runs: {runs})")
    print(f"  {'ratio parallel/serial':36} {figures.median('parallel') / figures.median('serial'):6.2f}")
    print(f"  {'ratio rb2ansible/hand-written':36} {figures.median('parallel') / figures.median('hand'):6.2f}")
    for flow, lags in figures.lags.items():
        print(f"  {'view lag, ' + flow + ' (largest)':36} {max(lags):6.2f} s   "
              f"(per run: {', '.join(f'{lag:.2f}' for lag in lags)})")
    if figures.spans:
        print(f"  {'nested block span':36} {statistics.median(figures.spans):6.2f} s   "
              f"(runs: {', '.join(f'{value:.2f}' for value in figures.spans)})")


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


@contextmanager
def place_up(where: str, options: argparse.Namespace, scratch: Path) -> Iterator[Place]:
    """The place to bench, up for the time of the with block; SSH hosts are stopped after it, whatever happens."""
    run_args = ("-e", "rb2ansible_direct_shell=false") if options.shell_module else ()
    if where == "local":
        yield Place("localhost", options.children or 6, options.seconds or 2, run_args=run_args)
        return
    if os.geteuid() != 0:
        raise BenchError("the SSH hosts need root (sshd on port 22 of loopback addresses)")
    keys = make_lab_keys(scratch / "keys")
    hosts = []
    try:
        hosts = start_ssh_hosts(SSH_HOSTS, keys, scratch / "hosts", name_prefix="bench-ssh")
        inventory = write_inventory(scratch / "inventory.yml", hosts, keys.private_key)
        yield Place(f"{SSH_HOSTS} loopback SSH hosts", options.children or 10, options.seconds or 1, inventory,
                    run_args)
    finally:
        stop_ssh_hosts(hosts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--where", choices=("local", "ssh", "both"), default="both")
    parser.add_argument("--children", type=int, help="children of the block (default: 6 local, 10 ssh)")
    parser.add_argument("--seconds", type=float, help="each child's sleep (default: 2 local, 1 ssh)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind; the median is shown")
    parser.add_argument("--shell-module", action="store_true",
                        help="run `shell` children through Ansible's Python module, as before 0.3 "
                             "(-e rb2ansible_direct_shell=false)")
    options = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # figures appear as each place ends, also into a file
    # SIGTERM unwinds like Ctrl-C, so the SSH hosts are stopped either way.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    print(f"rb2ansible parallel bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs"
          + (", shell children through Ansible's module" if options.shell_module else ""))
    print(f"load average at start: {load_average()}")
    try:
        with tempfile.TemporaryDirectory(prefix="rb2ansible-bench-") as scratch:
            for where in ("local", "ssh") if options.where == "both" else (options.where,):
                with place_up(where, options, Path(scratch) / where) as place:
                    report(place, options.repeat, bench_place(place, options.repeat, Path(scratch) / where))
    except (BenchError, LabError) as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted (SSH hosts it started are stopped)", file=sys.stderr)
        return 130
    finally:
        print(f"load average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
