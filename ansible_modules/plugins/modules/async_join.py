#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, rb2ansible contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible module that waits for, or kills, all async jobs of one parallel round in one run."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: async_join
short_description: Wait for (or kill) several async jobs in one round trip
version_added: "0.1.0"
description:
  - Joins background jobs started with C(async) and C(poll=0) on the target host. One run of this
    module watches every job file locally on the target, so a parallel round costs one
    connection round trip instead of one M(ansible.builtin.async_status) poll per job.
  - In O(mode=wait) it returns when every job has finished (or O(timeout) expired). It never fails
    because a job failed; failed jobs are listed in RV(failed_jobs) so a later task can decide.
  - In O(mode=kill) it terminates every process of each job (the async wrapper, the module and
    anything the module started) with SIGTERM, then SIGKILL, and removes the job files.
  - Jobs are identified by the C(ansible_job_id) (or the C(results_file)) that the launching task
    registered. An empty value means the job was never launched (its task was skipped).
options:
  jobs:
    description:
      - Map of a caller-chosen key to the async job id (C(ansible_job_id)) or the absolute path of the
        job's results file (C(results_file)) from the launching task's registered result, or to that
        whole registered result.
      - An empty value (or a registered result without a job id) marks a job that was never launched;
        it is reported with C(skipped=true). A registered result with C(failed=true) is reported failed.
    type: dict
    required: true
  mode:
    description:
      - V(wait) waits for every job and returns their results.
      - V(kill) kills the jobs' processes and returns what is known about each job.
    type: str
    choices: [wait, kill]
    default: wait
  timeout:
    description:
      - Seconds to wait in O(mode=wait); V(0) waits as long as needed (each job has its own async
        limit, after which async_wrapper kills it and records a result).
      - Jobs still running when it expires are returned with C(finished=false), listed in
        RV(unfinished_jobs) and RV(failed_jobs), and their job files are kept so O(mode=kill) can find them.
    type: int
    default: 0
  cleanup:
    description:
      - Remove each job file once its final result has been read (or the job was killed).
    type: bool
    default: true
  run_id:
    description:
      - Only with O(mode=kill). Also kill every async job whose async_wrapper runs with the environment
        variable E(RB2A_RUN_ID) set to this value (give it to the launching tasks with C(environment)),
        whether or not it is in O(jobs). This catches jobs launched just as a run was interrupted,
        whose ids the caller never saw. They are reported under their job id.
      - Needs C(/proc) and permission to read the jobs' environment (same user, or root).
    type: str
  async_dir:
    description:
      - Directory holding the job files, as the C(async_dir) shell option (C(ansible_async_dir)) of the
        launching tasks. Not needed when O(jobs) gives results file paths.
      - Defaults to the E(ANSIBLE_ASYNC_DIR) environment variable on the target, else C(~/.ansible_async),
        which is what async_wrapper itself uses.
    type: path
attributes:
  check_mode:
    support: full
    details: Jobs launched in check mode really run, so the module waits for or kills them the same way.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
notes:
  - Run this module as the user the launching tasks became, so it sees the same async directory
    (under that user's home) and may signal the jobs' processes. When a round mixes users, run it as
    root and give results file paths, which name each job's file wherever it is.
  - Process discovery uses C(/proc) and falls back to C(ps).
seealso:
  - module: ansible.builtin.async_status
author:
  - rb2ansible contributors
"""

EXAMPLES = r"""
- name: Start a job in the background
  ansible.builtin.shell: sleep 2
  async: 60
  poll: 0
  register: rb2a_t1

- name: Start a job that may be skipped
  ansible.builtin.command: /usr/bin/true
  async: 60
  poll: 0
  when: false
  register: rb2a_t2

- name: Wait for both jobs
  rb2ansible.runbook.async_join:
    jobs:
      t1: "{{ rb2a_t1.ansible_job_id | default('') }}"
      t2: "{{ rb2a_t2.ansible_job_id | default('') }}"
  register: rb2a_join_1

- name: Kill the jobs of a round
  rb2ansible.runbook.async_join:
    mode: kill
    jobs:
      t1: "{{ rb2a_t1.ansible_job_id | default('') }}"
"""

RETURN = r"""
jobs:
  description:
    - Per key, the job's own module result, normalised with the keys below.
    - A job that timed out has C(failed=true), C(timed_out=true) and a C(msg) saying it timed out.
  returned: always
  type: dict
  contains:
    finished:
      description: Whether the job ended and left a result.
      type: bool
    failed:
      description: Whether the job failed (or was killed, lost or never finished).
      type: bool
    changed:
      description: The job's own changed flag.
      type: bool
    skipped:
      description: Present and true when the job was never launched.
      type: bool
    start:
      description: UNIX time the job's own run started, null when unknown.
      type: float
    end:
      description: UNIX time the job's own run ended, null when unknown.
      type: float
    rc:
      description: Return code, when the job's module gave one.
      type: int
    stdout:
      description: Standard output, when the job's module gave one.
      type: str
    stderr:
      description: Standard error, when the job's module gave one.
      type: str
    msg:
      description: The job's message, when it gave one.
      type: str
  sample:
    t1: {finished: true, failed: false, changed: true, rc: 0, stdout: hi, stderr: "",
         start: 1795237847.48, end: 1795237850.49}
    t2: {skipped: true, finished: false, failed: false, changed: false, start: null, end: null}
failed_jobs:
  description: Sorted keys of the jobs that failed, were killed or did not finish.
  returned: always
  type: list
  elements: str
unfinished_jobs:
  description: Sorted keys of the jobs still running when O(timeout) expired.
  returned: when O(mode=wait)
  type: list
  elements: str
killed:
  description: Sorted keys of the jobs that were killed before they finished.
  returned: when O(mode=kill)
  type: list
  elements: str
stopped_processes:
  description:
    - How many other processes carrying E(RB2A_RUN_ID) set to O(run_id) were killed, with their
      descendants (the foreground work of an interrupted run, when the play sets that variable).
  returned: when O(mode=kill) and O(run_id) is given
  type: int
"""

import datetime
import glob
import json
import os
import shutil
import signal
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rb2ansible.runbook.plugins.module_utils.job_processes import (
    JobTree,
    RunTree,
    find_wrappers,
    kill_until_gone,
    process_table,
    run_job_bases,
    wrapper_argv_index,
)

POLL_INTERVAL = 0.1  # between looks at the job files: cheap local stat/reads
LIVENESS_INTERVAL = 1.0  # between process-table scans that detect jobs which died without a result
TERM_GRACE = 2.0  # seconds a job gets to exit on SIGTERM before SIGKILL
KILL_GRACE = 3.0  # seconds to see SIGKILLed processes gone
RUN_ID_VAR = "RB2A_RUN_ID"
TIMEOUT_MSG = "Timeout exceeded"  # what async_wrapper's watcher records when it kills a job at its limit


def local_epoch(value):
    """UNIX time of a naive local datetime string as command/shell report start and end."""
    if not isinstance(value, str) or not value:
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            parsed = datetime.datetime.strptime(value, fmt)
        except ValueError:
            continue
        return time.mktime(parsed.timetuple()) + parsed.microsecond / 1e6
    return None


def _is_start_record(record):
    # async_wrapper writes {"started": true, "finished": false, ...} just before it runs the module
    # (1 and 0 before ansible-core 2.19), then replaces it with the module's result.
    return "started" in record and not record.get("finished")


class Job:
    """One job to join: where its file is and what has been seen of it."""

    def __init__(self, ref, async_dir):
        self.ref = ref
        if os.path.isabs(self.ref):
            self.path, self.jid = self.ref, os.path.basename(self.ref)
        else:
            self.jid, self.path = self.ref, os.path.join(async_dir, self.ref)
        self.observed_start = None  # mtime of the "started" record, if we catch it before the result
        self.unseen_scans = 0  # consecutive process scans without a wrapper of this job

    def invalid(self):
        return self.jid in ("", ".", "..") or os.sep in self.jid

    def read(self):
        """(record, mtime) of the job file; (None, None) while it is missing or unreadable."""
        try:
            with open(self.path) as f:
                mtime = os.fstat(f.fileno()).st_mtime
                record = json.loads(f.read())
        except (OSError, ValueError):
            return None, None
        return (record, mtime) if isinstance(record, dict) else (None, None)

    def poll(self):
        """The final result if the job has one, else None (remembering when it started)."""
        record, mtime = self.read()
        if record is None:
            return None
        if _is_start_record(record):
            if self.observed_start is None:
                self.observed_start = mtime
            return None
        return self.finish(record, mtime)

    def finish(self, record, mtime):
        result = dict(record)
        result.update(ansible_job_id=self.jid, results_file=self.path, finished=True,
                      failed=bool(record.get("failed")), changed=bool(record.get("changed")))
        if result["failed"] and record.get("msg") == TIMEOUT_MSG and "child_pid" in record:
            result.update(timed_out=True,
                          msg="timed out: the job ran past its async time limit and was killed")
        start = local_epoch(record.get("start"))
        end = local_epoch(record.get("end"))
        result["start"] = start if start is not None else self.observed_start
        result["end"] = end if end is not None else mtime
        return result

    def unfinished(self, msg, **extra):
        result = dict(ansible_job_id=self.jid, results_file=self.path, finished=False, failed=True,
                      changed=False, msg=msg, start=self.observed_start, end=None)
        result.update(extra)
        return result

    def remove_files(self):
        for path in (self.path, self.path + ".tmp"):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass


def warning_text(warning):
    """Text of a job's warning: a string, or (ansible-core 2.19) a serialised WarningSummary."""
    if isinstance(warning, dict):
        event = warning.get("event")
        warning = event.get("msg") if isinstance(event, dict) else warning.get("msg")
    return warning if isinstance(warning, str) else None


def make_job(value, async_dir):
    """The Job a jobs entry names, or the final result of an entry that names no job."""
    if isinstance(value, dict):  # the launching task's whole registered result
        if value.get("failed"):
            return dict(finished=False, failed=True, changed=False, start=None, end=None,
                        msg="the job did not start: %s" % value.get("msg", "launch failed"))
        value = value.get("results_file") or value.get("ansible_job_id")
    job = Job("" if value is None else str(value).strip(), async_dir)
    if not job.ref:
        return dict(skipped=True, finished=False, failed=False, changed=False, start=None, end=None,
                    msg="never launched")
    if job.invalid():
        return job.unfinished("invalid job id %r" % job.ref)
    return job


def run_jobs(run_id, known, async_dir):
    """{job id: Job} of the running jobs launched with RB2A_RUN_ID=run_id that are not in known."""
    found = {}
    known_bases = {job.jid.rsplit(".", 1)[0] for job in known}
    for base in run_job_bases(process_table(), RUN_ID_VAR, run_id):
        if base in known_bases:
            continue
        # the job file is "<base>.<launcher pid>"; it may not be written yet
        files = sorted(glob.glob(os.path.join(glob.escape(async_dir), base + ".*[0-9]")))
        job = Job(files[0] if files else base, async_dir)
        found[job.jid] = job
    return found


def wait_for(jobs, timeout):
    """Poll the job files until each job has a result; returns (results, keys still running).

    While waiting, each job's processes are followed (sessions, groups, descendants), so when
    async_wrapper kills a job at its time limit, whatever escaped its kill is killed here too.
    """
    results, pending = {}, dict(jobs)
    trees = {key: JobTree(job.jid) for key, job in jobs.items()}
    _follow(trees, pending)
    deadline = time.monotonic() + timeout if timeout > 0 else None
    next_liveness = time.monotonic() + LIVENESS_INTERVAL
    while pending:
        for key, job in list(pending.items()):
            result = job.poll()
            if result is not None:
                results[key] = result
                del pending[key]
                if result.get("timed_out"):
                    # The wrapper kills only the job's process group, which children created before
                    # that group was set up can miss: they go too, so a timed-out job is really gone.
                    kill_until_gone([trees[key]], signal.SIGKILL, KILL_GRACE)
        if not pending:
            break
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            for key, job in pending.items():
                results[key] = job.unfinished("still running when the join gave up after %ds" % timeout)
            return results, sorted(pending)
        if now >= next_liveness:
            _follow(trees, pending)
            _collect_lost(pending, results)
            next_liveness = now + LIVENESS_INTERVAL
        time.sleep(POLL_INTERVAL)
    return results, []


def _follow(trees, pending):
    """Remember the processes of the running jobs (a scan records their sessions and groups)."""
    procs = process_table()
    if procs is not None:
        for key in pending:
            trees[key].scan(procs)


def _collect_lost(pending, results):
    """Move jobs that have no process left and still no result from pending to results."""
    procs = process_table()
    if procs is None:  # cannot tell; rely on the job's own async limit and our timeout
        return
    for key, job in list(pending.items()):
        # one scan can miss a wrapper that is mid-fork while it daemonises, so ask for two
        job.unseen_scans = 0 if find_wrappers(procs, job.jid) else job.unseen_scans + 1
        if job.unseen_scans < 2:
            continue
        result = job.poll()  # the wrapper may have written its result just before exiting
        if result is None:
            record, _ = job.read()
            msg = ("job ended without leaving a result" if record is not None
                   else "could not find job file %s (wrong async_dir, or already cleaned up?)" % job.path)
            result = job.unfinished(msg)
        results[key] = result
        del pending[key]


def kill_jobs(jobs):
    """Kill every process of the jobs; returns ({key: result}, killed keys, {key: surviving pids})."""
    keys = list(jobs)
    for job in jobs.values():
        job.poll()  # catches the "started" record, whose mtime is when the job began
    trees = [JobTree(jobs[key].jid) for key in keys]
    procs = process_table()
    # What ran before any signal: the runner (the wrapper that leads its own process group) alive
    # means the job has no result yet; a finished job may still have its watcher asleep.
    running = [bool(tree.scan(procs)) and any(p.pgid == p.pid for p in tree.wrappers) for tree in trees]
    left = kill_until_gone(trees, signal.SIGTERM, TERM_GRACE)
    if left:
        left = kill_until_gone(trees, signal.SIGKILL, KILL_GRACE)
    results, killed, survivors = {}, [], {}
    for i, key in enumerate(keys):
        job, tree = jobs[key], trees[i]
        for tmpdir in filter(None, (_wrapper_tmpdir(p.argv, job.jid) for p in tree.wrappers)):
            shutil.rmtree(tmpdir, ignore_errors=True)  # the killed watcher would have removed it at the end
        record, mtime = job.read()
        if not running[i] and record is not None and not _is_start_record(record):
            results[key] = job.finish(record, mtime)
        elif running[i] or tree.wrappers:
            results[key] = job.unfinished("killed before it finished", killed=True, end=time.time())
            killed.append(key)
        else:
            results[key] = job.unfinished("no process of the job was running and it left no result")
        if i in left:
            survivors[key] = left[i]
            results[key].update(failed=True, msg="could not kill processes %s of the job" % left[i])
    return results, sorted(killed), survivors


def stop_run_processes(run_id):
    """Kill what is left of the run in the foreground (its module, the commands it started):
    every process carrying RB2A_RUN_ID=run_id. Returns how many there were."""
    tree = RunTree(RUN_ID_VAR, run_id)
    found = len(tree.scan(process_table() or []))
    if found and kill_until_gone([tree], signal.SIGTERM, TERM_GRACE):
        kill_until_gone([tree], signal.SIGKILL, KILL_GRACE)
    return found


def _wrapper_tmpdir(argv, jid):
    """The module tmp dir async_wrapper removes when its job ends, if it would remove it."""
    i = wrapper_argv_index(argv, jid)
    if i < 0 or len(argv) < i + 4 or argv[-1] == "-preserve_tmp":
        return None
    tmpdir = os.path.dirname(argv[i + 3])
    return tmpdir if os.path.basename(tmpdir).startswith("ansible-tmp-") else None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            jobs=dict(type="dict", required=True),
            mode=dict(type="str", default="wait", choices=["wait", "kill"]),
            run_id=dict(type="str"),
            timeout=dict(type="int", default=0),
            cleanup=dict(type="bool", default=True),
            async_dir=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    # where async_wrapper itself puts job files when the caller does not say
    async_dir = params["async_dir"] or os.environ.get("ANSIBLE_ASYNC_DIR", "~/.ansible_async")
    async_dir = os.path.expanduser(async_dir)
    results, jobs = {}, {}
    for key, value in params["jobs"].items():
        job_or_result = make_job(value, async_dir)
        if isinstance(job_or_result, Job):
            jobs[str(key)] = job_or_result
        else:
            results[str(key)] = job_or_result

    extra, survivors = {}, {}
    if params["mode"] == "wait":
        finished, unfinished = wait_for(jobs, params["timeout"])
        results.update(finished)
        extra["unfinished_jobs"] = unfinished
        done = [key for key in finished if key not in unfinished]
    else:
        if process_table() is None:
            module.fail_json(msg="cannot list processes on this host (no /proc, no ps), so cannot kill jobs")
        if params["run_id"]:
            jobs.update(run_jobs(params["run_id"], jobs.values(), async_dir))
        killed_results, extra["killed"], survivors = kill_jobs(jobs)
        results.update(killed_results)
        if params["run_id"]:
            extra["stopped_processes"] = stop_run_processes(params["run_id"])
        done = [key for key in jobs if key not in survivors]
    if params["cleanup"]:
        for key in done:
            jobs[key].remove_files()

    for key in sorted(results):
        # nested in our result, a job's warnings would never be shown
        warnings = results[key].get("warnings") or []
        for warning in [warnings] if isinstance(warnings, str) else warnings:
            text = warning_text(warning)
            if text:
                module.warn("%s: %s" % (key, text))
    failed_jobs = sorted(key for key, res in results.items() if res.get("failed"))
    changed = any(res.get("changed") for res in results.values()) or bool(extra.get("killed"))
    if survivors:
        module.fail_json(msg="some processes of the jobs survived SIGKILL: %s" % survivors,
                         jobs=results, failed_jobs=failed_jobs, changed=changed, **extra)
    module.exit_json(jobs=results, failed_jobs=failed_jobs, changed=changed, **extra)


if __name__ == "__main__":
    main()
