"""`run --worker`: the run streamed to `ansible-runner worker` on execution nodes (booted Debian machines with
ansible-runner and ansible-core only), sliced across them, interrupted there."""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
import uuid
from pathlib import Path

from tests.integration.conftest import task, write_runbook
from tests.integration.lab_runs import interrupt_when, interval, seconds
from tests.integration.test_vault import inline_vault
from tests.lab.nspawn import NspawnMachine
from tests.lab.processes import wait_until

HELLO = Path(__file__).resolve().parents[2] / "runbooks" / "hello"
# When it ran, and what the module says of the file system it ran on (sizes, temporary paths), differ.
MACHINE_SPECIFIC = ("start", "end", "duration", "values")


def worker_options(machines: list[NspawnMachine], lab_keys) -> list[str]:
    options = [arg for machine in machines for arg in ("--worker", f"ssh://root@{machine.address}")]
    # The lab's machines are new each session: their host keys cannot be known beforehand.
    return [*options, "--worker-ssh-args",
            f"-i {lab_keys.private_key} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"]


def without_times(results: dict) -> dict:
    return {
        "runbook": results["runbook"], "status": results["status"], "hosts": results["hosts"],
        "tasks": [{**entry, "results": {host: {k: v for k, v in result.items() if k not in MACHINE_SPECIFIC}
                                        for host, result in entry["results"].items()}}
                  for entry in results["tasks"]],
    }


def test_hello_on_a_worker_gives_the_results_of_a_local_run(rb2ansible, worker_machines, lab_keys):
    node = worker_machines[0]
    # The node has ansible-runner and ansible-core, and nothing of rb2ansible: its collections travel with the run.
    assert node.run("python3 -c 'import translator'").returncode != 0
    assert "rb2ansible.runbook" not in node.ssh("ansible-galaxy collection list 2>&1 || true")
    # A new work directory, here and there: both runs start from the same state.
    workdir = f"/tmp/rb2a-hello-{uuid.uuid4().hex[:8]}"

    try:
        local = rb2ansible("run", str(HELLO), "-e", f"workdir={workdir}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    remote = rb2ansible("run", str(HELLO), "-e", f"workdir={workdir}", *worker_options([node], lab_keys))

    assert local.code == 0, local.stdout + local.stderr
    assert remote.code == 0, remote.stdout + remote.stderr
    assert without_times(remote.results) == without_times(local.results)
    assert "Hello from localhost, world!" in remote.stdout  # the live view shows the worker's events
    # It ran there: the file the runbook writes is on the node's own filesystem.
    assert node.ssh(f"cat {workdir}/greeting.txt").strip() == \
        task(local.results, "read the greeting")["stdout"]


def test_two_workers_share_six_hosts_in_two_slices_that_run_at_once(rb2ansible, worker_machines, lab_keys,
                                                                     tmp_path):
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[nodes]\n" + "".join(
        f"node{n} ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n" for n in range(1, 7)))
    runbook = write_runbook(tmp_path / "rb", """
name: sliced
hosts: nodes
tasks:
- name: where
  shell: hostname
- name: wait
  shell: sleep 6
""")
    done = rb2ansible("run", str(runbook), "-i", str(inventory), "--slices", "2",
                      *worker_options(worker_machines, lab_keys))

    assert done.code == 0, done.stdout + done.stderr
    hosts = [f"node{n}" for n in range(1, 7)]
    assert sorted(done.results["hosts"]) == hosts
    ran_on = {host: task(done.results, "where", host)["stdout"].strip() for host in hosts}
    # AWX's slicing: host i of the play's hosts, sorted by name, to slice i mod 2; slice k on worker k.
    assert ran_on == {host: worker_machines[number % 2].name for number, host in enumerate(hosts)}
    assert all(task(done.results, "wait", host)["status"] == "changed" for host in hosts)
    # The slices ran at the same time: every sleep overlaps every other (6 s leaves room for one node
    # starting its playbook a few seconds after the other on a loaded machine).
    first = [interval(done.results, "wait", host) for host in hosts[0::2]]
    second = [interval(done.results, "wait", host) for host in hosts[1::2]]
    assert max(start for start, _ in first + second) < min(end for _, end in first + second)
    assert seconds(done.results["started"]) <= min(start for start, _ in first + second)


def test_vault_values_and_held_back_secrets_reach_the_worker_and_stay_out_of_the_export(
        rb2ansible, worker_machines, lab_keys, tmp_path):
    node = worker_machines[1]
    vault_secret, token = f"vault-{uuid.uuid4().hex}", f"token-{uuid.uuid4().hex}"
    password = tmp_path / "vault-pass"
    password.write_text("worker vault password\n")
    landed = f"/root/secrets-{uuid.uuid4().hex[:8]}"
    runbook = write_runbook(tmp_path / "rb", f"""
name: secrets on a node
vars:
{textwrap.indent(inline_vault("db_password", vault_secret, f"@{password}"), "  ")}
tasks:
- name: both secrets arrived
  shell: printf '%s %s' "${{db_password}}" "${{api_token}}" > {landed}
  no_log: true
""")
    export = tmp_path / "kept"
    done = rb2ansible("run", str(runbook), "--vault-password-file", str(password), "-e", f"api_token={token}",
                      "--export", str(export), *worker_options([node], lab_keys))

    assert done.code == 0, done.stdout + done.stderr
    assert node.ssh(f"cat {landed}; rm {landed}") == f"{vault_secret} {token}"
    # ansible-runner worker unpacked the run (its held-back values too) into a directory it removed at its end.
    assert node.run("ls -d /tmp/*/env/rb2ansible-run").stdout == ""
    kept = "".join(path.read_text(errors="replace") for path in export.rglob("*") if path.is_file())
    assert vault_secret not in kept and token not in kept and "worker vault password" not in kept
    assert not (export / "env" / "rb2ansible-run").exists()
    assert token not in done.stdout + done.stderr + json.dumps(done.results)


def test_ctrl_c_stops_the_worker_and_what_it_started_on_its_node(rb2ansible_command, worker_machines, lab_keys,
                                                                 tmp_path):
    node = worker_machines[0]
    marker = str(uuid.uuid4().int)[:8]
    runbook = write_runbook(tmp_path / "rb", f"""
name: interrupt me
tasks:
- name: together
  parallel:
  - name: first sleeper
    shell: sleep 60.{marker}1
  - name: second sleeper
    shell: sleep 60.{marker}2
- name: afterwards
  shell: touch /tmp/afterwards-{marker}
""")

    def sleeping() -> bool:
        return node.run(f"pgrep -f 60.{marker}").stdout.count("\n") >= 2

    run = interrupt_when([*rb2ansible_command, "run", str(runbook), *worker_options([node], lab_keys)],
                         tmp_path / "results.json", sleeping, "both sleepers running on the node")

    assert run.code == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert run.report["status"] == "failed"
    assert task(run.report, "first sleeper")["status"] == "failed"
    assert task(run.report, "afterwards")["status"] == "not_run"
    assert node.run(f"pgrep -af 60.{marker}").stdout == ""
    assert node.run("pgrep -af 'ansible-runner|ansible-playbook'").stdout == ""
    assert node.run("ls -d /tmp/*/env/rb2ansible-run").stdout == ""
    assert node.run(f"test -e /tmp/afterwards-{marker}").returncode == 1


def test_a_killed_controller_leaves_nothing_of_the_run_on_the_node(rb2ansible_command, worker_machines, lab_keys,
                                                                    tmp_path):
    node = worker_machines[1]
    marker = str(uuid.uuid4().int)[:8]
    runbook = write_runbook(tmp_path / "rb", f"name: killed\ntasks:\n- name: wait\n  shell: sleep 120.{marker}\n")
    process = subprocess.Popen([*rb2ansible_command, "run", str(runbook), *worker_options([node], lab_keys)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: node.run(f"pgrep -f 120.{marker}").returncode == 0, 90, "the sleep running on the node")
    finally:
        process.kill()  # no handler, no cleanup playbook: only the node's guard notices
        process.wait()
    # Well before the sleep would end by itself: the guard stopped the worker and killed what the run had left.
    wait_until(lambda: node.run(f"pgrep -f 'ansible-runner|ansible-playbook|120.{marker}'").returncode == 1, 60,
               "the worker, its playbook and the task's command gone from the node")


def test_a_worker_that_cannot_be_reached_is_named_without_a_traceback(rb2ansible, lab_keys):
    # Nothing listens on port 1 of loopback: ssh is refused at once.
    done = rb2ansible("run", str(HELLO), "--worker", "ssh://root@127.0.0.1:1",
                      "--worker-ssh-args", f"-i {lab_keys.private_key}")
    assert done.code == 2, done.stdout + done.stderr
    assert "worker ssh://root@127.0.0.1:1 did not run the playbook" in done.stderr
    assert "Connection refused" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
