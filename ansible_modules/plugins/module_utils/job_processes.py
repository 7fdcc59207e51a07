# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rb2ansible contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Finding and killing the processes of an ansible async job on the target (stdlib only)."""

from __future__ import annotations

import os
import subprocess
import time

# How async_wrapper (ansible-core 2.16 to 2.19) lays out a job whose id is "<base>.<launcher pid>":
# the launcher forks, the child daemonises (setsid, so a new session led by a short-lived
# process) and forks again into the *watcher*, which forks the *runner* and makes it lead its own
# process group. The runner writes the job file and runs the module as a subprocess; anything
# the module starts stays in that group and session unless it moves itself. Watcher and runner
# keep the wrapper's argv: `python .../async_wrapper.py <base> <limit> <module path> <args|_>`.


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


def wrapper_argv_index(argv, jid):
    """Index of async_wrapper's script in argv when argv is the wrapper of job jid, else -1."""
    base = jid.rsplit(".", 1)[0]
    for i, arg in enumerate(argv[:-1]):
        if os.path.basename(arg).startswith("async_wrapper") and argv[i + 1] == base:
            return i
    return -1


def find_wrappers(procs, jid):
    return [p for p in procs if p.alive and wrapper_argv_index(p.argv, jid) >= 0]


def run_job_bases(procs, name, value):
    """Job id bases of the live async_wrappers started with environment variable name=value."""
    bases = set()
    for proc in procs:
        for i, arg in enumerate(proc.argv[:-1]):
            if (os.path.basename(arg).startswith("async_wrapper") and proc.alive
                    and proc.environ().get(name) == value):
                bases.add(proc.argv[i + 1])
    return sorted(bases)


class RunTree:
    """Every process started with environment variable name=value, and their descendants: the
    foreground work of an interrupted run, which no job file describes."""

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


class JobTree:
    """The processes of one job, followed across scans while its members exit and fork."""

    def __init__(self, jid):
        self.jid = jid
        self.wrappers = []  # from the first scan: what was running before anything was signalled
        self._sids, self._pgids = set(), set()
        self._scanned = False

    def scan(self, procs):
        """The job's live processes in this table; remembers its sessions and groups for later scans."""
        by_pid = {p.pid: p for p in procs}
        wrappers = find_wrappers(procs, self.jid)
        if not self._scanned:
            self.wrappers, self._scanned = wrappers, True
        wrapper_pids = {p.pid for p in wrappers}
        for proc in wrappers:
            # A wrapper that has not called setsid() yet still shares the launcher's session, so a
            # session counts only when its leader is a wrapper or already gone.
            if proc.sid in wrapper_pids or proc.sid not in by_pid:
                self._add(self._sids, proc.sid)
            if proc.pgid == proc.pid:
                self._add(self._pgids, proc.pgid)
        members = wrapper_pids | {p.pid for p in procs if p.sid in self._sids or p.pgid in self._pgids}
        # Descendants catch children that moved to a session or group of their own; those are
        # remembered too, so they are still found once their parent is gone.
        members = with_descendants(procs, members)
        for pid in members:
            if by_pid[pid].sid == pid:
                self._add(self._sids, pid)
            if by_pid[pid].pgid == pid:
                self._add(self._pgids, pid)
        members.discard(os.getpid())
        return [by_pid[pid] for pid in sorted(members) if by_pid[pid].alive]

    @staticmethod
    def _add(groups, number):
        if number > 1 and number not in (os.getsid(0), os.getpgid(0)):
            groups.add(number)


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
