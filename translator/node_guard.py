"""Runs on an execution node in front of `ansible-runner worker` and stops the run there when the controller stops.

worker.py sends this file's text with the SSH command (`python3 -c`): the node has Python, ansible-runner and
ansible-core, nothing of rb2ansible, so it imports nothing else. It passes the job on to the worker; when its own
input ends while the worker still runs (Ctrl-C on the controller, the controller killed, the connection lost),
it SIGTERMs the worker, on which ansible-runner cancels the run and streams its end back, then SIGKILLs every
process the run still has: ansible-runner kills ansible-playbook's process group only, and Ansible's forks start
sessions of their own, so their modules (and what those started) would otherwise run on unwatched.
"""

from __future__ import annotations  # the node's Python may be older than the controller's

import os
import signal
import subprocess
import sys
import threading
import time

CANCEL_SECONDS = 30  # for ansible-runner to cancel and report before the rest is killed


def process_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, start time): the start time tells a process from a later one given the same pid."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            table[int(entry)] = (int(fields[1]), fields[19])
        except (OSError, IndexError, ValueError):
            continue  # ended while being read
    return table


def descendants(roots: dict[int, str]) -> dict[int, str]:
    """Every process below `roots` (pid -> start time), roots included while they still live."""
    table = process_table()
    found = {pid: started for pid, started in roots.items() if table.get(pid, (0, ""))[1] == started}
    todo = list(found)
    while todo:
        parent = todo.pop()
        for pid, (ppid, started) in table.items():
            if ppid == parent and pid not in found:
                found[pid] = started
                todo.append(pid)
    return found


def stop(worker: subprocess.Popen) -> None:
    run = descendants({worker.pid: process_table().get(worker.pid, (0, ""))[1]})
    deadline = time.monotonic() + CANCEL_SECONDS
    while worker.poll() is None and time.monotonic() < deadline:
        worker.send_signal(signal.SIGTERM)  # again each second: the first may come before ansible-runner listens
        try:
            worker.wait(1)
        except subprocess.TimeoutExpired:
            pass
    # Taken again: what the run started meanwhile is below the processes seen first, even once they lost
    # their parent; a pid whose start time changed is another process and is left alone.
    for pid in descendants(run):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def pass_input(worker: subprocess.Popen, stopping: threading.Event) -> None:
    try:
        for chunk in iter(lambda: os.read(0, 65536), b""):
            worker.stdin.write(chunk)
            worker.stdin.flush()
    except OSError:
        pass  # the worker stopped reading: it has its job, or it failed, which it reports itself
    if worker.poll() is None:
        stopping.set()
        stop(worker)


def main() -> int:
    try:
        worker = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE)
    except OSError as error:
        sys.stderr.write(f"{sys.argv[1]}: {error.strerror}\n")
        return 127
    stopping = threading.Event()
    passing = threading.Thread(target=pass_input, args=(worker, stopping), daemon=True)
    passing.start()
    code = worker.wait()
    if stopping.is_set():
        passing.join()  # the worker has ended; what it left is being killed
    return 128 - code if code < 0 else code  # killed by signal N: 128 + N, as a shell says it


if __name__ == "__main__":
    sys.exit(main())
