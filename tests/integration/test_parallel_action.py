"""Integration tests for rb2ansible.runbook.parallel: hand-written roles run by ansible-runner on real hosts."""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import ansible_runner
import pytest
import yaml

from tests.helpers_collection import install_collection
from tests.lab.inventory import host_vars

PARALLEL = "rb2ansible.runbook.parallel"
RESULT_EVENTS = ("runner_on_ok", "runner_on_failed", "runner_on_skipped", "runner_on_unreachable")
SECRET = "s3cret-6f1d2a-never-shown"
ANSIBLE_CFG = """\
[defaults]
forks = 20
gathering = explicit
retry_files_enabled = false
callbacks_enabled = rb2ansible.runbook.child_events

[ssh_connection]
pipelining = true
ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s
"""
# Bounded: each burner stops by itself after this long even if the test's cleanup never runs.
BURNER = "import time\nend = time.monotonic() + 240\nwhile time.monotonic() < end:\n    pass\n"


def sleeps(count: int) -> list[dict]:
    return [{"name": f"sleep {i}", "ansible.builtin.command": "sleep 2", "changed_when": False} for i in range(count)]


def shell(name: str, command: str, **keywords) -> dict:
    return {"name": name, "ansible.builtin.shell": command, "changed_when": False, **keywords}


def dispatcher(name: str, file: str, **keywords) -> dict:
    return {"name": name, PARALLEL: {"file": file}, **keywords}


CONCURRENCY_ROLE = {
    "tasks/main.yml": [
        dispatcher("Six sleeps", "six_sleeps.yml"),
        dispatcher("Nested block", "nested.yml"),
        dispatcher("Slow templates", "templates.yml"),
    ],
    "tasks/six_sleeps.yml": sleeps(6),
    # parallel: [serial: [a, b], serial: [c, parallel: [d, e]], f]
    "tasks/nested.yml": [
        {"block": [shell("a", "sleep 1"), shell("b", "sleep 1")]},
        {"block": [shell("c", "sleep 1"), dispatcher("d and e", "nested_de.yml")]},
        shell("f", "sleep 2"),
    ],
    "tasks/nested_de.yml": [shell("d", "sleep 1"), shell("e", "sleep 1")],
    "tasks/templates.yml": [
        {"name": f"template {i}",
         "ansible.builtin.template": {"src": "slow.j2", "dest": "{{ out_dir }}/{{ inventory_hostname }}-" + f"{i}.txt"}}
        for i in range(3)
    ],
    # the render itself takes a second: the controller-side part of a task runs in the branch's thread too
    "templates/slow.j2": "{{ inventory_hostname }}{{ lookup('ansible.builtin.pipe', 'sleep 1') }}\n",
}

FIDELITY_ROLE = {
    "vars/main.yml": {"secret_value": SECRET},
    "tasks/main.yml": [
        dispatcher("Registering block", "registering.yml", register="registering"),
        {"name": "Expose registered",
         "ansible.builtin.set_fact": {"greeting": "{{ registering.registered.greeting }}"}},
        {"name": "Check greeting", "ansible.builtin.assert": {"that": ["greeting.stdout == 'hello localhost'"]}},
        dispatcher("Secret block", "secret.yml", register="secret_block"),
        {"name": "Expose secret", "no_log": True,
         "ansible.builtin.set_fact": {"secret_out": "{{ secret_block.registered.secret_out }}"}},
        {"name": "Check secret", "ansible.builtin.assert": {"that": ["secret_out.stdout == secret_value"]}},
        dispatcher("Failing block", "failing.yml"),
        shell("After the failure", "true"),
    ],
    "tasks/registering.yml": [
        shell("say hello", "echo hello {{ inventory_hostname }}", register="greeting"),
        {"block": [shell("first", "echo one", register="first"),
                   {"name": "sees first", "ansible.builtin.assert": {"that": ["first.stdout == 'one'"]}}]},
        shell("ignored failure", "exit 3", ignore_errors=True),
        shell("timed out", "sleep 30", timeout=2, ignore_errors=True),
        # template has an action plugin, so no async: the watchdog reports it when its render outlives the timeout
        # (into the run's own directory: as root, a rename over /dev/null would replace the device)
        {"name": "watched template",
         "ansible.builtin.template": {"src": "slow5.j2", "dest": "{{ playbook_dir }}/watched.txt"},
         "timeout": 2, "ignore_errors": True},
    ],
    "templates/slow5.j2": "{{ lookup('ansible.builtin.pipe', 'sleep 5') }}\n",
    "tasks/secret.yml": [
        shell("secret child", "echo {{ secret_value }}", register="secret_out", no_log=True),
        shell("plain child", "echo plain"),
    ],
    "tasks/failing.yml": [
        {"block": [shell("fails", "exit 4"), shell("never runs", "true")]},
        shell("sibling", "sleep 1"),
        # not an integer: the branch's thread raises while preparing the child
        shell("broken timeout", "true", timeout="soon"),
    ],
}


@dataclass
class Run:
    status: str
    events: list[dict]
    stdout: str
    artifacts: Path

    def dispatcher_uuid(self, name: str) -> str:
        (uuid,) = {e["event_data"]["task_uuid"] for e in self.events
                   if e["event"] == "playbook_on_task_start" and e["event_data"]["task"] == name}
        return uuid

    def block_event(self, name: str, host: str) -> dict:
        """The dispatcher's own result event on host (its uuid is the one the controller queued)."""
        uuid = self.dispatcher_uuid(name)
        (event,) = [e for e in self.events if e["event"] in RESULT_EVENTS
                    and e["event_data"]["task_uuid"] == uuid and e["event_data"]["host"] == host]
        return event

    def block_result(self, name: str, host: str) -> dict:
        return self.block_event(name, host)["event_data"]["res"]

    def children(self, name: str, host: str) -> dict[str, tuple[float, float]]:
        """{child name: (start, end)} as the dispatcher measured them in the worker."""
        return {c["name"]: (_time(c["start"]), _time(c["end"])) for c in self.block_result(name, host)["children"]}

    def child_events(self, host: str, prefix: str) -> dict[str, dict[str, dict]]:
        """{child uuid: {event name: event}} of the children whose uuid starts with prefix."""
        found: dict[str, dict[str, dict]] = {}
        for event in self.events:
            data = event.get("event_data", {})
            if data.get("host") == host and data.get("task_uuid", "").startswith(prefix):
                found.setdefault(data["task_uuid"], {})[event["event"]] = event
        return found

    def task_events(self, name: str) -> list[str]:
        """The runner_* events of the tasks named name, in order."""
        return [e["event"] for e in self.events
                if e["event"].startswith("runner_") and e.get("event_data", {}).get("task") == name]


def _time(text: str) -> float:
    return datetime.datetime.fromisoformat(text).timestamp()


def common_instant(intervals) -> bool:
    intervals = list(intervals)
    return max(start for start, _ in intervals) < min(end for _, end in intervals)


def write_role(project: Path, files: dict) -> None:
    for name, content in files.items():
        path = project / "roles" / "dispatch_test" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False))


def run_role(directory: Path, role: dict, inventory: dict, extravars: dict | None = None) -> Run:
    (directory / "project").mkdir(parents=True)
    (directory / "project" / "ansible.cfg").write_text(ANSIBLE_CFG)
    play = [{"name": "Dispatcher test", "hosts": "all", "gather_facts": False, "roles": ["dispatch_test"]}]
    (directory / "project" / "site.yml").write_text(yaml.safe_dump(play, sort_keys=False))
    write_role(directory / "project", role)
    runner = ansible_runner.run(
        private_data_dir=str(directory), playbook="site.yml", inventory=inventory, extravars=extravars or {},
        quiet=True, timeout=600,
        envvars={"ANSIBLE_COLLECTIONS_PATH": str(install_collection(directory / "collections"))},
    )
    return Run(runner.status, list(runner.events), runner.stdout.read(), Path(runner.config.artifact_dir))


def localhost_inventory() -> dict:
    # the test's own Python: interpreter discovery may find a pyenv shim without the modules' needs
    localhost = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    return {"all": {"hosts": {"localhost": localhost}}}


@pytest.fixture(scope="module")
def concurrency_run(tmp_path_factory, ssh_host_factory, lab_keys) -> tuple[Run, list[str]]:
    """localhost and two SSH hosts, with two CPU-burning processes beside the run the whole time."""
    hosts = ssh_host_factory(2)
    inventory = localhost_inventory()
    inventory["all"]["hosts"].update({h.name: {"ansible_host": h.address, **host_vars(lab_keys.private_key)}
                                      for h in hosts})
    directory = tmp_path_factory.mktemp("concurrency")
    out_dir = directory / "out"
    out_dir.mkdir()
    burners = [subprocess.Popen([sys.executable, "-c", BURNER]) for _ in range(2)]
    previous_path = os.environ["PATH"]
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), previous_path])
    try:
        run = run_role(directory / "run", CONCURRENCY_ROLE, inventory, {"out_dir": str(out_dir)})
        assert all(burner.poll() is None for burner in burners), "the burners must run beside the whole run"
    finally:
        os.environ["PATH"] = previous_path
        for burner in burners:
            burner.kill()
            burner.wait()
    return run, ["localhost", *(h.name for h in hosts)]


@pytest.fixture(scope="module")
def fidelity_run(tmp_path_factory) -> Run:
    directory = tmp_path_factory.mktemp("fidelity")
    previous_path = os.environ["PATH"]
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), previous_path])
    try:
        return run_role(directory / "run", FIDELITY_ROLE, localhost_inventory())
    finally:
        os.environ["PATH"] = previous_path


def test_six_sleeps_share_an_instant_on_every_host_under_cpu_load(concurrency_run):
    run, hosts = concurrency_run
    assert run.status == "successful", run.stdout
    for host in hosts:
        children = run.children("Six sleeps", host)
        assert sorted(children) == [f"sleep {i}" for i in range(6)]
        assert common_instant(children.values()), (host, children)
        # the same from the live events: each child's runner_on_start .created to its runner_on_ok .created
        events = run.child_events(host, run.dispatcher_uuid("Six sleeps") + "-b")
        live = [(_time(e["runner_on_start"]["created"]), _time(e["runner_on_ok"]["created"])) for e in events.values()]
        assert len(live) == 6 and common_instant(live), (host, live)


def test_nested_serial_and_parallel_orderings(concurrency_run):
    run, hosts = concurrency_run
    for host in hosts:
        child = run.children("Nested block", host)
        assert child["a"][1] <= child["b"][0], (host, child)
        assert child["c"][1] <= child["d"][0] and child["c"][1] <= child["e"][0], (host, child)
        assert common_instant([child["d"], child["e"]]), (host, child)
        assert common_instant([child["a"], child["c"], child["f"]]), (host, child)
        # the nested dispatcher spans d and e
        assert child["d and e"][0] <= min(child["d"][0], child["e"][0]), (host, child)
        assert child["d and e"][1] >= max(child["d"][1], child["e"][1]), (host, child)


def test_nested_children_have_deterministic_uuids(concurrency_run):
    run, hosts = concurrency_run
    root = run.dispatcher_uuid("Nested block")
    expected = {"a": "-b0.0", "b": "-b0.1", "c": "-b1.0", "d and e": "-b1.1", "d": "-b1.1-b0.0", "e": "-b1.1-b1.0",
                "f": "-b2.0"}
    for host in hosts:
        uuids = {c["name"]: c["uuid"] for c in run.block_result("Nested block", host)["children"]}
        assert uuids == {name: root + suffix for name, suffix in expected.items()}


def test_slow_template_children_overlap(concurrency_run):
    run, hosts = concurrency_run
    for host in hosts:
        children = run.children("Slow templates", host)
        assert len(children) == 3 and common_instant(children.values()), (host, children)


def test_every_child_has_its_own_start_and_ok_events(concurrency_run):
    run, hosts = concurrency_run
    root = run.dispatcher_uuid("Six sleeps")
    for host in hosts:
        events = run.child_events(host, root + "-b")
        assert sorted(events) == [f"{root}-b{i}.0" for i in range(6)]
        for child_uuid, kinds in events.items():
            assert {"runner_on_start", "runner_on_ok"} <= set(kinds), (host, child_uuid, kinds)
            assert kinds["runner_on_ok"]["event_data"]["task"] == kinds["runner_on_start"]["event_data"]["task"]
        # the dispatcher's own result comes after its children's
        block_ok = [e for e in run.events if e["event"] == "runner_on_ok"
                    and e["event_data"]["task_uuid"] == root and e["event_data"]["host"] == host]
        assert _time(block_ok[0]["created"]) >= max(_time(k["runner_on_ok"]["created"]) for k in events.values())


def test_registered_value_is_visible_after_the_block(fidelity_run):
    assert fidelity_run.task_events("Check greeting") == ["runner_on_start", "runner_on_ok"]
    registered = fidelity_run.block_result("Registering block", "localhost")["registered"]
    assert registered["greeting"]["stdout"] == "hello localhost"
    assert fidelity_run.task_events("sees first")[-1] == "runner_on_ok"


def test_ignored_and_timed_out_children_do_not_fail_the_block(fidelity_run):
    assert fidelity_run.block_event("Registering block", "localhost")["event"] == "runner_on_ok"
    result = fidelity_run.block_result("Registering block", "localhost")
    status = {c["name"]: c["status"] for c in result["children"]}
    assert status["ignored failure"] == status["timed out"] == status["watched template"] == "ignored"
    timed_out = [e for e in fidelity_run.events if e["event"] == "runner_on_failed"
                 and e["event_data"]["task"] == "timed out"]
    assert timed_out[0]["event_data"]["ignore_errors"] is True
    start, end = (_time(c[key]) for c in result["children"] if c["name"] == "timed out" for key in ("start", "end"))
    assert end - start < 30, "async_wrapper must end the sleep at its timeout, not let it run its 30 s"
    watched = [e for e in fidelity_run.events if e["event"] == "runner_on_failed"
               and e["event_data"]["task"] == "watched template"]
    assert "timed out after 2 s (watchdog)" in watched[0]["event_data"]["res"]["msg"]


def test_failing_child_fails_the_block_and_stops_the_play(fidelity_run):
    assert fidelity_run.status == "failed"
    assert fidelity_run.block_event("Failing block", "localhost")["event"] == "runner_on_failed"
    result = fidelity_run.block_result("Failing block", "localhost")
    status = {c["name"]: c["status"] for c in result["children"]}
    assert status == {"fails": "failed", "sibling": "ok", "broken timeout": "failed"}, \
        "a failure stops its serial list, not its siblings"
    broken = [e for e in fidelity_run.events if e["event_data"].get("task") == "broken timeout"]
    assert [e["event"] for e in broken] == ["runner_on_start", "runner_on_failed"]
    assert "rb2ansible.runbook.parallel: ValueError" in broken[1]["event_data"]["res"]["msg"]
    assert fidelity_run.task_events("After the failure") == []


def test_no_log_child_secret_appears_nowhere(fidelity_run):
    assert fidelity_run.task_events("Check secret") == ["runner_on_start", "runner_on_ok"]
    assert SECRET not in fidelity_run.stdout
    assert SECRET not in json.dumps(fidelity_run.events)
    leaks = [path for path in fidelity_run.artifacts.rglob("*") if path.is_file() and SECRET in path.read_text()]
    assert leaks == []
    secret_events = [e for e in fidelity_run.events if e["event_data"].get("task") == "secret child"
                     and e["event"] == "runner_on_ok"]
    assert "censored" in secret_events[0]["event_data"]["res"]
    assert "censored" in fidelity_run.block_result("Secret block", "localhost")


def live_processes() -> dict[int, tuple[int, str]]:
    """{pid: (ppid, command line)} of the live processes (zombies count as dead)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if state != "Z":
            table[int(entry.name)] = (int(ppid), cmdline)
    return table


def wait_for(condition, seconds: float) -> bool:
    """Poll condition until it holds or the deadline passes; returns whether it held."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_kill_9_of_ansible_playbook_leaves_no_worker(tmp_path):
    marker = f"rb2a-kill-test-{uuid.uuid4().hex}"
    project = tmp_path / "project"
    project.mkdir()
    (project / "ansible.cfg").write_text(ANSIBLE_CFG)
    (project / "site.yml").write_text(yaml.safe_dump(
        [{"name": "Kill test", "hosts": "all", "gather_facts": False, "roles": ["dispatch_test"]}]))
    write_role(project, {"tasks/main.yml": [dispatcher("Long sleeps", "long.yml")],
                         "tasks/long.yml": [shell(f"long {i}", f"sleep 30 # {marker}") for i in range(3)]})
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(localhost_inventory()))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(install_collection(tmp_path / "collections")))
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(tmp_path / "hosts.yml"), "site.yml"]
    playbook = subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    try:
        assert wait_for(lambda: len(marked_now(marker)) >= 3, 120), "the three children never started"
        workers = {pid for pid, (ppid, _) in live_processes().items() if ppid == playbook.pid}
        assert workers, "ansible-playbook has no worker process"
        playbook.kill()
        playbook.wait()
        # Only the workers: their module processes end with their command, as a plain task's do (2.19+ workers
        # also kill their process group on SIGTERM; 2.18's share ansible-playbook's group and leave them be).
        assert wait_for(lambda: not workers & set(live_processes()), 20), "a worker outlived ansible-playbook"
    finally:
        playbook.kill()
        playbook.wait()
        for pid in (workers & set(live_processes())) | marked_now(marker):
            os.kill(pid, signal.SIGKILL)


def marked_now(marker: str) -> set[int]:
    return {pid for pid, (_, cmdline) in live_processes().items() if marker in cmdline}
