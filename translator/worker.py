"""Runs a private data directory on execution nodes over SSH with ansible-runner's streaming protocol, sliced.

The controller packs the directory (`transmit`), `ansible-runner worker` on the node runs it, and the events it
streams back are read here (`process`), as AWX does through Receptor. The node needs ansible-runner and
ansible-core only: the helper collections, roles and files travel inside the directory.
"""

from __future__ import annotations

import io
import re
import shlex
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import yamlout
from .errors import AnsibleRefused, UsageError
from .project import PROMPT_OPTIONS, PROMPT_PATTERNS, PrivateDir, RunSettings

# Files a run adds to the copy it transmits (never to the directory a user keeps), named from project/.
RUN_FILES = "env/rb2ansible-run"
RunFiles = dict[str, Path | str]  # a name in RUN_FILES -> the file to copy there, or the text to write
# After Ctrl-C the node's worker has this many seconds to cancel and stream its end back; then the SSH
# session is cut.
STOP_GRACE = 60
# Sent with the SSH command and run by the node's python3 in front of `ansible-runner worker`: the controller
# keeps its input open for the whole run and closes it to stop the run.
NODE_GUARD = Path(__file__).with_name("node_guard.py")


@dataclass(frozen=True)
class WorkerNode:
    """An execution node: `ssh://[user@]node[:port]`."""

    host: str
    user: str | None = None
    port: int | None = None

    @classmethod
    def parse(cls, url: str) -> WorkerNode:
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.scheme != "ssh" or not parts.hostname or port == -1 or parts.path not in ("", "/") \
                or parts.password or parts.query or parts.fragment:
            raise UsageError(f"--worker {url}: expected ssh://[user@]node[:port]")
        return cls(parts.hostname, parts.username, port)

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ssh://{user}{host}{'' if self.port is None else f':{self.port}'}"


@dataclass(frozen=True)
class Workers:
    """Where a run executes: its nodes, how to reach them, and how many slices the inventory is cut into."""

    nodes: tuple[WorkerNode, ...]
    ssh_args: tuple[str, ...] = ()
    slices: int = 1
    runner: str = "ansible-runner"

    def ssh(self, node: WorkerNode, command: str) -> list[str]:
        # BatchMode: a node that wants a password or an unknown host key fails instead of waiting for an
        # answer nobody types; host keys are checked as the user's ssh config says.
        argv = ["ssh", "-o", "BatchMode=yes", *self.ssh_args]
        if node.port is not None:
            argv += ["-p", str(node.port)]
        if node.user:
            argv += ["-l", node.user]
        return [*argv, "--", node.host, command]

    def node_for(self, slice_number: int) -> WorkerNode:
        return self.nodes[slice_number % len(self.nodes)]


def slice_hosts(hosts: list[str], slices: int) -> list[list[str]]:
    """AWX's job slicing: over the play's hosts sorted by name, host i goes to slice i mod N. Empty slices
    (fewer hosts than slices) are left out."""
    ordered = sorted(hosts)
    cut = [ordered[number::slices] for number in range(slices)]
    return [part for part in cut if part]


def play_hosts(list_hosts_output: str) -> list[str]:
    """The hosts `ansible-playbook --list-hosts` prints under `hosts (N):` (in no particular order)."""
    hosts, listing = [], False
    for line in list_hosts_output.splitlines():
        if re.match(r"^\s+hosts \(\d+\):", line):
            listing = True
        elif listing and line.strip() and line.startswith(" " * 6):
            hosts.append(line.strip())
        else:
            listing = False
    return hosts


def stage(private_dir: Path, target: Path, run_files: RunFiles) -> Path:
    """A copy of the private directory to transmit, with the run's own files (held-back variables, password
    files) added under env/rb2ansible-run/: they go to the node with the run, never into the kept directory."""
    shutil.copytree(private_dir, target, symlinks=True)
    folder = target / RUN_FILES
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name, content in run_files.items():
        path = folder / name
        if isinstance(content, Path):
            shutil.copy2(content, path)  # a vault password script stays executable: it runs on the node
        else:
            path.write_text(content)
        path.chmod(path.stat().st_mode & 0o700 | 0o600)
    return target


def run_file(name: str) -> str:
    """How ansible-playbook, running in project/, names a file added by stage()."""
    return f"../{RUN_FILES}/{name}"


@dataclass
class StreamedRun:
    """What came back from one node, shaped as ansible-runner's Runner where execute() reads it."""

    node: WorkerNode
    hosts: list[str] | None  # the slice's hosts; None: all the play's
    status: str
    rc: int | None
    stdout: io.StringIO
    explanation: str = ""
    directory: Path | None = None  # the staged copy it was sent, reused to send the cleanup
    options: dict[str, Any] = field(default_factory=dict)  # the run's options without its --limit

    def covers(self, host: str) -> bool:
        return self.hosts is None or host in self.hosts


def run_on_node(workers: Workers, node: WorkerNode, directory: Path, runner_options: dict[str, Any],
                on_event: Callable[[dict], Any], interrupt: threading.Event, artifacts: Path) -> StreamedRun:
    """Transmit `directory` to `ansible-runner worker` on `node`, hand each returned event to on_event, and
    stop the worker (and the playbook it runs) when `interrupt` is set."""
    import ansible_runner

    command = shlex.join(["python3", "-c", NODE_GUARD.read_text(), workers.runner, "worker"])
    # A session of its own: the terminal's Ctrl-C is rb2ansible's to handle, not ssh's to die of.
    ssh = subprocess.Popen(workers.ssh(node, command), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, start_new_session=True)
    said: list[bytes] = []
    reader = threading.Thread(target=lambda: said.extend(ssh.stderr), daemon=True)
    reader.start()
    threading.Thread(target=_stop_when_interrupted, args=(ssh, interrupt), daemon=True).start()
    try:
        # A cancel_callback, even unused, keeps ansible-runner from taking over this process's SIGINT handler.
        ansible_runner.run(private_data_dir=str(directory), streamer="transmit", _output=ssh.stdin,
                           cancel_callback=interrupt.is_set, **runner_options)
    except (OSError, ValueError):
        pass  # the connection failed, or Ctrl-C closed it: said below, from ssh's own words or the status
    statuses: list[dict] = []
    artifact_dir = artifacts / "streamed"  # the worker's artifacts, as ansible-runner run would leave them
    ansible_runner.run(private_data_dir=str(artifacts), streamer="process", _input=ssh.stdout, quiet=True,
                       artifact_dir=str(artifact_dir), event_handler=on_event, cancel_callback=interrupt.is_set,
                       status_handler=lambda data, runner_config: statuses.append(data))
    _close(ssh.stdin)  # the run has ended: the node's guard sees its input end with nothing left to stop
    ssh.stdout.close()
    ssh.wait()
    reader.join()
    stdout = artifact_dir / "stdout"
    rc_file = artifact_dir / "rc"
    final = statuses[-1] if statuses else {}
    status = final.get("status", "error")
    explanation = final.get("job_explanation", "")
    if status == "error" or ssh.returncode == 255:
        words = b"".join(said).decode(errors="replace").strip()
        explanation = "; ".join(part for part in (words, explanation) if part)
        status = "error"
    rc = rc_file.read_text().strip() if rc_file.is_file() else ""
    return StreamedRun(node, None, status, int(rc) if rc.lstrip("-").isdigit() else None,
                       io.StringIO(stdout.read_text(errors="replace") if stdout.is_file() else explanation),
                       explanation)


def _stop_when_interrupted(ssh: subprocess.Popen, interrupt: threading.Event) -> None:
    """On Ctrl-C, end the node's input: its guard stops the worker, which streams its end back; cut the
    connection if that has not come within STOP_GRACE seconds."""
    while ssh.poll() is None:
        if interrupt.wait(1):
            break
    if ssh.poll() is not None:
        return
    _close(ssh.stdin)
    try:
        ssh.wait(STOP_GRACE)
    except subprocess.TimeoutExpired:
        ssh.kill()


def _close(stream) -> None:
    try:
        stream.close()
    except OSError:
        pass  # ssh has gone already


def run_sliced(workers: Workers, written: PrivateDir, settings: RunSettings, internal_vars: dict[str, Any],
               on_event: Callable[[dict], Any], interrupt: threading.Event, artifacts: Path,
               list_hosts: Callable[[], str]) -> list[StreamedRun]:
    """Run the written private directory on the workers: in one piece, or cut into slices run at once, slice k
    on node k mod W (as AWX runs a sliced job template's jobs on its execution nodes)."""
    run_files, cmdline, options = transmitted_run(written, settings, internal_vars)
    directory = stage(written.path, artifacts / "transmit", run_files)
    if workers.slices == 1:
        slices: list[list[str] | None] = [None]
    else:
        hosts = play_hosts(list_hosts())
        slices = list(slice_hosts(hosts, workers.slices)) or [None]
    outcomes: list[StreamedRun | BaseException | None] = [None] * len(slices)

    def one(number: int) -> None:
        hosts = slices[number]
        limit = ["--limit", ",".join(hosts)] if hosts is not None else []  # the last --limit is Ansible's
        slice_options = {**options, "cmdline": shlex.join([*cmdline, *limit])}
        try:
            run = run_on_node(workers, workers.node_for(number), directory, slice_options, on_event, interrupt,
                              artifacts / f"slice-{number + 1}")
            outcomes[number] = replace(run, hosts=hosts, directory=directory, options=options)
        except BaseException as exc:  # raised again below, in the caller's thread
            outcomes[number] = exc

    threads = [threading.Thread(target=one, args=(number,), daemon=True) for number in range(len(slices))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return [outcome for outcome in outcomes if isinstance(outcome, StreamedRun)]


def transmitted_run(written: PrivateDir, settings: RunSettings,
                    internal_vars: dict[str, Any]) -> tuple[RunFiles, list[str], dict[str, Any]]:
    """What a local run adds in memory (held-back -e values and files, vault password files, the run id),
    as files that travel with the transmitted copy and an ansible-playbook command line naming them there.
    Passwords typed at a prompt travel in ansible-runner's job arguments, over the SSH channel only."""
    secrets = written.secrets
    files: RunFiles = {"run-vars.yml": yamlout.document({**secrets.withheld_values, **internal_vars})}
    cmdline = list(written.recorded_cmdline())
    for number, path in enumerate(secrets.withheld_files, start=1):
        files[f"extra-{number:02d}-{Path(path).name}"] = Path(path)
        cmdline += ["-e", "@" + run_file(f"extra-{number:02d}-{Path(path).name}")]
    for number, path in enumerate(settings.vault_password_files, start=1):
        files[f"vault-{number:02d}-{path.name}"] = path
        cmdline += ["--vault-password-file", run_file(f"vault-{number:02d}-{path.name}")]
    for number, vault_id in enumerate(settings.vault_ids, start=1):
        label, at, source = vault_id.rpartition("@")
        if source.startswith("prompt"):
            cmdline += ["--vault-id", vault_id]
            continue
        name = f"vault-id-{number:02d}-{Path(source).name}"
        files[name] = Path(source)
        cmdline += ["--vault-id", f"{label}{at}{run_file(name)}"]
    cmdline += [PROMPT_OPTIONS[kind] for kind in sorted(settings.prompt_answers)]
    cmdline += ["-e", "@" + run_file("run-vars.yml")]
    options: dict[str, Any] = {"playbook": "site.yml", "ident": "run", "quiet": True, "suppress_env_files": True,
                               "cmdline": shlex.join(cmdline)}
    if settings.prompt_answers:
        options["passwords"] = {PROMPT_PATTERNS[kind]: answer for kind, answer in settings.prompt_answers.items()}
    return files, cmdline, options


def stop_on_node(workers: Workers, run: StreamedRun, play: str, artifacts: Path) -> None:
    """Send the cleanup playbook to the node that ran the slice, with the run's variables and passwords;
    its artifacts go to `artifacts`."""
    from .execute import CLEANUP_PLAYBOOK

    if run.directory is None:
        return
    (run.directory / "project" / CLEANUP_PLAYBOOK).write_text(play)
    cmdline = shlex.split(run.options.get("cmdline", ""))
    # Only what lets Ansible reach the hosts: a --limit, --tags or --check must not keep a process alive.
    kept = _credentials_only(cmdline)
    options = {**run.options, "playbook": CLEANUP_PLAYBOOK, "ident": "cleanup", "cmdline": shlex.join(kept)}
    run_on_node(workers, run.node, run.directory, options, lambda event: True, threading.Event(), artifacts)


def _credentials_only(cmdline: list[str]) -> list[str]:
    kept, words = [], iter(cmdline)
    for word in words:
        if word in ("-e", "--vault-password-file", "--vault-id"):
            value = next(words, "")
            if word != "-e" or value.startswith("@" + run_file("")):
                kept += [word, value]
        elif word in ("--ask-pass", "--ask-become-pass", "--ask-vault-pass"):
            kept.append(word)
    return kept


def combined(runs: list[StreamedRun]) -> StreamedRun:
    """The slices' outcomes as one run: failed if any failed, canceled if any was, the worst exit code."""
    statuses = [run.status for run in runs]
    status = next((worst for worst in ("error", "canceled", "timeout", "failed") if worst in statuses),
                  "successful")
    codes = [run.rc for run in runs if run.rc is not None]
    text = "\n".join(f"--- {run.node}\n{run.stdout.getvalue()}" if len(runs) > 1 else run.stdout.getvalue()
                     for run in runs)
    return StreamedRun(runs[0].node, None, status, max(codes) if codes else None, io.StringIO(text),
                       "; ".join(run.explanation for run in runs if run.explanation))


def check_reached(runs: list[StreamedRun]) -> None:
    """A node that could not be reached, or could not start ansible-runner: the user's setup, said plainly."""
    failed = [run for run in runs if run.status == "error" and run.rc is None]
    if failed:
        raise AnsibleRefused("\n".join(
            f"worker {run.node} did not run the playbook: {run.explanation or 'no answer'}"
            + (" (is ansible-runner installed there? --worker-runner names its command)"
               if "not found" in run.explanation or "No such file" in run.explanation else "")
            for run in failed))
