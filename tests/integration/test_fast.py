"""`run --fast` on real SSH hosts: Mitogen's strategy gives the same results, Ctrl-C still stops everything, and
what Mitogen cannot serve runs without it after saying why."""

from __future__ import annotations

import uuid

from tests.integration.conftest import task, write_runbook
from tests.integration.lab_runs import interrupt_when, statuses
from tests.lab.inventory import write_inventory
from tests.processes import with_marker

# The command line of the shell's parent and grandparent: Mitogen's interpreter names itself `mitogen:...`.
ANCESTRY = "ps -o args= -p $PPID; ps -o args= -p $(ps -o ppid= -p $PPID)"
COMPARED = ("status", "rc", "stdout", "stderr", "msg")

HELLO_MODULE = '''"""Say hello to a name."""


def run(args):
    return {"changed": False, "greeting": "hello " + args["name"]}
'''


def test_fast_runs_through_mitogen_with_the_results_of_a_plain_run(rb2ansible, ssh_hosts, lab_keys, tmp_path,
                                                                    monkeypatch):
    hosts = ssh_hosts[:2]
    runbook = write_runbook(tmp_path / "rb", f"""
name: fast
hosts: lab
tasks:
- name: ancestry
  shell: "{ANCESTRY}"
- name: command line
  shell: "echo one; echo two >&2"
- name: the module's creates
  shell: {{cmd: "echo ran", creates: /}}
- name: greet
  echo: "hello ${{inventory_hostname}}"
- name: easy module
  hello: {{name: "${{inventory_hostname}}"}}
  register: greeting
- name: only when registered
  shell: "echo ${{greeting.greeting}}"
  when: greeting.greeting is defined
- name: as root
  shell: id -un
  sudo: true
- name: render
  template: {{source: note.j2, destination: "${{out}}/${{inventory_hostname}}.txt"}}
""", **{"modules__hello.py": HELLO_MODULE, "templates__note.j2": "note for {{ inventory_hostname }}\n"})
    inventory = write_inventory(tmp_path / "hosts.ini", hosts, lab_keys.private_key)

    outputs = {kind: tmp_path / kind for kind in ("plain", "fast")}
    for directory in outputs.values():
        directory.mkdir()
    monkeypatch.delenv("RB2ANSIBLE_FAST", raising=False)  # plain even when pytest --fast sets it for every run
    plain = rb2ansible("run", str(runbook), "-i", str(inventory), "-e", f"out={outputs['plain']}")
    fast = rb2ansible("run", str(runbook), "-i", str(inventory), "-e", f"out={outputs['fast']}", "--fast")

    assert plain.code == fast.code == 0, plain.stdout + plain.stderr + fast.stdout + fast.stderr
    assert "without Mitogen" not in fast.stderr
    # --fast fuses the first two steps (translator/fusion.py): the fused task runs under Mitogen too.
    assert "--fast: 2 plain shell steps run fused as 1 task" in fast.stderr
    for host in hosts:
        assert "mitogen:" in task(fast.results, "ancestry", host.name)["stdout"]
        assert "mitogen:" not in task(plain.results, "ancestry", host.name)["stdout"]
        for entry in plain.results["tasks"]:
            if entry["name"] != "ancestry":
                expected = {key: entry["results"][host.name][key] for key in COMPARED}
                got = {key: task(fast.results, entry["name"], host.name)[key] for key in COMPARED}
                assert got == expected, entry["name"]
        assert (outputs["fast"] / f"{host.name}.txt").read_text() == f"note for {host.name}\n"
    assert task(fast.results, "only when registered", hosts[0].name)["stdout"] == f"hello {hosts[0].name}"


def test_ctrl_c_under_fast_stops_the_command_on_every_host(rb2ansible_command, ssh_hosts, lab_keys, tmp_path):
    marker = str(uuid.uuid4().int)[:8]
    runbook = write_runbook(tmp_path / "rb", f"""
name: interrupted
hosts: lab
tasks:
- name: a module, for Mitogen to run
  ping: {{}}
- name: sleeper
  shell: sleep 30.{marker}
- name: afterwards
  shell: "true"
""")
    inventory = write_inventory(tmp_path / "hosts.ini", ssh_hosts[:2], lab_keys.private_key)
    run = interrupt_when([*rb2ansible_command, "run", str(runbook), "-i", str(inventory), "--fast"],
                         tmp_path / "results.json", lambda: len(with_marker(f"30.{marker}")) >= 2,
                         "the sleeper running on both hosts")

    assert run.code == 1, run.stdout + run.stderr
    assert with_marker(f"30.{marker}") == []
    assert statuses(run.report, "afterwards") == {h.name: "not_run" for h in ssh_hosts[:2]}


def test_fast_says_why_it_cannot_serve_a_parallel_block_and_runs_without_it(rb2ansible, tmp_path):
    runbook = write_runbook(tmp_path / "rb", """
name: together
tasks:
- name: both
  parallel:
  - {name: one, shell: "true"}
  - {name: two, shell: "true"}
""")
    done = rb2ansible("run", str(runbook), "--fast")

    assert done.code == 0, done.stdout + done.stderr
    assert "--fast: running without Mitogen: its parallel blocks" in done.stderr
    assert statuses(done.results, "two") == {"localhost": "changed"}


def test_fast_says_a_runbook_of_command_lines_is_faster_without_it(rb2ansible, tmp_path):
    runbook = write_runbook(tmp_path / "rb", """
name: commands
tasks:
- {name: one, shell: "true"}
- {name: two, echo: "done"}
""")
    done = rb2ansible("run", str(runbook), "--fast")

    assert done.code == 0, done.stdout + done.stderr
    assert "--fast: running without Mitogen: every task is a command line or an echo" in done.stderr
    assert statuses(done.results, "one") == {"localhost": "changed"}
