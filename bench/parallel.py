"""Benchmark: a parallel block against the same runbook serial, and against hand-written Ansible.

Prints wall times and two ratios, all measured in this one run on localhost:
  parallel/serial   rb2ansible `parallel` vs the same children in `serial`
  rb2ansible/hand   rb2ansible `parallel` vs async + poll 0 + an async_status loop per job,
                    written by hand the way the Ansible docs show it

Usage: python bench/parallel.py [--children 6] [--seconds 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path

import ansible_runner
import yaml

from translator.build import load_runbook
from translator.emit import compile_runbook
from translator.execute import execute
from translator.project import DEFAULT_INVENTORY, RunSettings, ansible_cfg


def runbook(directory: Path, flow: str, children: int, seconds: float) -> Path:
    tasks = [{"name": f"sleep {n}", "shell": f"sleep {seconds}"} for n in range(children)]
    directory.mkdir(parents=True)
    (directory / "run.yml").write_text(yaml.safe_dump({"name": f"bench {flow}", "tasks": [
        {"name": "sleepers", flow: tasks}]}, sort_keys=False))
    return directory


def time_rb2ansible(directory: Path, scratch: Path) -> float:
    compiled = compile_runbook(load_runbook(directory))
    started = time.monotonic()
    execution = execute(compiled, RunSettings(), scratch, lambda results, changed: None, threading.Event())
    elapsed = time.monotonic() - started
    assert execution.results.status == "successful", execution.results.to_json()
    return elapsed


def hand_written_play(children: int, seconds: float) -> list[dict]:
    launches = [{"name": f"Sleep {n}", "ansible.builtin.shell": f"sleep {seconds}", "async": 600, "poll": 0,
                 "register": f"job_{n}", "changed_when": True} for n in range(children)]
    wait = {"name": "Wait for the jobs", "ansible.builtin.async_status": {"jid": "{{ item.ansible_job_id }}"},
            "register": "job", "until": "job.finished", "retries": 600, "delay": 1,
            "loop": [f"{{{{ job_{n} }}}}" for n in range(children)]}
    return [{"name": "Hand-written async", "hosts": "all", "gather_facts": False, "tasks": [*launches, wait]}]


def time_hand_written(scratch: Path, children: int, seconds: float) -> float:
    (scratch / "project").mkdir(parents=True)
    (scratch / "inventory").mkdir()
    (scratch / "project" / "site.yml").write_text(yaml.safe_dump(hand_written_play(children, seconds)))
    (scratch / "project" / "ansible.cfg").write_text(ansible_cfg(50))  # the same fast settings
    (scratch / "inventory" / "hosts.yml").write_text(yaml.safe_dump(DEFAULT_INVENTORY))
    path = os.pathsep.join([sysconfig.get_path("scripts"), os.environ.get("PATH", "")])
    started = time.monotonic()
    runner = ansible_runner.run(private_data_dir=str(scratch), playbook="site.yml", quiet=True,
                                envvars={"PATH": path})
    elapsed = time.monotonic() - started
    assert runner.status == "successful", runner.stdout.read()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--children", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    times: dict[str, list[float]] = {"parallel": [], "serial": [], "hand": []}
    with tempfile.TemporaryDirectory(prefix="rb2ansible-bench-") as scratch:
        root = Path(scratch)
        books = {flow: runbook(root / flow, flow, options.children, options.seconds)
                 for flow in ("parallel", "serial")}
        for attempt in range(options.repeat):
            for flow, book in books.items():
                times[flow].append(time_rb2ansible(book, root / f"run-{flow}-{attempt}"))
            times["hand"].append(time_hand_written(root / f"hand-{attempt}", options.children, options.seconds))
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"{options.children} children x sleep {options.seconds:g}s, median of {options.repeat} runs on localhost")
    for name, label in (("parallel", "rb2ansible parallel"), ("serial", "rb2ansible serial"),
                        ("hand", "hand-written async + async_status")):
        print(f"  {label:36} {median[name]:6.2f} s   (runs: {', '.join(f'{t:.2f}' for t in times[name])})")
    print(f"ratio parallel/serial:  {median['parallel'] / median['serial']:.2f}")
    print(f"ratio rb2ansible/hand:  {median['parallel'] / median['hand']:.2f}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
