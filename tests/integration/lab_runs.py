"""Small helpers for runs on lab hosts: markers, per-host statuses and times, runs under a real terminal."""

from __future__ import annotations

import os
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pexpect

from tests.integration.conftest import task


def new_marker() -> str:
    """Digits that make a command line unique to one test, e.g. `sleep 30.<marker>`."""
    return str(uuid.uuid4().int)[:8]


def statuses(results: dict, name: str) -> dict[str, str]:
    """host -> status of the task called name."""
    for entry in results["tasks"]:
        if entry["name"] == name:
            return {host: result["status"] for host, result in entry["results"].items()}
    raise KeyError(name)


def seconds(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp).timestamp()


def interval(results: dict, name: str, host: str) -> tuple[float, float]:
    """When the task really ran on host, as (start, end) in epoch seconds."""
    result = task(results, name, host)
    return seconds(result["start"]), seconds(result["end"])


def host_interval(results: dict, host: str) -> tuple[float, float]:
    """From the first start to the last end of all the tasks that ran on host."""
    spans = [interval(results, entry["name"], host) for entry in results["tasks"]]
    return min(start for start, _ in spans), max(end for _, end in spans)


def everything_printed(done) -> str:
    return done.stdout + done.stderr


def rb2ansible_script() -> str:
    return str(Path(sys.executable).parent / "rb2ansible")


@dataclass
class TerminalRun:
    code: int
    transcript: str  # everything the terminal showed, prompts included
    seconds: float


def run_at_terminal(args: list[str], answers: list[tuple[str, str]], timeout: float = 180) -> TerminalRun:
    """Run rb2ansible under a real pseudo-terminal, answering each prompt (a regex) in turn."""
    started = time.monotonic()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    child = pexpect.spawn(rb2ansible_script(), args, env=env, encoding="utf-8", codec_errors="replace",
                          dimensions=(50, 200), timeout=timeout)
    transcript: list[str] = []
    try:
        for prompt, answer in answers:
            child.expect(prompt)
            transcript.append(child.before + child.after)
            child.sendline(answer)
        child.expect(pexpect.EOF)
        transcript.append(child.before)
    finally:
        child.close(force=True)
    return TerminalRun(child.exitstatus if child.exitstatus is not None else -1, "".join(transcript),
                       time.monotonic() - started)


@dataclass
class InterruptedRun:
    code: int
    stdout: str
    stderr: str
    seconds_to_stop: float  # from SIGINT to exit
    report: dict


def interrupt_when(command: list[str], results: Path, ready, what: str, timeout: float = 90) -> InterruptedRun:
    """Start `rb2ansible run`, send SIGINT once ready() holds, and collect how it ended."""
    import json
    import signal
    import subprocess

    from tests.lab.processes import wait_until

    process = subprocess.Popen([*command, "--results", str(results)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        wait_until(ready, timeout, what)
        interrupted_at = time.monotonic()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
        stopped = time.monotonic() - interrupted_at
    finally:
        process.kill()
    return InterruptedRun(process.returncode, stdout, stderr, stopped, json.loads(results.read_text()))


def two_sleepers(marker: str, afterwards: str, hosts: str | None = None) -> str:
    """A runbook to interrupt: two `sleep 30.<marker>N` children in parallel, then a task that
    must never run (it creates the file `afterwards`)."""
    return (f"name: interrupt me\n{f'hosts: {hosts}' + chr(10) if hosts else ''}tasks:\n"
            "- name: together\n  parallel:\n"
            f"  - name: first sleeper\n    shell: sleep 30.{marker}1\n"
            f"  - name: second sleeper\n    shell: sleep 30.{marker}2\n"
            f"- name: afterwards\n  shell: touch {afterwards}\n")
