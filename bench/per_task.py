"""Benchmark W1 (issue 12), per-task cost: N trivial tasks, one after the other, on 3 loopback SSH hosts.

Two workloads, each run by every contender in interleaved rounds, medians of --repeat:

  shell   N x `shell: "true"`            (rb2ansible runs a plain command line without Python on the host)
  module  N x `ping: {}` (ansible.builtin.ping, a Python module on the host)

Contenders:

  rb2ansible          `rb2ansible run` (its command line, in this process; see bench/parallel.py)
  rb2ansible --fast   the same with Mitogen's strategy (rb2ansible[fast]); skipped, with the reason, when
                      rb2ansible would run without it
  hand-written        the same tasks written by hand as a play, run by ansible-playbook in the very directory
                      rb2ansible ran (same ansible.cfg: pipelining, ControlPersist, forks; same inventory)
  pyinfra             the same work with pyinfra, when it is installed in this Python (`pip install pyinfra`)

Prints each median and its ratio to hand-written Ansible. Needs root and sshd, like the test lab.

Usage: python bench/per_task.py [--tasks 50] [--repeat 3]
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


def hand_written_run(workload: str, count: int, rb2ansible_dir: Path, run_dir: Path) -> float:
    _, task, _ = WORKLOADS[workload]
    shutil.copytree(rb2ansible_dir / "export", run_dir)
    project = run_dir / "project"
    play = [{"name": "Hand-written", "hosts": "all", "gather_facts": False,
             "tasks": [{"name": f"Step {n}", **task} for n in range(count)]}]
    (project / "site.yml").write_text(yaml.safe_dump(play, sort_keys=False))
    env = {**os.environ, "PATH": os.pathsep.join([sysconfig.get_path("scripts"), os.environ.get("PATH", "")]),
           "ANSIBLE_CONFIG": str(project / "ansible.cfg")}
    return _timed(["ansible-playbook", "site.yml"], project, env, run_dir / "output.txt")


def pyinfra_run(workload: str, count: int, place: Place, run_dir: Path) -> float | None:
    _, _, operation = WORKLOADS[workload]
    if operation is None or importlib.util.find_spec("pyinfra") is None:
        return None
    run_dir.mkdir(parents=True)
    hosts = yaml.safe_load(place.inventory.read_text())
    (run_dir / "deploy.py").write_text("from pyinfra.operations import server\n" + "\n".join(
        operation.format(name=f"step {n}") for n in range(count)) + "\n")
    (run_dir / "inventory.py").write_text(f"hosts = {_pyinfra_hosts(hosts)!r}\n")
    pyinfra = str(Path(sysconfig.get_path("scripts")) / "pyinfra")
    return _timed([pyinfra, "-y", "inventory.py", "deploy.py"], run_dir, dict(os.environ),
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


def bench_workload(workload: str, place: Place, fast: Place, count: int, repeat: int, scratch: Path) -> dict:
    book = write_runbook(scratch / workload, f"w1 {workload}", runbook_tasks(workload, count))
    times: dict[str, list[float]] = {}
    for attempt in range(repeat):
        run_dir = scratch / f"run-{workload}-{attempt}"
        measured = {"rb2ansible": rb2ansible_run(book, place, run_dir)[0],
                    "rb2ansible --fast": rb2ansible_run(book, fast, scratch / f"fast-{workload}-{attempt}")[0],
                    "hand-written": hand_written_run(workload, count, run_dir, scratch / f"hand-{workload}-{attempt}"),
                    "pyinfra": pyinfra_run(workload, count, place, scratch / f"pyinfra-{workload}-{attempt}")}
        for kind, elapsed in measured.items():
            if elapsed is not None:
                times.setdefault(kind, []).append(elapsed)
                print(f"  {workload}: {kind} {attempt + 1}/{repeat}: {elapsed:.2f} s", file=sys.stderr)
    return times


def report(workload: str, count: int, times: dict[str, list[float]]) -> None:
    print(f"\nW1 {workload}: {count} tasks x 3 loopback SSH hosts, medians")
    hand = statistics.median(times["hand-written"])
    for kind, runs in times.items():
        median = statistics.median(runs)
        print(f"  {kind:20} {median:7.2f} s   {median / hand:5.2f} x hand-written   "
              f"(runs: {', '.join(f'{t:.2f}' for t in runs)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    print(f"rb2ansible W1 bench (per-task cost), load average at start: {load_average()}")
    try:
        lab = argparse.Namespace(children=1, seconds=1, shell_module=False)
        with tempfile.TemporaryDirectory(prefix="rb2ansible-w1-") as scratch, \
                place_up("ssh", lab, Path(scratch)) as place:
            fast = Place(place.name, place.children, place.seconds, place.inventory, ("--fast",))
            warm_up = write_runbook(Path(scratch) / "warm-up", "warm up", [{"name": "warm", "shell": "true"}])
            rb2ansible_run(warm_up, place, Path(scratch) / "run-warm-up")
            for workload in WORKLOADS:
                report(workload, options.tasks,
                       bench_workload(workload, place, fast, options.tasks, options.repeat, Path(scratch)))
    except (BenchError, LabError) as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    finally:
        print(f"load average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
