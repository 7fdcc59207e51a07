# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rb2ansible contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Finding and killing the processes of one run on the target (stdlib only)."""

from __future__ import annotations

import os
import subprocess
import time


class Proc:
    """One entry of the process table."""

    def __init__(self, pid, ppid, pgid, sid, state, argv):
        self.pid, self.ppid, self.pgid, self.sid, self.state, self.argv = pid, ppid, pgid, sid, state, argv

    @property
    def alive(self):
        return self.state not in ("Z", "X")  # a zombie is dead, just not reaped (maybe never, by a lazy init)

    def environ(self):
        """The process's environment ({} when unreadable: another user's process, or no /proc)."""
        try:
            with open("/proc/%d/environ" % self.pid, "rb") as f:
                entries = f.read().decode("utf-8", "replace").split("\0")
        except OSError:
            return {}
        return dict(entry.split("=", 1) for entry in entries if "=" in entry)


def process_table():
    """All processes of the host, from /proc or else ps; None when neither is available."""
    if os.path.isdir("/proc/self"):
        return [p for p in (_proc_entry(int(name)) for name in os.listdir("/proc") if name.isdigit()) if p]
    try:
        out = subprocess.run(["ps", "-axo", "pid=,ppid=,pgid=,sess=,stat=,args="],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    rows = [line.split() for line in out.splitlines()]
    return [Proc(*[_int_or_zero(f) for f in row[:4]], row[4][:1], row[5:]) for row in rows if len(row) >= 5]


def _proc_entry(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().decode("utf-8", "replace").split("\0")[:-1]
    except OSError:  # exited meanwhile, or hidden from us
        return None
    # comm (field 2) may hold spaces and parentheses, so split after its last ")"
    fields = stat[stat.rindex(")") + 2:].split()
    return Proc(pid, int(fields[1]), int(fields[2]), int(fields[3]), fields[0], argv)


def _int_or_zero(text):
    try:
        return int(text)
    except ValueError:  # e.g. a session shown as an address; 0 is never trusted as a group
        return 0


class RunTree:
    """Every process started with environment variable name=value, and their descendants: what a run
    started, including async jobs, whose wrappers keep the environment they were started with."""

    def __init__(self, name, value):
        self.name, self.value = name, value
        self.spared = _self_and_ancestors()

    def scan(self, procs):
        by_pid = {p.pid: p for p in procs}
        marked = {p.pid for p in procs if p.alive and p.pid not in self.spared
                  and p.environ().get(self.name) == self.value}
        members = with_descendants(procs, marked) - self.spared
        return [by_pid[pid] for pid in sorted(members) if by_pid[pid].alive]


def with_descendants(procs, pids):
    """pids and every process below them in the table."""
    children = {}
    for proc in procs:
        children.setdefault(proc.ppid, []).append(proc.pid)
    members, todo = set(pids), list(pids)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in members:
                members.add(child)
                todo.append(child)
    return members


def _self_and_ancestors():
    pids, pid = set(), os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        entry = _proc_entry(pid)
        pid = entry.ppid if entry else 0
    return pids


def kill_until_gone(trees, signum, grace):
    """Signal the trees' processes, re-scanning for new ones, until none is left or grace ends.

    Returns {index of tree: [pids still alive]} (empty when all are gone).
    """
    deadline = time.monotonic() + grace
    empty_scans = 0
    while True:
        procs = process_table() or []
        alive = {i: members for i, members in enumerate(tree.scan(procs) for tree in trees) if members}
        # a scan can miss a process that is mid-fork while the wrapper daemonises; trust two in a row
        empty_scans = 0 if alive else empty_scans + 1
        if empty_scans >= 2:
            return {}
        if alive and time.monotonic() >= deadline:
            return {i: [p.pid for p in members] for i, members in alive.items()}
        for members in alive.values():
            for proc in members:
                try:
                    os.kill(proc.pid, signum)
                except (ProcessLookupError, PermissionError):
                    pass  # gone already, or reported as a survivor if it stays
        time.sleep(0.05)
