"""The execution-node part of `run` that needs no node: worker addresses, slicing, what travels with the run."""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from translator.errors import UsageError
from translator.project import RunSettings, write_project
from translator.worker import (
    RUN_FILES,
    WorkerNode,
    Workers,
    _credentials_only,
    play_hosts,
    slice_hosts,
    stage,
    transmitted_run,
)

# What ansible-playbook 2.19 prints for `--list-hosts` (its hosts come out of a set: in no order).
LIST_HOSTS = """
playbook: site.yml

  play #1 (nodes): sliced\tTAGS: []
    pattern: ['nodes']
    hosts (3):
      node3
      node1
      node2
"""


@pytest.mark.parametrize(("url", "node"), [
    ("ssh://node", WorkerNode("node")),
    ("ssh://root@node:2222", WorkerNode("node", "root", 2222)),
    ("ssh://deploy@[::1]:22", WorkerNode("::1", "deploy", 22)),
])
def test_worker_addresses_are_read_and_written_back_the_same(url, node):
    assert WorkerNode.parse(url) == node
    assert str(node) == url


@pytest.mark.parametrize("url", ["node", "http://node", "ssh://", "ssh://node:notaport", "ssh://a:secret@node",
                                 "ssh://node/path"])
def test_a_malformed_worker_address_is_a_usage_error(url):
    with pytest.raises(UsageError, match="expected ssh://"):
        WorkerNode.parse(url)


def test_ssh_command_line_puts_the_users_options_before_the_node_and_keeps_batch_mode():
    workers = Workers((WorkerNode("n1", "root", 2200),), ("-i", "/k", "-o", "UserKnownHostsFile=/kh"))
    assert workers.ssh(workers.nodes[0], "ansible-runner worker") == [
        "ssh", "-o", "BatchMode=yes", "-i", "/k", "-o", "UserKnownHostsFile=/kh", "-p", "2200", "-l", "root",
        "--", "n1", "ansible-runner worker"]


def test_slices_follow_awx_host_i_to_slice_i_mod_n_over_sorted_names():
    hosts = [f"node{n}" for n in (6, 2, 5, 1, 4, 3)]
    assert slice_hosts(hosts, 2) == [["node1", "node3", "node5"], ["node2", "node4", "node6"]]
    assert slice_hosts(hosts, 4) == [["node1", "node5"], ["node2", "node6"], ["node3"], ["node4"]]
    assert slice_hosts(["a", "b"], 3) == [["a"], ["b"]]  # no empty slice is run


def test_slice_k_runs_on_worker_k_mod_w():
    workers = Workers((WorkerNode("a"), WorkerNode("b")), slices=3)
    assert [workers.node_for(k).host for k in range(3)] == ["a", "b", "a"]


def test_the_play_hosts_are_read_from_list_hosts():
    assert play_hosts(LIST_HOSTS) == ["node3", "node1", "node2"]
    assert play_hosts("playbook: site.yml\n\n  play #1 (x): x\tTAGS: []\n    pattern: ['x']\n    hosts (0):\n") == []


def test_held_back_values_and_password_files_travel_in_the_staged_copy_only(compiled_hello, tmp_path):
    secret_file = tmp_path / "secret-vars.yml"
    secret_file.write_text("db_password: hunter2\n")
    vault_pass = tmp_path / "vault-pass"
    vault_pass.write_text("open sesame\n")
    settings = RunSettings(extravars={"api_token": "s3cr3t", "who": "you"}, extravar_files=(secret_file,),
                           vault_password_files=(vault_pass,), vault_ids=(f"prod@{vault_pass}",), limit="web*")
    written = write_project(compiled_hello, tmp_path / "kept", settings)

    files, cmdline, options = transmitted_run(written, settings, {"rb2a_run_id": "abc"})
    staged = stage(written.path, tmp_path / "transmit", files)

    kept_text = "".join(path.read_text(errors="replace") for path in written.path.rglob("*") if path.is_file())
    assert "s3cr3t" not in kept_text and "hunter2" not in kept_text and "open sesame" not in kept_text
    run_files = staged / RUN_FILES
    assert "s3cr3t" in (run_files / "run-vars.yml").read_text()
    assert "rb2a_run_id: abc" in (run_files / "run-vars.yml").read_text()
    # Every file the command line names is inside the copy, named from project/ where Ansible runs.
    named = [word.lstrip("@").split("@")[-1] for word in cmdline if "rb2ansible-run" in word]
    assert len(named) == 4
    assert all((staged / "project" / name).resolve().is_file() for name in named)
    assert str(tmp_path) not in options["cmdline"]  # no path of this machine goes to the node
    assert shlex.split(options["cmdline"])[:2] == ["--limit", "web*"]
    # The cleanup keeps what reaches the hosts, drops what would let a process live (--limit).
    assert _credentials_only(cmdline) == [word for word in cmdline if word not in ("--limit", "web*")]


@pytest.fixture
def compiled_hello():
    from translator.build import load_runbook
    from translator.emit import compile_runbook

    return compile_runbook(load_runbook(Path(__file__).resolve().parents[2] / "runbooks" / "hello"))


@pytest.mark.parametrize(("args", "message"), [
    (["--slices", "2"], "go with --worker"),
    (["--worker", "ftp://node"], "expected ssh://"),
    (["--worker", "ssh://node", "--worker-ssh-args", "-o 'unclosed"], "--worker-ssh-args"),
])
def test_worker_option_mistakes_exit_2_before_anything_runs(args, message, tmp_path):
    hello = Path(__file__).resolve().parents[2] / "runbooks" / "hello"
    done = subprocess.run([sys.executable, "-c", "from translator.cli import main; main()", "run", str(hello), *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_sliced_outcomes_combine_into_the_worst_status_and_exit_code():
    import io

    from translator.worker import StreamedRun, combined

    def run(host: str, status: str, rc: int | None) -> StreamedRun:
        return StreamedRun(WorkerNode(host), [host], status, rc, io.StringIO(f"{host} said\n"))

    assert combined([run("a", "successful", 0), run("b", "successful", 0)]).status == "successful"
    both = combined([run("a", "successful", 0), run("b", "failed", 2)])
    assert (both.status, both.rc) == ("failed", 2)
    assert "--- ssh://a\na said" in both.stdout.getvalue() and "--- ssh://b\nb said" in both.stdout.getvalue()
    assert combined([run("a", "failed", 2), run("b", "canceled", 254)]).status == "canceled"


def test_the_node_guard_kills_the_worker_and_what_left_its_process_group_when_its_input_ends():
    from tests.lab.processes import wait_until
    from tests.processes import with_marker
    from translator.worker import NODE_GUARD

    marker = str(uuid.uuid4().int)[:8]
    # As Ansible's forks do, one child starts a session of its own: a process group kill would miss it.
    # (The sleeps' arguments are built by the shell: only the sleeps themselves carry them.)
    worker = f"m=100.{marker}; setsid sleep ${{m}}1 & sleep ${{m}}2 & wait"
    guard = subprocess.Popen([sys.executable, "-c", NODE_GUARD.read_text(), "sh", "-c", worker],
                             stdin=subprocess.PIPE)
    try:
        sleeps = [f"100.{marker}1", f"100.{marker}2"]
        wait_until(lambda: all(with_marker(sleep) for sleep in sleeps), 30, "both sleeps started")
        guard.stdin.close()  # what the controller does on Ctrl-C, and what its death does
        assert guard.wait(60) == 128 + signal.SIGTERM
        wait_until(lambda: not any(with_marker(sleep) for sleep in sleeps), 10, "both sleeps killed")
    finally:
        guard.kill()
