"""Benchmark W1 (issue 12), per-task cost: N trivial tasks, one after the other, on 3 loopback SSH hosts.

Two workloads, each run by every contender in interleaved rounds, medians of --repeat:

  shell   N x `shell: "true"`            (rb2ansible runs a plain command line without Python on the host;
                                          with --fuse, consecutive plain steps as one task: translator/fusion.py)
  module  N x `ping: {}` (ansible.builtin.ping, a Python module on the host)

Contenders:

  rb2ansible                    `rb2ansible run` (its command line, in this process; see bench/parallel.py):
                                the runbook is linear, so every step is its own task on every host
  rb2ansible --fuse             the steps fused: one task, each host going through its steps without waiting
                                for the others (shell only: nothing to fuse in `module`)
  rb2ansible --fast             as fast as rb2ansible runs: steps fused as with --fuse (a linear runbook too,
                                saying so), Mitogen's strategy (rb2ansible[fast]) where it helps
  rb2ansible --fast --no-fuse   Mitogen alone: every step its own task, as under the linear strategy
  hand-written                  the same tasks written by hand as a play, run by ansible-playbook in the very
                                directory rb2ansible ran (same ansible.cfg: pipelining, ControlPersist, forks;
                                same inventory)
  hand-written + Mitogen        the same play under Mitogen's linear strategy, as its docs set it up
  pyinfra                       the same work with pyinfra, when it is installed in this Python
                                (`pip install pyinfra`; shell only); like Ansible's linear strategy, it ends
                                an operation on every host before the next
  pyinfra --no-wait             hosts do not wait for each other between operations, as with --fuse
  hand-written, 1 task          ansible-playbook on a play of one such task: the floor of any run through
                                ansible-playbook on these hosts (its own start, the play, one task)

The --fast contenders and hand-written + Mitogen need Mitogen in this Python (`pip install 'rb2ansible[fast]'`);
without it they are left out, saying why.

Prints each median and its ratio to hand-written Ansible. Needs root and sshd, like the test lab.

Usage: python bench/per_task.py [--tasks 50] [--repeat 3] [--workload shell|module]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.parallel import BenchError, Place, load_average, place_up, rb2ansible_run, write_runbook
from tests.lab import LabError

WORKLOADS = {"shell": ({"shell": "true"}, {"ansible.builtin.shell": "true", "changed_when": False},
                       "server.shell(name={name!r}, commands=['true'])"),
             "module": ({"ping": {}}, {"ansible.builtin.ping": {}}, None)}


def runbook_tasks(workload: str, count: int) -> list[dict]:
    task, _, _ = WORKLOADS[workload]
    return [{"name": f"step {n}", **task} for n in range(count)]


def hand_written_run(workload: str, count: int, rb2ansible_dir: Path, run_dir: Path,
                     strategy: dict[str, str] | None = None) -> float | None:
    """ansible-playbook on the hand-written play; with `strategy`, under Mitogen (None: not installed)."""
    if strategy is None:
        return None
    _, task, _ = WORKLOADS[workload]
    shutil.copytree(rb2ansible_dir / "export", run_dir)
    project = run_dir / "project"
    play = [{"name": "Hand-written", "hosts": "all", "gather_facts": False,
             "tasks": [{"name": f"Step {n}", **task} for n in range(count)]}]
    (project / "site.yml").write_text(yaml.safe_dump(play, sort_keys=False))
    env = {**os.environ, "PATH": os.pathsep.join([sysconfig.get_path("scripts"), os.environ.get("PATH", "")]),
           "ANSIBLE_CONFIG": str(project / "ansible.cfg"), **strategy}
    return _timed(["ansible-playbook", "site.yml"], project, env, run_dir / "output.txt")


def pyinfra_run(workload: str, count: int, place: Place, run_dir: Path, *flags: str) -> float | None:
    _, _, operation = WORKLOADS[workload]
    if operation is None or importlib.util.find_spec("pyinfra") is None:
        return None
    run_dir.mkdir(parents=True)
    hosts = yaml.safe_load(place.inventory.read_text())
    (run_dir / "deploy.py").write_text("from pyinfra.operations import server\n" + "\n".join(
        operation.format(name=f"step {n}") for n in range(count)) + "\n")
    (run_dir / "inventory.py").write_text(f"hosts = {_pyinfra_hosts(hosts)!r}\n")
    pyinfra = str(Path(sysconfig.get_path("scripts")) / "pyinfra")
    return _timed([pyinfra, "-y", *flags, "inventory.py", "deploy.py"], run_dir, dict(os.environ),
                  run_dir / "output.txt")


def _pyinfra_hosts(inventory: dict) -> list:
    """The lab inventory's hosts in pyinfra's form: (name, {ssh_hostname, ssh_user, ssh_key, ...})."""
    shared = inventory["all"]["vars"]
    found = []
    for group in inventory["all"]["children"].values():
        for name, variables in group["hosts"].items():
            found.append((name, {"ssh_hostname": variables["ansible_host"], "ssh_user": shared["ansible_user"],
                                 "ssh_key": shared["ansible_ssh_private_key_file"],
                                 "ssh_known_hosts_file": "/dev/null", "ssh_strict_host_key_checking": "off"}))
    return found


def _timed(command: list[str], cwd: Path, env: dict, log: Path) -> float:
    with open(log, "w") as output:
        started = time.monotonic()
        done = subprocess.run(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL)
        elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise BenchError(f"{' '.join(command[:2])} exited {done.returncode}:\n{log.read_text()[-2000:]}")
    return elapsed


def bench_workload(workload: str, place: Place, count: int, repeat: int, scratch: Path) -> dict:
    book = write_runbook(scratch / workload, f"w1 {workload}", runbook_tasks(workload, count))
    mitogen = mitogen_strategy()
    variants = {"rb2ansible": (), "rb2ansible --fuse": ("--fuse",)}
    if mitogen is not None:
        variants.update({"rb2ansible --fast": ("--fast",), "rb2ansible --fast --no-fuse": ("--fast", "--no-fuse")})
    if workload != "shell":  # only shell steps fuse
        variants = {kind: args for kind, args in variants.items() if "fuse" not in " ".join(args)}
    times: dict[str, list[float]] = {}
    for attempt in range(repeat):
        measured: dict[str, float | None] = {}
        for kind, args in variants.items():
            run_dir = scratch / f"{kind.replace(' ', '')}-{workload}-{attempt}"
            measured[kind] = rb2ansible_run(book, replace(place, run_args=place.run_args + args), run_dir)[0]
        ran = scratch / f"rb2ansible-{workload}-{attempt}"
        measured["hand-written"] = hand_written_run(workload, count, ran, scratch / f"hand-{workload}-{attempt}", {})
        measured["hand-written + Mitogen"] = hand_written_run(workload, count, ran,
                                                              scratch / f"mitogen-{workload}-{attempt}", mitogen)
        measured["pyinfra"] = pyinfra_run(workload, count, place, scratch / f"pyinfra-{workload}-{attempt}")
        measured["pyinfra --no-wait"] = pyinfra_run(workload, count, place,
                                                    scratch / f"nowait-{workload}-{attempt}", "--no-wait")
        # The floor of any run through ansible-playbook: its start and one task, whatever the task count.
        measured["hand-written, 1 task"] = hand_written_run(workload, 1, ran, scratch / f"one-{workload}-{attempt}", {})
        for kind, elapsed in measured.items():
            if elapsed is not None:
                times.setdefault(kind, []).append(elapsed)
                print(f"  {workload}: {kind} {attempt + 1}/{repeat}: {elapsed:.2f} s", file=sys.stderr)
    return times


def mitogen_strategy() -> dict[str, str] | None:
    """Mitogen's linear strategy as its docs set it up for ansible-playbook, or None when it is not installed."""
    spec = importlib.util.find_spec("ansible_mitogen")
    if spec is None:
        print("  Mitogen is not installed here: no --fast or hand-written + Mitogen figures", file=sys.stderr)
        return None
    strategies = Path(spec.origin).parent / "plugins" / "strategy"
    return {"ANSIBLE_STRATEGY_PLUGINS": str(strategies), "ANSIBLE_STRATEGY": "mitogen_linear"}


def report(workload: str, count: int, times: dict[str, list[float]]) -> None:
    print(f"\nW1 {workload}: {count} tasks x 3 loopback SSH hosts, medians")
    medians = {kind: statistics.median(runs) for kind, runs in times.items()}
    against = [name for name in ("hand-written", "hand-written + Mitogen", "pyinfra") if name in medians]
    for kind, runs in times.items():
        ratios = "   ".join(f"{medians[kind] / medians[name]:5.2f} x {name}" for name in against)
        print(f"  {kind:28} {medians[kind]:7.2f} s   {ratios}   (runs: {', '.join(f'{t:.2f}' for t in runs)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workload", dest="workloads", action="append", choices=list(WORKLOADS),
                        help="only this workload (repeatable; default: both)")
    options = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    print(f"rb2ansible W1 bench (per-task cost), load average at start: {load_average()}")
    try:
        lab = argparse.Namespace(children=1, seconds=1, shell_module=False)
        with tempfile.TemporaryDirectory(prefix="rb2ansible-w1-") as scratch, \
                place_up("ssh", lab, Path(scratch)) as place:
            warm_up = write_runbook(Path(scratch) / "warm-up", "warm up", [{"name": "warm", "shell": "true"}])
            rb2ansible_run(warm_up, place, Path(scratch) / "run-warm-up")
            for workload in options.workloads or WORKLOADS:
                report(workload, options.tasks,
                       bench_workload(workload, place, options.tasks, options.repeat, Path(scratch)))
    except (BenchError, LabError) as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    finally:
        print(f"load average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
