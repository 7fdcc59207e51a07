"""Fused shell steps (translator/fusion.py) on real SSH hosts: consecutive plain steps run as one script per host,
and each step keeps the result, the order and the stop at a failure its own task would have had."""

from __future__ import annotations

import uuid

from tests.integration.conftest import task, write_runbook
from tests.integration.lab_runs import interrupt_when, interval, statuses
from tests.lab.inventory import write_inventory
from tests.processes import with_marker

FIELDS = ("status", "rc", "stdout", "stderr", "msg")
STEPS = ("first", "second", "templated", "in tmp", "kept apart", "after register", "stamp", "fails on one host",
         "never there", "nor this")


def steps_runbook(directory, out, failing_host: str, strategy: str = "linear"):
    # `echo $PPID` in a step shows the shell that started its command: the one script of a fused run, or a
    # fresh one per task.
    return write_runbook(directory, f"""
name: fused
hosts: lab
strategy: {strategy}
vars:
  greeting: hello
tasks:
- name: first
  shell: 'echo $PPID'
- name: second
  shell: 'echo $PPID; echo to-stderr >&2'
- name: templated
  shell: "echo ${{greeting}} ${{inventory_hostname}}"
- name: in tmp
  shell: {{cmd: pwd, chdir: /tmp}}
- name: kept apart
  shell: echo registered
  register: kept
- name: after register
  shell: "echo ${{kept.stdout}} again; printf 'no newline'"
- name: stamp
  shell: "touch {out}/stamp-${{inventory_hostname}}"
- name: fails on one host
  shell: "echo out; echo err >&2; test ${{inventory_hostname}} != {failing_host} || exit 4"
- name: never there
  shell: "touch {out}/never-${{inventory_hostname}}"
- name: nor this
  echo: done
""")


def test_fused_steps_report_as_their_own_tasks_would(rb2ansible, ssh_hosts, lab_keys, tmp_path):
    """Under `strategy: free` run fuses by default; --no-fuse gives the results to compare with."""
    hosts = ssh_hosts[:2]
    failing = hosts[0].name
    inventory = write_inventory(tmp_path / "hosts.ini", hosts, lab_keys.private_key)
    runs = {}
    for mode in ("default", "--no-fuse"):
        out = tmp_path / mode.strip("-")
        out.mkdir()
        runbook = steps_runbook(tmp_path / f"rb-{mode}", out, failing, strategy="free")
        runs[mode] = rb2ansible("run", str(runbook), "-i", str(inventory), *([mode] if mode != "default" else [])), out
    (fused, fused_out), (apart, apart_out) = runs["default"], runs["--no-fuse"]
    assert fused.code == apart.code == 1, fused.stdout + fused.stderr + apart.stdout + apart.stderr

    for host in hosts:
        # One script ran the plain steps of a fused run; each task had its own shell without fusion.
        assert task(fused.results, "first", host.name)["stdout"] == task(fused.results, "second", host.name)["stdout"]
        assert task(apart.results, "first", host.name)["stdout"] != task(apart.results, "second", host.name)["stdout"]
        for name in STEPS[1:]:
            got, wanted = task(fused.results, name, host.name), task(apart.results, name, host.name)
            assert {f: got[f] for f in FIELDS if name != "second" or f != "stdout"} == \
                   {f: wanted[f] for f in FIELDS if name != "second" or f != "stdout"}, (host.name, name)
        ran = [name for name in STEPS if task(fused.results, name, host.name)["start"] is not None]
        spans = [interval(fused.results, name, host.name) for name in ran]
        assert all(start <= end for start, end in spans), spans
        assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:])), (host.name, spans)

    assert task(fused.results, "second", failing)["stderr"] == "to-stderr"
    assert task(fused.results, "templated", failing)["stdout"] == f"hello {failing}"
    assert task(fused.results, "in tmp", failing)["stdout"] == "/tmp"
    assert task(fused.results, "after register", failing)["stdout"] == "registered again\nno newline"
    failed = task(fused.results, "fails on one host", failing)
    assert (failed["status"], failed["rc"], failed["stdout"], failed["stderr"]) == ("failed", 4, "out", "err")
    assert [task(fused.results, name, failing)["status"] for name in ("never there", "nor this")] == ["not_run"] * 2
    assert [task(fused.results, name, hosts[1].name)["status"] for name in ("never there", "nor this")] == \
           ["changed", "ok"]
    for out in (fused_out, apart_out):
        assert sorted(path.name for path in out.iterdir()) == sorted(
            [f"stamp-{hosts[0].name}", f"stamp-{hosts[1].name}", f"never-{hosts[1].name}"])


def test_a_step_that_cannot_be_templated_fails_after_the_steps_before_it(rb2ansible, ssh_hosts, lab_keys, tmp_path):
    host = ssh_hosts[0]
    inventory = write_inventory(tmp_path / "hosts.ini", [host], lab_keys.private_key)
    runbook = write_runbook(tmp_path / "rb", f"""
name: undefined
hosts: lab
tasks:
- name: before
  shell: "touch {tmp_path}/before"
- name: undefined
  shell: "echo ${{no_such_variable}}"
- name: after
  shell: "touch {tmp_path}/after"
""")
    done = rb2ansible("run", str(runbook), "-i", str(inventory), "--fuse")
    assert done.code == 1, done.stdout + done.stderr
    assert task(done.results, "before", host.name)["status"] == "changed"
    undefined = task(done.results, "undefined", host.name)
    assert undefined["status"] == "failed" and "no_such_variable" in undefined["msg"], undefined
    assert task(done.results, "after", host.name)["status"] == "not_run"
    assert (tmp_path / "before").exists() and not (tmp_path / "after").exists()


def test_check_mode_and_the_module_switch_run_fused_steps_one_by_one(rb2ansible, ssh_hosts, lab_keys, tmp_path):
    """--fuse fuses a linear runbook's steps too; where no script can run, they run one by one in the task."""
    host = ssh_hosts[0]
    inventory = write_inventory(tmp_path / "hosts.ini", [host], lab_keys.private_key)
    out = tmp_path / "out"
    out.mkdir()
    runbook = steps_runbook(tmp_path / "rb", out, host.name)

    checked = rb2ansible("run", str(runbook), "-i", str(inventory), "--fuse", "--check")
    assert checked.code == 0, checked.stdout + checked.stderr
    for name in ("first", "stamp", "fails on one host", "never there"):
        assert task(checked.results, name, host.name)["status"] == "skipped", name
    assert not list(out.iterdir())

    by_module = rb2ansible("run", str(runbook), "-i", str(inventory), "--fuse", "-e", "rb2ansible_direct_shell=false")
    assert by_module.code == 1, by_module.stdout + by_module.stderr
    # The module's shells: each step its own, under the module's Python.
    parents = {task(by_module.results, name, host.name)["stdout"] for name in ("first", "second")}
    assert len(parents) == 2, parents
    failed = task(by_module.results, "fails on one host", host.name)
    assert (failed["status"], failed["rc"], failed["stdout"], failed["stderr"]) == ("failed", 4, "out", "err")
    assert task(by_module.results, "never there", host.name)["status"] == "not_run"
    assert sorted(path.name for path in out.iterdir()) == [f"stamp-{host.name}"]


def test_a_linear_runbook_keeps_each_step_a_task_unless_fast_or_asked(rb2ansible, ssh_hosts, lab_keys, tmp_path,
                                                                      monkeypatch):
    """Under the linear strategy every host ends a step before any starts the next: a fused host does not wait.
    So a linear runbook is fused only when asked (--fuse) or for speed (--fast), which then says so."""
    monkeypatch.delenv("RB2ANSIBLE_FAST", raising=False)  # this test says itself which runs are --fast
    hosts = ssh_hosts[:2]
    inventory = write_inventory(tmp_path / "hosts.ini", hosts, lab_keys.private_key)
    runs = {}
    for mode in ((), ("--fast",), ("--fast", "--no-fuse")):
        out = tmp_path / f"out{len(runs)}"
        out.mkdir()
        runs[mode] = rb2ansible("run", str(steps_runbook(tmp_path / f"rb{len(runs)}", out, "nohost")), "-i",
                                str(inventory), *mode)
        assert runs[mode].code == 0, runs[mode].stdout + runs[mode].stderr
    for mode, done in runs.items():
        fused = mode == ("--fast",)
        assert ("plain shell steps run fused as" in done.stderr) == fused, done.stderr
        for host in hosts:
            parents = {task(done.results, name, host.name)["stdout"] for name in ("first", "second")}
            assert len(parents) == (1 if fused else 2), (mode, parents)
            if not fused:  # lock-step: no host starts the second step before every host ended the first
                assert interval(done.results, "second", host.name)[0] >= max(
                    interval(done.results, "first", other.name)[1] for other in hosts)
    assert "--fast: 8 plain shell steps run fused as 2 tasks" in runs[("--fast",)].stderr


def test_ctrl_c_stops_a_fused_run_on_every_host_and_its_later_steps_never_start(rb2ansible_command, ssh_hosts,
                                                                                  lab_keys, tmp_path):
    marker = str(uuid.uuid4().int)[:8]
    runbook = write_runbook(tmp_path / "rb", f"""
name: interrupted
hosts: lab
tasks:
- name: before
  shell: "true"
- name: sleeper
  shell: sleep 30.{marker}
- name: afterwards
  shell: "touch {tmp_path}/afterwards-${{inventory_hostname}}"
""")
    hosts = ssh_hosts[:2]
    inventory = write_inventory(tmp_path / "hosts.ini", hosts, lab_keys.private_key)
    run = interrupt_when([*rb2ansible_command, "run", str(runbook), "-i", str(inventory), "--fuse"],
                         tmp_path / "results.json", lambda: len(with_marker(f"30.{marker}")) >= 2,
                         "the sleeper running on both hosts")

    assert run.code == 1, run.stdout + run.stderr
    assert with_marker(f"30.{marker}") == []
    assert statuses(run.report, "afterwards") == {h.name: "not_run" for h in hosts}
    assert not list(tmp_path.glob("afterwards-*")), "a step after the interrupted one started"


def test_a_step_that_kills_the_script_fails_and_the_rest_do_not_run(rb2ansible, tmp_path):
    runbook = write_runbook(tmp_path / "rb", f"""
name: dies
tasks:
- name: fine
  shell: echo fine
- name: kills the script
  shell: echo dying; kill -9 $PPID
- name: never
  shell: "touch {tmp_path}/never"
""")
    done = rb2ansible("run", str(runbook), "--fuse")
    assert done.code == 1, done.stdout + done.stderr
    assert task(done.results, "fine")["stdout"] == "fine"
    killed = task(done.results, "kills the script")
    assert (killed["status"], killed["rc"], killed["stdout"]) == ("failed", 137, "dying"), killed
    assert killed["msg"] == "the step's shell ended before its command did"
    assert task(done.results, "never")["status"] == "not_run" and not (tmp_path / "never").exists()
