"""Spike of design A (parallel children as host aliases under `strategy: free`): every figure in one run.

Sections (interleaved repeats, medians, the 1-minute load average beside each figure):
  local   localhost, six `sleep 2` children: aliases vs serial vs hand-written async + async_status
  ssh     3 loopback SSH hosts (tests/lab), ten `sleep 1` children: aliases vs serial
  render  three template children that each render for 1 s: overlap of their recorded intervals
  nested  parallel: [serial: [a, b], serial: [c, parallel: [d, e]], f 2s] then `after`: order and span

Usage (from the repository root): .venv-test/bin/python bench/spikes/aliases/measure.py [--repeat 3]
    [--only local,ssh,render,nested]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))

from tests.lab.inventory import render_ini  # noqa: E402
from tests.lab.keys import make_lab_keys  # noqa: E402
from tests.lab.ssh_hosts import start_ssh_hosts, stop_ssh_hosts  # noqa: E402

BIN = Path(sys.executable).parent


@dataclass
class Run:
    label: str
    wall: float
    cpu: float  # user + sys of ansible-playbook and everything it ran on this machine
    load: float
    rc: int
    records: list[dict]

    def intervals(self, task: str | None = None) -> list[tuple[str, str, float, float]]:
        """(host, task, start, end) of every finished task, optionally only those named task."""
        starts = {}
        found = []
        for record in self.records:
            key = (record.get("host"), record.get("uuid"))
            if record["event"] == "start":
                starts[key] = record["t"]
            elif record["event"] == "end" and key in starts:
                found.append((record["host"], record["task"], starts.pop(key), record["t"]))
        return [i for i in found if task is None or i[1] == task]


def play(label: str, playbook: str, inventory: Path, scratch: Path, extra: dict | None = None,
         args: tuple[str, ...] = (), settings: dict[str, str] | None = None) -> Run:
    timeline = scratch / f"timeline-{time.monotonic_ns()}.jsonl"
    env = dict(os.environ, ANSIBLE_CONFIG=str(HERE / "ansible.cfg"), RB2A_TIMELINE=str(timeline),
               PATH=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]), **(settings or {}))
    command = [str(BIN / "ansible-playbook"), "-i", str(inventory), playbook, *args]
    for key, value in (extra or {}).items():
        command += ["-e", f"{key}={value}"]
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(command, cwd=HERE, env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    records = [json.loads(line) for line in timeline.read_text().splitlines()] if timeline.exists() else []
    if done.returncode and label != "expected-failure":
        print(done.stdout[-3000:], done.stderr[-2000:], sep="\n", file=sys.stderr)
    return Run(label, wall, cpu, load, done.returncode, records)


def interleaved(variants: dict[str, tuple], inventory: Path, scratch: Path, repeat: int) -> dict[str, list[Run]]:
    """variants: label -> (playbook, extra vars[, ANSIBLE_* environment settings])."""
    runs: dict[str, list[Run]] = {label: [] for label in variants}
    for _ in range(repeat):
        for label, (playbook, extra, *settings) in variants.items():
            environment = settings[0] if settings else None
            runs[label].append(play(label, playbook, inventory, scratch, extra, settings=environment))
    return runs


def median(runs: list[Run]) -> float:
    return statistics.median(r.wall for r in runs)


def print_table(title: str, runs: dict[str, list[Run]], baseline: str) -> None:
    print(f"\n## {title}")
    print("| variant | runs (s) | median (s) | / serial | controller CPU median (s) | load1 at start |")
    print("|---|---|---|---|---|---|")
    for label, variant_runs in runs.items():
        walls = " ".join(f"{r.wall:.1f}" for r in variant_runs)
        loads = " ".join(f"{r.load:.1f}" for r in variant_runs)
        failed = "" if all(r.rc == 0 for r in variant_runs) else " (FAILED runs)"
        print(f"| {label}{failed} | {walls} | {median(variant_runs):.2f} | "
              f"{median(variant_runs) / median(runs[baseline]):.2f} | "
              f"{statistics.median(r.cpu for r in variant_runs):.1f} | {loads} |")


def common_instant(intervals: list[tuple[str, str, float, float]]) -> float:
    """Seconds during which all intervals overlapped (negative: the gap; they share no instant)."""
    return min(i[3] for i in intervals) - max(i[2] for i in intervals)


def local_inventory(scratch: Path) -> Path:
    path = scratch / "local.ini"
    path.write_text(f"[web]\nlocalhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    return path


def section_local(scratch: Path, repeat: int) -> None:
    inventory = local_inventory(scratch)
    extra = {"children": 6, "seconds": 2}
    runs = interleaved({"serial": ("sleep_serial_6.yml", extra), "async+async_status": ("sleep_async_6.yml", extra),
                        "aliases": ("sleep_aliases.yml", extra)}, inventory, scratch, repeat)
    print_table("localhost, six `sleep 2` children (target: aliases <= 0.40 x serial)", runs, "serial")
    print(f"aliases / hand-written async: {median(runs['aliases']) / median(runs['async+async_status']):.2f}")
    for run in runs["aliases"]:
        sleeps = [i for i in run.intervals() if i[1].startswith("sleep ")]
        print(f"aliases run: {len(sleeps)} sleeps, common instant {common_instant(sleeps):+.2f} s, "
              f"each sleep 2 took {min(i[3] - i[2] for i in sleeps):.2f}-{max(i[3] - i[2] for i in sleeps):.2f} s")


def section_ssh(scratch: Path, repeat: int) -> None:
    keys = make_lab_keys(scratch / "keys")
    hosts = start_ssh_hosts(3, keys, scratch / "ssh", name_prefix="spike-ssh")
    try:
        inventory = scratch / "ssh.ini"
        inventory.write_text(render_ini(hosts, keys.private_key, group="web"))
        extra = {"children": 10, "seconds": 1}
        # The free strategy's loop sleeps internal_poll_interval (1 ms) between passes over its hosts:
        # with 30 aliases, does a longer interval give CPU back to the modules?
        variants = {"serial": ("sleep_serial_10.yml", extra), "aliases": ("sleep_aliases.yml", extra),
                    "aliases, internal_poll_interval 0.05": ("sleep_aliases.yml", extra,
                                                             {"ANSIBLE_INTERNAL_POLL_INTERVAL": "0.05"})}
        play("warm-up", "sleep_serial_10.yml", inventory, scratch, {"seconds": 0})  # ControlPersist masters up
        runs = interleaved(variants, inventory, scratch, repeat)
        print_table("3 loopback SSH hosts, ten `sleep 1` children (target: aliases <= 0.35 x serial)", runs, "serial")
        for run in runs["aliases"]:
            sleeps = [i for i in run.intervals() if i[1].startswith("sleep ")]
            per_host = {}
            for host, _, start, end in sleeps:
                per_host.setdefault(host.split("~")[0], []).append((start, end))
            widest = max(max(e for _, e in v) - min(s for s, _ in v) for v in per_host.values())
            print(f"aliases run: {len(sleeps)} sleeps on {len(per_host)} hosts, widest per-host span {widest:.2f} s")
    finally:
        stop_ssh_hosts(hosts)


def section_render(scratch: Path, repeat: int) -> None:
    inventory = local_inventory(scratch)
    out = scratch / "rendered"
    out.mkdir(exist_ok=True)
    extra = {"out_dir": out}
    runs = interleaved({"serial": ("template_serial.yml", extra), "aliases": ("template_aliases.yml", extra)},
                       inventory, scratch, repeat)
    print_table("localhost, three `template` children rendering 1 s each (pipe lookup)", runs, "serial")
    for run in runs["aliases"]:
        renders = [i for i in run.intervals() if i[1].startswith("render ")]
        spans = ", ".join(f"{h.split('~')[-1]}: {s - run.records[0]['t']:.2f}-{e - run.records[0]['t']:.2f}"
                          for h, _, s, e in sorted(renders, key=lambda i: i[0]))
        print(f"aliases run: renders (s from playbook start) {spans}; common instant {common_instant(renders):+.2f} s")


def section_nested(scratch: Path, repeat: int) -> None:
    inventory = local_inventory(scratch)
    print("\n## nested: parallel: [serial: [a 1s, b 1s], serial: [c 1s, parallel: [d 1s, e 1s]], f 2s] on localhost")
    print("| run | a<b | c<d,e | d/e overlap | a/c/f common instant | after last | children span (s) | "
          "critical path of the recorded durations (s) | block span fork->join (s) | wall (s) | load1 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n in range(repeat):
        signals = scratch / f"signals-{n}"
        run = play("nested", "nested_aliases.yml", inventory, scratch, {"rb2a_signal_dir": signals})
        task = {name: [i for i in run.intervals(name)] for name in "abcdef"}
        task["after"] = run.intervals("after")
        fork = run.intervals("Fork block outer into one alias per track")
        join = run.intervals("Join block outer")
        if run.rc or any(len(v) != 1 for v in task.values()):
            print(f"| {n} | run failed (rc {run.rc}) |")
            continue
        a, b, c, d, e, f, after = (task[k][0] for k in ("a", "b", "c", "d", "e", "f", "after"))
        children = [a, b, c, d, e, f]
        span = max(i[3] for i in children) - min(i[2] for i in children)
        took = {k: i[3] - i[2] for k, i in zip("abcdef", children)}
        critical = max(took["a"] + took["b"], took["c"] + max(took["d"], took["e"]), took["f"])
        print(f"| {n} | {a[3] <= b[2]} | {c[3] <= d[2] and c[3] <= e[2]} | {common_instant([d, e]):+.2f} | "
              f"{common_instant([a, c, f]):+.2f} | {after[2] >= max(i[3] for i in children)} | {span:.2f} | "
              f"{critical:.2f} | "
              f"{join[0][3] - fork[0][2]:.2f} | {run.wall:.1f} | {run.load:.1f} |")


SECTIONS = {"local": section_local, "ssh": section_ssh, "render": section_render, "nested": section_nested}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default=",".join(SECTIONS))
    options = parser.parse_args()
    version = subprocess.run([str(BIN / "ansible"), "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    print(f"# design A spike: {version}, python {sys.version.split()[0]}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="rb2a-spike-aliases-") as scratch:
        for name in options.only.split(","):
            SECTIONS[name](Path(scratch), options.repeat)
    print(f"\nload at the end {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
