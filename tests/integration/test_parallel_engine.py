"""Acceptance tests of issue 8: `rb2ansible run` drives the dispatcher engine as a user would, on localhost and on
loopback SSH hosts, and every claim is read from what the run recorded (results file, events, process table)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import Completed, task, write_runbook
from tests.integration.lab_runs import everything_printed, interval, new_marker, statuses
from tests.lab import LabError
from tests.lab.inventory import inventory_data
from tests.lab.processes import descendants, wait_until
from tests.processes import with_marker

# -- runbooks, built as data ------------------------------------------------------------------------------------


def shell(name: str, command: str, **options) -> dict:
    return {"name": name, "shell": command, **options}


def echo(name: str, value: str, **options) -> dict:
    return {"name": name, "echo": value, **options}


def parallel(name: str, *children: dict) -> dict:
    return {"name": name, "parallel": list(children)}


def serial(name: str, *children: dict) -> dict:
    return {"name": name, "serial": list(children)}


def runbook_text(name: str, *tasks: dict, **top) -> str:
    return yaml.safe_dump({"name": name, "hosts": "lab", **top, "tasks": list(tasks)}, sort_keys=False)


def sleeper(name: str, seconds: int, marker: str, number: int) -> dict:
    """`sleep <seconds>.<marker><number><host number>`: light hosts share one process table, so each host's
    command carries its own digits (host numbers have three, so no marker is a prefix of another)."""
    return shell(name, f"sleep {seconds}.{marker}{number}${{host_number}}")


def nested_sleepers(marker: str, seconds: int, out: Path) -> list[dict]:
    """A nested block of sleeps (the shape the issue measured leftovers with), numbered 1 to 4, then steps that
    must never start when the run is stopped during the sleeps: sleeper 5 after sleeper 1, and a last task
    that creates `out/<host>` (the light hosts share this machine's filesystem)."""
    block = parallel(
        "nest",
        serial("chain", sleeper("chain sleeper", seconds, marker, 1),
               sleeper("after the chain sleeper", seconds, marker, 5)),
        parallel("inner", sleeper("inner sleeper 1", seconds, marker, 2),
                 sleeper("inner sleeper 2", seconds, marker, 3)),
        sleeper("lone sleeper", seconds, marker, 4),
    )
    return [block, shell("afterwards", f"touch {out}/${{inventory_hostname}}")]


NESTED_SLEEPERS = ("chain sleeper", "inner sleeper 1", "inner sleeper 2", "lone sleeper")


# -- where a runbook runs: localhost, or the lab's loopback SSH hosts --------------------------------------------


@dataclass
class Target:
    """The hosts of a run, in one group `lab`, each with a `host_number` its commands can carry."""

    inventory_data: dict
    numbers: dict[str, str]  # host -> its three digits

    @property
    def hosts(self) -> list[str]:
        return list(self.numbers)

    def write_inventory(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(self.inventory_data, sort_keys=False))
        return path

    def marked(self, marker: str, number: int) -> list[str]:
        """Each host's `marker + number + host digits`, as sleeper() writes them."""
        return [f"{marker}{number}{digits}" for digits in self.numbers.values()]


def localhost_target() -> Target:
    # the test's own Python: the one whose ansible-core the controller runs
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, "host_number": "000"}
    return Target({"all": {"children": {"lab": {"hosts": {"localhost": host}}}}}, {"localhost": "000"})


def ssh_target(hosts, private_key: Path) -> Target:
    data = inventory_data(hosts, private_key)
    numbers = {}
    for host in hosts:
        numbers[host.name] = f"{int(host.address.rsplit('.', 1)[1]):03d}"
        data["all"]["children"]["lab"]["hosts"][host.name]["host_number"] = numbers[host.name]
    return Target(data, numbers)


@pytest.fixture(params=["localhost", "ssh"])
def target(request, lab_keys) -> Target:
    if request.param == "localhost":
        return localhost_target()
    return ssh_target(request.getfixturevalue("ssh_hosts"), lab_keys.private_key)


# -- reading the recorded times ----------------------------------------------------------------------------------


def common_instant(intervals) -> bool:
    """Whether one moment lies inside every (start, end): the latest start comes before the earliest end."""
    intervals = list(intervals)
    return max(start for start, _ in intervals) < min(end for _, end in intervals)


def intervals(results: dict, names, host: str) -> dict[str, tuple[float, float]]:
    return {name: interval(results, name, host) for name in names}


# -- the machine around a run ------------------------------------------------------------------------------------

# Bounded: each burner stops by itself after this long even if the test's cleanup never runs.
BURNER = "import time\nend = time.monotonic() + 300\nwhile time.monotonic() < end:\n    pass\n"


@contextlib.contextmanager
def cpu_burners(count: int = 2) -> Iterator[None]:
    """Processes that keep `count` cores busy beside the run, as other work on a shared machine does."""
    burners = [subprocess.Popen([sys.executable, "-c", BURNER]) for _ in range(count)]
    try:
        yield
        assert all(burner.poll() is None for burner in burners), "the burners must run beside the whole run"
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def _started(pid: int) -> str | None:
    """When the live process pid started (clock ticks since boot), which tells it from a later one given the
    same pid; None once it has ended (a zombie counts as ended)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] == "Z" else fields[19]


def _alive(pid: int) -> bool:
    return _started(pid) is not None


def run_id_of(pid: int) -> str:
    """The run id a process of the run carries in its environment (rb2ansible marks every command with it)."""
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    (value,) = [entry.split(b"=", 1)[1] for entry in environ if entry.startswith(b"RB2A_RUN_ID=")]
    assert value, f"process {pid} carries an empty run id"
    return value.decode()


def with_run_id(run_id: str) -> list[int]:
    """Live processes carrying the run id: the run's modules and commands on localhost and on the light hosts,
    which all share this machine's process table."""
    wanted = f"RB2A_RUN_ID={run_id}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if wanted in (proc / "environ").read_bytes().split(b"\0") and _alive(int(proc.name)):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _shared_connection(pid: int) -> bool:
    # An SSH ControlPersist master ("ssh: <control path> [mux]"): Ansible's connection to a host, kept open
    # for later runs by design and closed by ssh itself after ControlPersist; it runs no command of the run.
    line = _command_line(pid)
    return line.startswith("ssh: ") and line.endswith("[mux]")


class BackgroundRun:
    """`rb2ansible run` started beside the test, for what a user does to a run while it runs."""

    def __init__(self, command: list[str], results: Path):
        self.results = results
        self.process = subprocess.Popen([*command, "--results", str(results)], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self._output: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._readers = [threading.Thread(target=self._drain, args=(name,), daemon=True) for name in self._output]
        for reader in self._readers:
            reader.start()
        self.seen: dict[int, str] = {}  # pid -> start of every controller-side process of the run seen so far

    def _drain(self, name: str) -> None:
        for line in getattr(self.process, name):
            self._output[name].append(line)

    @property
    def stderr(self) -> str:
        return "".join(self._output["stderr"])

    def look(self) -> None:
        """Note the run's processes on the controller (ansible-playbook, its workers, their ssh clients)."""
        for pid in descendants(self.process.pid):
            started = _started(pid)
            if started is not None and not _shared_connection(pid):
                self.seen[pid] = started

    def press_ctrl_c(self, times: int = 1) -> None:
        """Ctrl-C at a terminal: SIGINT, pressed again as soon as rb2ansible has taken the previous press."""
        for press in range(times):
            said = self.stderr.count("stopping")
            self.process.send_signal(signal.SIGINT)
            wait_until(lambda said=said: self.stderr.count("stopping") > said, 20,
                       f"rb2ansible to take Ctrl-C {press + 1}")

    def finish(self, timeout: float = 180) -> Completed:
        try:
            self.process.wait(timeout)
        finally:
            self.process.kill()
        for reader in self._readers:
            reader.join(10)
        report = json.loads(self.results.read_text()) if self.results.exists() else None
        return Completed(self.process.returncode, "".join(self._output["stdout"]), self.stderr, report)

    def left_behind(self, run_id: str) -> list[str]:
        """Every process of the run still alive anywhere: controller side, or carrying the run id."""
        pids = {pid for pid, started in self.seen.items() if _started(pid) == started} | set(with_run_id(run_id))
        return [f"{pid} {_command_line(pid)}" for pid in sorted(pids)]


def rb2ansible_run(rb2ansible_command, runbook: Path, target: Target, tmp_path: Path, name: str = "run"
                   ) -> BackgroundRun:
    inventory = target.write_inventory(tmp_path / f"{name}-hosts.yml")
    return BackgroundRun([*rb2ansible_command, "run", str(runbook), "-i", str(inventory)], tmp_path / f"{name}.json")


def kill_leftovers(pids) -> None:
    """After a failed assertion: end what this test's run left, by pid (never by name)."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


# -- 1. overlap beside CPU load ----------------------------------------------------------------------------------


def test_six_sleeps_share_an_instant_beside_two_cpu_burners(rb2ansible, target, tmp_path):
    """Six `sleep 2` children really run at the same time on each host even while two processes keep both
    cores busy: one instant lies inside every child's recorded interval."""
    names = [f"sleep {n}" for n in range(6)]
    runbook = write_runbook(tmp_path / "rb", runbook_text("six sleeps", parallel("sleepers", *(
        shell(name, "sleep 2") for name in names))))
    inventory = target.write_inventory(tmp_path / "hosts.yml")
    with cpu_burners():
        done = rb2ansible("run", str(runbook), "-i", str(inventory))

    assert done.code == 0, everything_printed(done)
    for host in target.hosts:
        spans = intervals(done.results, names, host)
        assert all(end - start >= 2 for start, end in spans.values()), (host, spans)
        assert common_instant(spans.values()), (host, spans)


# -- 2. nesting without lock-step --------------------------------------------------------------------------------


def test_nested_serial_and_parallel_keep_their_order_and_overlap(rb2ansible, target, tmp_path):
    """`parallel: [serial: [a, b], serial: [c, parallel: [d, e]], f]`: each serial list keeps its order, the
    rest overlaps, and the task after the block starts once every child ended (recorded times)."""
    one = {name: shell(name, "sleep 1") for name in "abcde"}
    block = parallel("block",
                     serial("a then b", one["a"], one["b"]),
                     serial("c then d and e", one["c"], parallel("d and e", one["d"], one["e"])),
                     shell("f", "sleep 2"))
    runbook = write_runbook(tmp_path / "rb", runbook_text("nested", block, shell("after", "true")))
    inventory = target.write_inventory(tmp_path / "hosts.yml")
    with cpu_burners():
        done = rb2ansible("run", str(runbook), "-i", str(inventory))

    assert done.code == 0, everything_printed(done)
    for host in target.hosts:
        at = intervals(done.results, [*"abcdef", "after"], host)
        assert at["a"][1] <= at["b"][0], (host, at)
        assert at["c"][1] <= at["d"][0] and at["c"][1] <= at["e"][0], (host, at)
        assert common_instant([at["d"], at["e"]]), (host, at)
        assert common_instant([at["a"], at["c"], at["f"]]), (host, at)
        assert at["after"][0] >= max(at[name][1] for name in "abcdef"), (host, at)


# -- 3. every kind of child overlaps -----------------------------------------------------------------------------


def test_retrying_hidden_and_template_children_overlap(rb2ansible, target, tmp_path):
    """Children that retry until they succeed, children whose output is hidden, and template children whose
    render is slow (a pipe lookup on the controller) all run at once: nine intervals share an instant."""
    secret = f"hidden-{new_marker()}"
    out = tmp_path / "out"
    out.mkdir()
    retrying = [shell(f"retrying {n}",
                      f"if [ -e {out}/${{inventory_hostname}}-tried-{n} ]; then sleep 1; "
                      f"else touch {out}/${{inventory_hostname}}-tried-{n}; exit 1; fi",
                      register=f"tried_{n}", until=f"${{tried_{n}.rc}} == 0", retries=3, delay=1)
                for n in range(3)]
    hidden = [shell(f"hidden {n}", f"sleep 2; echo {secret}", no_log=True) for n in range(3)]
    templates = [{"name": f"template {n}", "template": {
        "source": "slow.j2", "destination": f"{out}/${{inventory_hostname}}-{n}.txt", "variables": {"n": n}}}
        for n in range(3)]
    runbook = write_runbook(tmp_path / "rb", runbook_text("kinds", parallel("kinds", *retrying, *hidden, *templates)),
                            **{"templates__slow.j2": "{{ lookup('ansible.builtin.pipe', 'sleep 2') }}"
                                                     "{{ inventory_hostname }} {{ n }}\n"})
    inventory = target.write_inventory(tmp_path / "hosts.yml")
    with cpu_burners():
        done = rb2ansible("run", str(runbook), "-i", str(inventory))

    assert done.code == 0, everything_printed(done)
    names = [child["name"] for child in (*retrying, *hidden, *templates)]
    for host in target.hosts:
        spans = intervals(done.results, names, host)
        assert common_instant(spans.values()), (host, spans)
        for n in range(3):
            assert task(done.results, f"retrying {n}", host)["values"]["attempts"] == 2
            assert task(done.results, f"hidden {n}", host)["status"] == "changed"
            assert (out / f"{host}-{n}.txt").read_text() == f"{host} {n}\n"
    assert secret not in everything_printed(done) + json.dumps(done.results)


# -- 4. variables reach every child, and registers leave the block -----------------------------------------------

VAULT_PASSWORD = "correct horse battery staple"
# What every child shows: inventory (group_vars, host_vars, a constructed source), -e, a vault value (as a
# digest: the value itself must be shown nowhere), a gathered fact and a value registered before the block.
KNOWN = ("{{ group_value }}|{{ host_value }}|{{ constructed_value }}|{{ extra_value }}"
         "|{{ vault_value | hash('sha256') }}|{{ ansible_facts.hostname }}|{{ before.stdout }}")


def inventory_directory(directory: Path, target: Target) -> Path:
    """The target's hosts as a YAML source, group_vars and host_vars beside it, and an inventory plugin source
    (ansible.builtin.constructed) read after it that composes a variable and builds the group the runbook uses."""
    target.write_inventory(directory / "10-hosts.yml")
    constructed = {"plugin": "ansible.builtin.constructed", "strict": True,
                   "compose": {"constructed_value": "'constructed-' ~ inventory_hostname"},
                   "groups": {"built": "true"}}
    (directory / "20-constructed.yml").write_text(yaml.safe_dump(constructed))
    (directory / "group_vars").mkdir()
    (directory / "group_vars" / "lab.yml").write_text("group_value: group-lab\n")
    (directory / "host_vars").mkdir()
    for host in target.hosts:
        (directory / "host_vars" / f"{host}.yml").write_text(f"host_value: host-{host}\n")
    return directory


def test_every_variable_reaches_every_child_and_a_register_leaves_the_block(rb2ansible, target, tmp_path):
    """Inventory variables of three kinds, -e, a vault value, facts and an earlier register are the same inside
    every kind of child (echo, shell, template, nested serial and parallel) as before the block; a value
    registered by a child is there after the block."""
    secret = f"vaulted-{new_marker()}"
    out = tmp_path / "out"
    out.mkdir()
    shown = KNOWN.replace("{{ ", "${").replace(" }}", "}")
    block = parallel(
        "block",
        echo("echo child", shown),
        shell("shell child", f'echo "{shown}"'),
        {"name": "template child", "template": {"source": "known.j2", "destination": f"{out}/${{inventory_hostname}}"}},
        serial("serial child", echo("echo in serial", shown)),
        parallel("parallel child", echo("echo in parallel", shown)),
        shell("registering child", "echo inside-${inventory_hostname}", register="inside"),
    )
    runbook = write_runbook(tmp_path / "rb", runbook_text(
        "variables",
        echo("facts before", "${ansible_facts.hostname}"),
        shell("register before", "echo before-${inventory_hostname}", register="before"),
        block,
        echo("after the block", "${inside.stdout}"),
        hosts="built", facts=True, vars_files=["secrets.yml"],
    ), **{"secrets.yml": f"vault_value: {secret}\n", "templates__known.j2": KNOWN + "\n"})
    password = tmp_path / "vault-password"
    password.write_text(VAULT_PASSWORD + "\n")
    subprocess.run([str(Path(sys.executable).parent / "ansible-vault"), "encrypt", "--vault-password-file",
                    str(password), str(runbook / "secrets.yml")], check=True, capture_output=True)
    inventory = inventory_directory(tmp_path / "inventory", target)

    done = rb2ansible("run", str(runbook), "-i", str(inventory), "-e", "extra_value=from-e",
                      "--vault-password-file", str(password))

    assert done.code == 0, everything_printed(done)
    digest = hashlib.sha256(secret.encode()).hexdigest()
    for host in target.hosts:
        fact = task(done.results, "facts before", host)["msg"]
        assert fact, host
        expected = f"group-lab|host-{host}|constructed-{host}|from-e|{digest}|{fact}|before-{host}"
        seen = {name: task(done.results, name, host)["msg"] for name in ("echo child", "echo in serial",
                                                                         "echo in parallel")}
        seen["shell child"] = task(done.results, "shell child", host)["stdout"]
        seen["template child"] = (out / host).read_text().strip()
        assert seen == dict.fromkeys(seen, expected), host
        assert task(done.results, "after the block", host)["msg"] == f"inside-{host}"
    assert secret not in everything_printed(done) + json.dumps(done.results)


# -- 5. the live view follows each child ---------------------------------------------------------------------------


def test_a_childs_live_line_turns_finished_within_a_second_of_its_end(target, tmp_path, fast_runs):
    """Run in-process, as `rb2ansible run` does, with a listener in place of the live view: the moment each
    leaf's status first turns final, as the view would draw it, is within 1 s of that leaf's recorded end; and
    a short child is shown finished while its longest sibling's command still runs (the rounds engine showed
    children running until their round ended)."""
    from translator.accelerator import mitogen
    from translator.build import load_runbook
    from translator.emit import compile_runbook
    from translator.execute import execute
    from translator.project import RunSettings
    from translator.results import FINAL

    ended = tmp_path / "ended"  # when each command really ended on its host, written by the command
    ended.mkdir()
    block = parallel("block", *(shell(f"sleep {n}", f"sleep {n}; date +%s.%N > {ended}/${{inventory_hostname}}-{n}")
                                for n in (1, 2, 4, 8)),
                     serial("steps", shell("step 1", "sleep 1"), shell("step 2", "sleep 1")))
    runbook = write_runbook(tmp_path / "rb", runbook_text("live", block, shell("after", "true")))
    inventory = target.write_inventory(tmp_path / "hosts.yml")
    shown_final: dict[tuple[str, str], float] = {}

    def on_change(results, changed: list[str]) -> None:
        now = time.time()
        for task_id in changed:
            for host, result in results.tasks[task_id].items():
                if result.status in FINAL:
                    shown_final.setdefault((task_id, host), now)

    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    compiled = compile_runbook(load_runbook(runbook))
    # Under pytest --fast, what `run --fast` gives execute (translator/cli.py): here nothing, as Mitogen declines
    # a runbook with a parallel block.
    strategy_env = mitogen(compiled, on_workers=False).environment if fast_runs else {}
    with cpu_burners():
        execution = execute(compiled, RunSettings(inventories=(inventory,), strategy_env=strategy_env),
                            tmp_path / "private", on_change, threading.Event(), artifacts)

    assert execution.results.status == "successful"
    lags = {}
    for task_id, per_host in execution.results.tasks.items():
        name = execution.results.leaves[task_id].name
        for host, result in per_host.items():
            lags[(name, host)] = round(shown_final[(task_id, host)] - result.end, 3)
    assert len(lags) == 7 * len(target.hosts), lags
    assert max(lags.values()) <= 1.0, lags
    # Events held back to the block's end would pass the check above: each child's own end must reach the view.
    sleep_1 = {task_id for task_id, leaf in execution.results.leaves.items() if leaf.name == "sleep 1"}.pop()
    for host in target.hosts:
        longest_ended = float((ended / f"{host}-8").read_text())
        assert shown_final[(sleep_1, host)] < longest_ended, (host, shown_final[(sleep_1, host)], longest_ended)


# -- 6. Ctrl-C, timeouts, kill -9, two runs at once: nothing of a run is left -----------------------------------


def sleepers_running(target: Target, seconds: int, marker: str, numbers=(1, 2, 3, 4)) -> bool:
    """Whether the sleepers numbered so, as sleeper() writes them, run on every host of target."""
    return all(with_marker(f"sleep {seconds}.{marked}") for number in numbers
               for marked in target.marked(marker, number))


def test_ctrl_c_twice_during_a_nested_block_stops_everything_and_reports(rb2ansible_command, target, tmp_path):
    """Ctrl-C pressed twice in a row while a nested block of `sleep 30` children runs: the second press does not
    cut the stop short; the run exits 1, writes its results file, and leaves no process behind."""
    marker = new_marker()
    runbook = write_runbook(tmp_path / "rb", runbook_text("interrupted", *nested_sleepers(marker, 30, tmp_path)))
    run = rb2ansible_run(rb2ansible_command, runbook, target, tmp_path)
    try:
        wait_until(lambda: sleepers_running(target, 30, marker), 90, "every sleeper running")
        run_id = run_id_of(with_marker(f"30.{marker}1")[0])
        run.look()
        run.press_ctrl_c(times=2)
        done = run.finish()
        left = run.left_behind(run_id)
    finally:
        kill_leftovers(with_marker(f"30.{marker}"))

    assert done.code == 1, everything_printed(done)
    assert "still stopping" in done.stderr
    assert left == [] and with_marker(f"30.{marker}") == []
    assert done.results is not None, "no results file"
    assert done.results["status"] == "failed"
    for name in NESTED_SLEEPERS:
        assert {task(done.results, name, host)["msg"] for host in target.hosts} == {"interrupted"}, name
        assert statuses(done.results, name) == dict.fromkeys(target.hosts, "failed"), name
    for name in ("after the chain sleeper", "afterwards"):
        assert statuses(done.results, name) == dict.fromkeys(target.hosts, "not_run"), name
    assert not any((tmp_path / host).exists() for host in target.hosts)
    assert "Traceback" not in everything_printed(done)


def test_a_hidden_child_that_times_out_fails_as_timed_out_and_leaves_nothing(rb2ansible, target, tmp_path):
    """A `no_log` child with a `timeout` inside a block: it fails with the timed-out message (its output stays
    hidden), its sibling finishes, and its command does not outlive the limit."""
    marker = new_marker()
    secret = f"hidden-{marker}"
    block = parallel("block", shell("hidden and slow", f"sleep 30.{marker}; echo {secret}", timeout=2, no_log=True),
                     shell("sibling", "sleep 1; echo sibling"))
    runbook = write_runbook(tmp_path / "rb", runbook_text("timeouts", block))
    inventory = target.write_inventory(tmp_path / "hosts.yml")
    try:
        done = rb2ansible("run", str(runbook), "-i", str(inventory))
        # async_wrapper ends a job at its limit, looking every second (poll: 1): well short of the command's 30 s
        wait_until(lambda: with_marker(f"30.{marker}") == [], 12, "no timed-out command left")
    finally:
        kill_leftovers(with_marker(f"30.{marker}"))

    assert done.code == 1, everything_printed(done)
    for host in target.hosts:
        hidden = task(done.results, "hidden and slow", host)
        assert hidden["status"] == "failed", (host, hidden)
        assert hidden["msg"].startswith("timed out after 2s"), (host, hidden)
        assert task(done.results, "sibling", host)["stdout"] == "sibling"
    assert secret not in everything_printed(done) + json.dumps(done.results)


def test_kill_9_of_rb2ansible_leaves_nothing_of_the_run_a_minute_later(rb2ansible_command, target, tmp_path):
    """`kill -9` of rb2ansible itself while a nested block of `sleep 30` children runs (the issue's case): within
    60 s nothing of the run is left anywhere. ansible-playbook, its workers and local commands die at once with
    rb2ansible (playbook_launcher); a command already running on a remote host runs to its own end, as it would
    under a killed ansible-playbook, but nothing new starts: neither the step after a sleeper in its serial
    list nor the task after the block, which a run living on would start before the minute is up."""
    marker = new_marker()
    runbook = write_runbook(tmp_path / "rb", runbook_text("killed", *nested_sleepers(marker, 30, tmp_path)))
    run = rb2ansible_run(rb2ansible_command, runbook, target, tmp_path)
    left: list[str] = []
    started_after_the_kill: set[str] = set()

    def nothing_left() -> bool:
        started_after_the_kill.update(sleeper for marked in target.marked(marker, 5)
                                      for sleeper in map(_command_line, with_marker(f"30.{marked}")))
        return not run.left_behind(run_id)

    try:
        wait_until(lambda: sleepers_running(target, 30, marker), 90, "every sleeper running")
        run_id = run_id_of(with_marker(f"30.{marker}1")[0])
        run.look()
        run.process.kill()
        run.finish()
        with contextlib.suppress(LabError):  # what is left is listed below
            wait_until(nothing_left, 60, "nothing of the run left")
        left = run.left_behind(run_id)
    finally:
        kill_leftovers({int(line.split()[0]) for line in left} | set(with_marker(f"30.{marker}")))

    assert left == [], "\n".join(left)
    assert started_after_the_kill == set()
    assert not any((tmp_path / host).exists() for host in target.hosts)


def test_two_runs_on_the_same_hosts_keep_apart_and_interrupting_one_spares_the_other(rb2ansible_command, target,
                                                                                  tmp_path):
    """Two runs of blocks on the same hosts at once: Ctrl-C stops the first and everything it started, while the
    second's children, running at that moment, carry on to a successful end."""
    stopped, spared = new_marker(), new_marker()
    first = write_runbook(tmp_path / "first", runbook_text("first", *nested_sleepers(stopped, 30, tmp_path)))
    second_block = parallel("second block", *(sleeper(f"second {n}", 30, spared, n) for n in (1, 2)))
    second = write_runbook(tmp_path / "second", runbook_text("second", second_block, echo("second done", "yes")))
    runs = [rb2ansible_run(rb2ansible_command, book, target, tmp_path, name=book.name) for book in (first, second)]
    try:
        wait_until(lambda: sleepers_running(target, 30, stopped) and sleepers_running(target, 30, spared, (1, 2)),
                   120, "both runs' sleepers running")
        run_id = run_id_of(with_marker(f"30.{stopped}1")[0])
        runs[0].look()
        runs[0].press_ctrl_c()
        interrupted = runs[0].finish()
        left = runs[0].left_behind(run_id)
        spared_after_the_stop = [with_marker(f"30.{marked}") for n in (1, 2) for marked in target.marked(spared, n)]
        carried_on = runs[1].finish()
    finally:
        for run in runs:
            run.process.kill()
        kill_leftovers(with_marker(f"30.{stopped}") + with_marker(f"30.{spared}"))

    assert interrupted.code == 1, everything_printed(interrupted)
    assert left == [], "\n".join(left)
    assert all(spared_after_the_stop), "the second run's sleepers must still run when the first has stopped"
    assert carried_on.code == 0, everything_printed(carried_on)
    for host in target.hosts:
        for n in (1, 2):
            start, end = interval(carried_on.results, f"second {n}", host)
            assert task(carried_on.results, f"second {n}", host)["status"] == "changed" and end - start >= 30
    assert statuses(carried_on.results, "second done") == dict.fromkeys(target.hosts, "ok")


# -- 7. a host lost in the middle of a block ---------------------------------------------------------------------


def test_a_host_whose_sshd_dies_during_a_block_is_unreachable_there(rb2ansible_command, ssh_hosts, lab_keys,
                                                                    tmp_path):
    """sshd of one host dies while its block runs: the children it cut off are `unreachable` on that host (the
    step after them in their serial list, and the task after the block, never ran), the other hosts finish,
    and no async job file of the run is left on it (each light host gets its own async dir, as they share a
    filesystem)."""
    marker = new_marker()
    out = tmp_path / "out"
    out.mkdir()
    target = ssh_target(ssh_hosts, lab_keys.private_key)
    for host in ssh_hosts:
        target.inventory_data["all"]["children"]["lab"]["hosts"][host.name]["ansible_async_dir"] = \
            str(tmp_path / "async" / host.name)
    block = parallel("block",
                     shell("quick", f"touch {out}/${{inventory_hostname}}"),
                     sleeper("cut off", 20, marker, 1),
                     serial("chain", sleeper("cut off in a chain", 20, marker, 2), shell("next in the chain", "true")))
    runbook = write_runbook(tmp_path / "rb", runbook_text("dying", block, shell("afterwards", "true")))
    *survivors, dying = ssh_hosts
    run = rb2ansible_run(rb2ansible_command, runbook, target, tmp_path)
    try:
        wait_until(lambda: all((out / h.name).exists() for h in ssh_hosts)
                   and all(with_marker(f"sleep 20.{marked}") for n in (1, 2) for marked in target.marked(marker, n)),
                   90, "the quick child done and the long ones running on every host")
        dying.stop()  # its sshd and every session under it, the running commands included
        done = run.finish()
    finally:
        run.process.kill()
        dying.start()
        kill_leftovers(with_marker(f"20.{marker}"))

    assert done.code == 1, everything_printed(done)
    everyone = {h.name: "changed" for h in survivors}
    assert statuses(done.results, "quick") == {**everyone, dying.name: "changed"}
    for name in ("cut off", "cut off in a chain"):
        assert statuses(done.results, name) == {**everyone, dying.name: "unreachable"}, name
    assert statuses(done.results, "next in the chain") == {**everyone, dying.name: "not_run"}
    assert statuses(done.results, "afterwards") == {**everyone, dying.name: "not_run"}
    async_dir = tmp_path / "async" / dying.name
    assert not async_dir.exists() or list(async_dir.iterdir()) == []
    assert "Traceback" not in everything_printed(done)
