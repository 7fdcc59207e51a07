"""Benchmark of scale-out: how many hosts one controller drives at forks 50, and what `--worker --slices` buys.

Starts N sshd hosts on loopback addresses 127.0.3.1.. (the lab's own code, fresh keys) and, for the worker
rows, two execution nodes (systemd-nspawn Debian machines with ansible-runner + ansible-core, as the
integration tests boot them; the session key is bound into them at its own path, so the inventory works from
there). The runbook is three trivial tasks (`shell: "true"`, `echo`, `ansible.builtin.ping`) on every host.
Each row is `rb2ansible run` of this checkout's installed copy (.venv-test), run --repeat times (median shown):

  wall         seconds from start to exit of the command
  cpu          CPU seconds of the command and everything it started on this machine (ansible-playbook,
               its forks, ssh clients; the nspawn machines' processes are not its children)
  per host     wall / hosts

Usage: python bench/scale_out.py [--hosts 10,30,60] [--repeat 2] [--no-workers]
Needs root, sshd, systemd-nspawn (tools/install-test-system-deps.sh). Everything started is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.lab import LabError  # noqa: E402
from tests.lab.addresses import port_is_free  # noqa: E402
from tests.lab.inventory import write_inventory  # noqa: E402
from tests.lab.keys import make_lab_keys  # noqa: E402
from tests.lab.nspawn import boot_machines, poweroff_machines  # noqa: E402
from tests.lab.rootfs import ensure_rootfs  # noqa: E402
from tests.lab.ssh_hosts import SshHost, stop_ssh_hosts  # noqa: E402
from tests.lab.worker_venv import ensure_worker_venv, worker_binds  # noqa: E402

RUNBOOK = """name: trivial
hosts: lab
tasks:
- name: run true
  shell: "true"
- name: say
  echo: hi from ${inventory_hostname}
- name: ping
  ansible.builtin.ping:
"""
RB2ANSIBLE = ROOT / ".venv-test" / "bin" / "rb2ansible"


def start_hosts(count: int, keys, workdir: Path) -> list[SshHost]:
    """Hosts on 127.0.3.N: outside the test lab's ranges, so a bench never takes addresses from tests."""
    hosts: list[SshHost] = []
    for number in range(1, 255):
        if len(hosts) == count:
            break
        address = f"127.0.3.{number}"
        if not port_is_free(address):
            continue
        host = SshHost(name=f"bench-{number:03d}", address=address, keys=keys, workdir=workdir / str(number))
        hosts.append(host)
        host.start()  # waits until it answers ssh
    return hosts


def timed(argv: list[str]) -> tuple[float, float, int]:
    """Wall and CPU seconds (the command and its waited-for children) of one run, and its exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise LabError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr[-1500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def row(label: str, hosts: int, argv: list[str], repeat: int) -> None:
    runs = [timed(argv) for _ in range(repeat)]
    wall = statistics.median(run[0] for run in runs)
    cpu = statistics.median(run[1] for run in runs)
    each = " ".join(f"{run[0]:.1f}" for run in runs)
    print(f"| {label:34} | {hosts:5} | {wall:6.1f} | {cpu:6.1f} | {wall / hosts:6.2f} | {each} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", default="10,30,60", help="host counts to measure on the controller")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--no-workers", action="store_true", help="skip the --worker rows")
    options = parser.parse_args()
    counts = [int(count) for count in options.hosts.split(",")]
    sys.stdout.reconfigure(line_buffering=True)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    print(f"rb2ansible scale-out bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    hosts: list[SshHost] = []
    machines = []
    try:
        with tempfile.TemporaryDirectory(prefix="rb2ansible-scale-") as scratch:
            work = Path(scratch)
            keys = make_lab_keys(work / "keys")
            hosts = start_hosts(max(counts), keys, work / "ssh")
            book = work / "book"
            book.mkdir()
            (book / "run.yml").write_text(RUNBOOK)
            print("| run | hosts | wall s | cpu s | s/host | each run |\n|---|---|---|---|---|---|")
            for count in counts:
                inventory = write_inventory(work / f"hosts-{count}.ini", hosts[:count], keys.private_key)
                row("controller, forks 50", count,
                    [str(RB2ANSIBLE), "run", str(book), "-i", str(inventory), "-f", "50"], options.repeat)
            if options.no_workers:
                return 0
            machines = boot_machines(2, ensure_rootfs(), keys, work / "nspawn",
                                     binds=(*worker_binds(ensure_worker_venv()), f"--bind-ro={work / 'keys'}"))
            count = max(counts)
            inventory = work / f"hosts-{count}.ini"
            ssh_args = ["--worker-ssh-args",
                        f"-i {keys.private_key} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"]
            base = [str(RB2ANSIBLE), "run", str(book), "-i", str(inventory), "-f", "50", *ssh_args]
            one = ["--worker", f"ssh://root@{machines[0].address}"]
            two = [*one, "--worker", f"ssh://root@{machines[1].address}"]
            row("1 worker", count, [*base, *one], options.repeat)
            row("2 workers, --slices 2", count, [*base, *two, "--slices", "2"], options.repeat)
            row("2 workers, --slices 4", count, [*base, *two, "--slices", "4"], options.repeat)
    except LabError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted (hosts and machines it started are stopped)", file=sys.stderr)
        return 130
    finally:
        poweroff_machines(machines)
        stop_ssh_hosts(hosts)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
