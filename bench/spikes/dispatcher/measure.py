"""Spike B (dispatcher action plugin): prints every figure of docs/design/parallel-dispatcher-spike.md in one run.

Sections (all by default, or name some with --only):
  local     six `sleep 2` children on localhost: parallel block vs serial vs hand-written async + async_status
  ssh       ten `sleep 1` children on 3 loopback SSH hosts it starts: parallel vs serial vs hand-written async
  fidelity  template/retries/no_log/become/loop/vault/register children: overlap, censoring, variables
  timeout   the `timeout` keyword inside a thread (async+poll for modules, a watchdog for other actions)
  failures  a failing child with ignore_errors, a failing step of a serial list, the task after the block
  nesting   parallel: [serial: [a, b], serial: [c, parallel: [d, e]], f]
  events    per-child runner_on_start / runner_on_ok in ansible-runner's events, and the default stdout
  signals   SIGINT and kill -9 of ansible-playbook during sleep 30 children on 3 SSH hosts: what is left
  versions  the same spike under other ansible-core venvs (--venv DIR, repeatable)
  compare   parallel vs serial under this and every --venv ansible-core, all interleaved

Usage: python bench/spikes/dispatcher/measure.py [--repeat 3] [--only local ssh ...] [--venv /tmp/a218 ...]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import runs  # noqa: E402
from lab import ssh_lab  # noqa: E402
from runs import PROJECT, Run, overlap, run_playbook  # noqa: E402

from tests.lab.processes import descendants, wait_until  # noqa: E402

EXTRAVARS = {"from_cli": "cli-value"}
SECRET = "s3cr3t-spike-value"  # the demo vault value; it must not appear in any output


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def timed(label: str, variants: dict[str, str | tuple[str, str]], inventory: Path, repeat: int,
          binary: str | None = None, ratios_to_first: bool = True) -> dict[str, float]:
    """Runs the variants interleaved, repeat times each, and prints medians and ratios to the first.

    A variant is a playbook, or (playbook, ansible-playbook binary of another ansible-core)."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    loads = [load()]
    for _ in range(repeat):
        for name, variant in variants.items():
            playbook, variant_binary = variant if isinstance(variant, tuple) else (variant, binary)
            run = run_playbook(playbook, inventory, binary=variant_binary)
            if run.status != "successful":
                raise SystemExit(f"{playbook} {run.status}:\n{run.stdout[-3000:]}")
            times[name].append(run.elapsed)
            cpu[name].append(run.cpu)
        loads.append(load())
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"\n== {label}: median of {repeat}, interleaved; load average (1/5/15 min) per round: {' | '.join(loads)}")
    for name, values in times.items():
        print(f"  {name:28} {median[name]:6.2f} s   runs: {', '.join(f'{v:.2f}' for v in values)}   "
              f"controller CPU {statistics.median(cpu[name]):.1f} s")
    names = list(variants)
    for other in names[1:] if ratios_to_first else []:
        print(f"  ratio {names[0]}/{other}: {median[names[0]] / median[other]:.2f}")
    return median


def section_local(args, scratch: Path) -> None:
    inventory = runs.local_inventory(scratch)
    run_playbook("parallel_six.yml", inventory)  # warm the caches (ansiballz, plugin loading) for all variants
    timed("localhost, 6 x sleep 2", {"dispatcher parallel": "parallel_six.yml", "serial": "serial_six.yml",
                                     "hand-written async": "hand_six.yml"}, inventory, args.repeat)


def section_ssh(args, scratch: Path, lab) -> None:
    hosts, inventory = lab
    run_playbook("ping.yml", inventory)  # ControlPersist masters up, as in any run after its first task
    timed(f"{len(hosts)} SSH hosts, 10 x sleep 1 (pipelining, ControlPersist)",
          {"dispatcher parallel": "parallel_ten.yml", "serial": "serial_ten.yml",
           "hand-written async": "hand_ten.yml"}, inventory, args.repeat)


def common_instant(run: Run, host: str, names: list[str]) -> str:
    found = run.by_name(host)
    missing = [n for n in names if n not in found]
    if missing:
        return f"missing events for {missing}"
    return f"{overlap([found[n] for n in names]):+.2f} s shared"


def section_fidelity(args, scratch: Path, binary: str | None = None, inventory: Path | None = None) -> None:
    out = Path(tempfile.mkdtemp(prefix="fidelity-", dir=scratch))  # fresh: the retry children's flags live here
    inventory = inventory or runs.local_inventory(scratch)
    run = run_playbook("fidelity.yml", inventory, extravars={**EXTRAVARS, "out_dir": str(out)}, vault=True,
                       keep=True, binary=binary)
    host = next(i.host for i in run.intervals().values())
    print(f"\n== fidelity ({host}): run {run.status} in {run.elapsed:.1f} s (the play asserts registered values "
          f"after the block: become user, loop results, earlier/inventory/-e/vault variables, retries attempts)")
    for group in ("template", "retry", "no_log"):
        names = [f"{group} {n}" for n in range(3)]
        print(f"  3 {group} children overlap: {common_instant(run, host, names)}")
    everything = run.stdout + "".join(p.read_text() for p in run.artifacts.rglob("*") if p.is_file())
    retries = [e for e in run.events if e["event"] == "runner_retry"]
    items = [e for e in run.events if e["event"] == "runner_item_on_ok"]
    nolog = [e["event_data"]["res"] for e in run.events
             if e["event"] == "runner_on_ok" and e["event_data"].get("task", "").startswith("no_log")]
    print(f"  runner_retry events: {len(retries)} for tasks {sorted({e['event_data']['task'] for e in retries})}")
    print(f"  runner_item_on_ok events: {len(items)} for tasks {sorted({e['event_data']['task'] for e in items})}")
    print(f"  no_log children's event res: {nolog[:1]} ... ({len(nolog)} events)")
    print(f"  vault secret found in stdout or artifacts: {SECRET in everything}")
    if run.status != "successful":
        print(run.stdout[-2500:])


def section_timeout(args, scratch: Path, binary: str | None = None) -> None:
    run = run_playbook("timeout.yml", runs.local_inventory(scratch), extravars={"out_dir": str(scratch)},
                       binary=binary)
    print(f"\n== timeout keyword inside a branch: run {run.status} in {run.elapsed:.1f} s")
    for interval in run.by_name("localhost").values():
        messages = [str(e["res"].get("msg")) for e in run.results_of(interval.name)]
        print(f"  {interval.name:18} {interval.status:7} {interval.end - interval.start:5.1f} s  {messages}")
    left = subprocess.run(["pgrep", "-x", "-f", "sleep 23"], capture_output=True, text=True).stdout.split()
    print(f"  'sleep 23' processes left after the run (a duration no one else uses): {len(left)}")


def section_failures(args, scratch: Path, binary: str | None = None) -> None:
    run = run_playbook("failures.yml", runs.local_inventory(scratch), binary=binary)
    print(f"\n== failures inside blocks: run {run.status} (rc {run.rc})")
    for event in run.events:
        data = event["event_data"]
        if event["event"] in runs.CHILD_EVENTS:
            print(f"  {data['task']:24} {event['event']:18} ignore_errors={data.get('ignore_errors')}")
    names = {e["event_data"].get("task") for e in run.events}
    print(f"  'never runs' started: {'never runs' in names}; "
          f"task after the failed block started: {'After the failed block' in names}")


def section_nesting(args, scratch: Path, binary: str | None = None) -> None:
    run = run_playbook("nested.yml", runs.local_inventory(scratch), binary=binary)
    found = run.by_name("localhost")
    if run.status != "successful" or not all(n in found for n in "abcdef"):
        print(f"\n== nesting: run {run.status}\n{run.stdout[-2500:]}")
        return
    a, b, c, d, e, f = (found[n] for n in "abcdef")
    block, after = found["Nested block"], found["After the block"]
    checks = {
        "a before b": a.end <= b.start, "c before d and e": c.end <= min(d.start, e.start),
        "d/e overlap": overlap([d, e]) > 0, "a/c/f overlap": overlap([a, c, f]) > 0,
        "after starts after all": after.start >= max(i.end for i in (a, b, c, d, e, f)),
    }
    span = max(i.end for i in (a, b, c, d, e, f)) - min(i.start for i in (a, b, c, d, e, f))
    print(f"\n== nesting: run {run.status} in {run.elapsed:.1f} s, load {load()}")
    print("  " + ", ".join(f"{k}: {v}" for k, v in checks.items()))
    print(f"  children span {span:.2f} s (target <= 3.5); dispatcher task {block.end - block.start:.2f} s")
    t0 = block.start
    for name in "abcdef":
        i = found[name]
        print(f"    {name}: {i.start - t0:5.2f} .. {i.end - t0:5.2f}  uuid {i.uuid}")


def section_events(args, scratch: Path) -> None:
    inventory = runs.local_inventory(scratch)
    run = run_playbook("parallel_six.yml", inventory)
    print("\n== events of parallel_six.yml in ansible-runner (created = when the controller's callback got it)")
    for event in run.events:
        if event["event"] in ("runner_on_start", "runner_on_ok", "playbook_on_task_start"):
            data = event["event_data"]
            print(f"  {event['event']:22} {data.get('task', ''):10} {data.get('task_uuid', '')[-14:]:>14} "
                  f"created {event['created'][11:23]} start {str(data.get('start'))[11:23]:12} "
                  f"end {str(data.get('end'))[11:23]}")
    env = dict(os.environ, ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0")
    default = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory),
                              "parallel_six.yml"], cwd=PROJECT, env=env, capture_output=True, text=True)
    lines = [line for line in default.stdout.splitlines() if line.strip()]
    print("  default stdout callback, first lines:")
    print("\n".join(f"    | {line}" for line in lines[:12]))


def remote_processes(hosts) -> dict[str, list[str]]:
    """Processes a run left on each light host: those under its sshd, but sshd's own per-connection processes
    (ControlPersist keeps a session open for 60 s after its last use, by design)."""
    found = {}
    for host in hosts:
        commands = []
        for pid in descendants(host.process.pid):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:60]
            except OSError:
                continue
            if command and not command.startswith("sshd"):
                commands.append(command)
        found[host.name] = commands
    return found


def summarise(found: dict[str, list[str]]) -> str:
    total = sum(len(v) for v in found.values())
    sleeps = sum(1 for v in found.values() for c in v if c.startswith("sleep 30"))
    return f"{total} processes ({sleeps} 'sleep 30')"


def section_signals(args, scratch: Path, lab) -> None:
    hosts, inventory = lab
    print("\n== signals during 5 x `sleep 30` children (one nested block) on 3 SSH hosts")
    env = dict(os.environ, ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"))
    playbook = str(Path(sys.executable).parent / "ansible-playbook")
    for how in ("SIGINT", "SIGINT twice", "kill -9"):
        wait_until(lambda: summarise(remote_processes(hosts)).startswith("0 "), 90, "hosts to be quiet")
        process = subprocess.Popen([playbook, "-i", str(inventory), "sleep30.yml"], cwd=PROJECT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_until(lambda: sum(c.startswith("sleep 30") for v in remote_processes(hosts).values() for c in v) == 15,
                   120, "15 sleep 30 on the hosts")
        started = time.monotonic()
        if how == "kill -9":
            process.send_signal(signal.SIGKILL)
        else:
            os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does: the terminal's foreground process group
            if how == "SIGINT twice":
                time.sleep(0.3)
                os.killpg(process.pid, signal.SIGINT)
        process.wait(60)
        exited = time.monotonic() - started
        line = [f"  {how:13} ansible-playbook exited after {exited:4.1f} s, rc {process.returncode}"]
        for after in (2, 10, 40):
            time.sleep(max(0.0, started + after - time.monotonic()))
            workers = subprocess.run(["pgrep", "-f", "ansible-playbook -i .* sleep30.yml"], capture_output=True,
                                     text=True).stdout.split()
            line.append(f"+{after}s: hosts {summarise(remote_processes(hosts))}, controller {len(workers)}")
        print("; ".join(line))


def section_compare(args, scratch: Path) -> None:
    """parallel and serial under every ansible-core given, interleaved, so all see the same load."""
    inventory = runs.local_inventory(scratch)
    cores = {"2.19 (this venv)": str(Path(sys.executable).parent / "ansible-playbook")}
    for venv in args.venv:
        binary = str(Path(venv) / "bin" / "ansible-playbook")
        version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.split("[core ")[1]
        cores[version.split("]")[0]] = binary
    variants = {}
    for core, binary in cores.items():
        run_playbook("parallel_six.yml", inventory, binary=binary)  # warm each core's caches
        variants[f"{core} parallel"] = ("parallel_six.yml", binary)
        variants[f"{core} serial"] = ("serial_six.yml", binary)
    median = timed("localhost, 6 x sleep 2, every ansible-core interleaved", variants, inventory, args.repeat,
                   ratios_to_first=False)
    for core in cores:
        print(f"  ratio parallel/serial under {core}: {median[f'{core} parallel'] / median[f'{core} serial']:.2f}")


def section_versions(args, scratch: Path) -> None:
    for venv in args.venv:
        binary = str(Path(venv) / "bin" / "ansible-playbook")
        version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
        print(f"\n######## {version} ({venv})")
        inventory = runs.local_inventory(scratch)
        run_playbook("parallel_six.yml", inventory, binary=binary)
        timed("localhost, 6 x sleep 2", {"dispatcher parallel": "parallel_six.yml", "serial": "serial_six.yml"},
              inventory, args.repeat, binary=binary)
        section_nesting(args, scratch, binary)
        section_failures(args, scratch, binary)
        section_fidelity(args, scratch, binary)
        section_timeout(args, scratch, binary)


SECTIONS = ("local", "ssh", "fidelity", "timeout", "failures", "nesting", "events", "signals", "versions", "compare")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--venv", action="append", default=[], help="another ansible-core venv for `versions`")
    parser.add_argument("--nice", type=int, default=0,
                        help="raise this run's priority by N (root only) so a busy machine's other load weighs less")
    args = parser.parse_args()
    if args.nice:
        os.nice(-args.nice)  # inherited by ansible-playbook, its workers, and the lab's sshd hosts
    import ansible.release

    print(f"ansible-core {ansible.release.__version__}, Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs, load average {load()}, niceness {os.nice(0)}")
    with tempfile.TemporaryDirectory(prefix="spikeb-") as directory:
        scratch = Path(directory)
        for name in ("local", "fidelity", "timeout", "failures", "nesting", "events"):
            if name in args.only:
                globals()[f"section_{name}"](args, scratch)
        if {"ssh", "signals"} & set(args.only):
            with ssh_lab(3, scratch / "lab") as lab:
                for name in ("ssh", "signals"):
                    if name in args.only:
                        globals()[f"section_{name}"](args, scratch, lab)
        if "versions" in args.only:
            section_versions(args, scratch)
        if "compare" in args.only:
            section_compare(args, scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
