"""Faults on real hosts: a host down or dying mid-run, Ctrl-C during a parallel block, task timeouts."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.integration.conftest import task, write_runbook
from tests.integration.lab_runs import everything_printed, interrupt_when, new_marker, statuses, two_sleepers
from tests.lab.inventory import write_inventory
from tests.lab.processes import wait_until
from tests.processes import with_marker


def command_lines(pids: list[int]) -> list[str]:
    """What those processes run, for a failure message."""
    lines = []
    for pid in pids:
        try:
            lines.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            pass
    return lines


def two_step_runbook(directory: Path, out: Path, first_step: str = "echo first") -> Path:
    return write_runbook(directory, f"""
name: two steps
hosts: lab
tasks:
- name: first step
  shell: {first_step}
- name: second step
  shell: echo done > {out}/${{inventory_hostname}}.txt
""")


def test_one_host_down_is_unreachable_and_the_others_finish(rb2ansible, ssh_hosts, lab_keys, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    inventory = write_inventory(tmp_path / "hosts.ini", ssh_hosts, lab_keys.private_key)
    runbook = two_step_runbook(tmp_path / "rb", out)
    *up, down = ssh_hosts

    down.stop()
    try:
        done = rb2ansible("run", str(runbook), "-i", str(inventory))
    finally:
        down.start()

    assert done.code == 1, everything_printed(done)
    assert done.results["status"] == "failed"
    assert statuses(done.results, "first step") == {**{h.name: "changed" for h in up}, down.name: "unreachable"}
    assert statuses(done.results, "second step") == {**{h.name: "changed" for h in up}, down.name: "not_run"}
    assert done.results["hosts"][down.name]["unreachable"] == 1
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{h.name}.txt" for h in up)
    assert "Traceback" not in everything_printed(done)


def test_host_dying_in_the_middle_of_a_task_is_reported_and_the_others_finish(
        rb2ansible_command, ssh_hosts, lab_keys, tmp_path):
    marker = new_marker()
    out = tmp_path / "out"
    out.mkdir()
    inventory = write_inventory(tmp_path / "hosts.ini", ssh_hosts, lab_keys.private_key)
    # Light hosts share one process table: each host's sleep carries its address's last number.
    runbook = two_step_runbook(tmp_path / "rb", out, first_step=f"sleep 8.{marker}${{ansible_host.split('.')[-1]}}")
    *survivors, dying = ssh_hosts
    results = tmp_path / "results.json"

    def sleeping_everywhere() -> bool:
        return all(with_marker(f"sleep 8.{marker}{h.address.split('.')[-1]}") for h in ssh_hosts)

    process = subprocess.Popen([*rb2ansible_command, "run", str(runbook), "-i", str(inventory),
                                "--results", str(results)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(sleeping_everywhere, 60, "the sleep running on every host")
        dying.stop()  # its sshd and every session under it, the running command included
        stdout, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
        dying.start()

    assert process.returncode == 1, stdout + stderr
    report = json.loads(results.read_text())
    assert statuses(report, "first step") == {**{h.name: "changed" for h in survivors}, dying.name: "unreachable"}
    assert statuses(report, "second step") == {**{h.name: "changed" for h in survivors}, dying.name: "not_run"}
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{h.name}.txt" for h in survivors)
    assert "Traceback" not in stdout + stderr


def sleepers_on(machine, marker: str) -> list[str]:
    """Processes of the machine running a sleeper (the sleep, or the shell around it)."""
    # The [3] keeps this pgrep's own shell from matching its pattern.
    return machine.ssh(f"pgrep -af 'sleep [3]0\\.{marker}' || true").splitlines()


def both_sleepers_running(machine, marker: str) -> bool:
    running = sleepers_on(machine, marker)
    return all(any(line.endswith(f" sleep 30.{marker}{n}") for line in running) for n in (1, 2))


def test_sigint_during_parallel_block_on_two_machines_leaves_no_job(rb2ansible_command, nspawn_machines, lab_keys,
                                                                    tmp_path):
    marker = new_marker()
    inventory = write_inventory(tmp_path / "hosts.ini", nspawn_machines, lab_keys.private_key)
    runbook = write_runbook(tmp_path / "rb", two_sleepers(marker, f"/root/afterwards.{marker}", hosts="lab"))
    run = interrupt_when([*rb2ansible_command, "run", str(runbook), "-i", str(inventory)], tmp_path / "results.json",
                         lambda: all(both_sleepers_running(m, marker) for m in nspawn_machines),
                         "both sleepers running on both machines")

    assert run.code == 1, run.stdout + run.stderr
    assert run.seconds_to_stop < 20, run.seconds_to_stop
    for machine in nspawn_machines:
        assert sleepers_on(machine, marker) == [], machine.name
        assert machine.run(f"test -e /root/afterwards.{marker}").returncode == 1, machine.name
    assert run.report["status"] == "failed"
    everyone = {m.name for m in nspawn_machines}
    for sleeper in ("first sleeper", "second sleeper"):
        assert statuses(run.report, sleeper) == dict.fromkeys(everyone, "failed")
        assert {task(run.report, sleeper, host)["msg"] for host in everyone} == {"interrupted"}
    assert statuses(run.report, "afterwards") == dict.fromkeys(everyone, "not_run")
    assert "Traceback" not in run.stdout + run.stderr


def test_timeout_on_ssh_host_fails_the_task_and_kills_the_command(rb2ansible, ssh_hosts, lab_keys, tmp_path):
    marker = new_marker()
    host = ssh_hosts[0]
    inventory = write_inventory(tmp_path / "hosts.ini", [host], lab_keys.private_key)
    # A few of each kind: whether a command outlives its limit depends on timing on the host.
    foreground = [f"slow in the foreground {n}" for n in range(2)]
    background = [f"slow in the background {n}" for n in range(3)]
    steps = "".join(f"- name: {name}\n  shell: sleep 20.{marker}\n  timeout: 2\n  ignore_errors: true\n"
                    for name in foreground)
    children = "".join(f"  - name: {name}\n    shell: sleep 20.{marker}\n    timeout: 2\n" for name in background)
    runbook = write_runbook(tmp_path / "rb", f"""
name: timeouts
hosts: lab
tasks:
{steps}- name: group
  parallel:
{children}  - name: quick
    shell: echo quick
""")
    done = rb2ansible("run", str(runbook), "-i", str(inventory))

    assert done.code == 1, everything_printed(done)
    assert task(done.results, "quick", host.name)["stdout"] == "quick"
    for name in foreground + background:
        result = task(done.results, name, host.name)
        assert result["status"] == "failed", (name, result)
        assert result["msg"].startswith("timed out after 2s"), (name, result)
        assert result["duration"] < 15, (name, result)
    # A background child that timed out before its round's join is killed by async_wrapper itself, which
    # looks at its job every 5 s: allow for that step, well short of the command's own 20 s.
    wait_until(lambda: with_marker(f"20.{marker}") == [], timeout=12,
               what=f"no timed-out command left on the host: {command_lines(with_marker(f'20.{marker}'))}")
