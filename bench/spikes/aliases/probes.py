"""Spike of design A: fidelity, leaks, failure, Ctrl-C / kill -9 and per-child events, each shown by a real run.

Prints findings as Markdown tables. Usage (from the repository root):
    .venv-test/bin/python bench/spikes/aliases/probes.py
        [--only fidelity,limit,check,rolling,hide,nested_failure,failure,kill,controlpersist,events]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from measure import BIN, ROOT, local_inventory, play, render_ini  # noqa: E402

from tests.lab.keys import make_lab_keys  # noqa: E402
from tests.lab.processes import descendants  # noqa: E402
from tests.lab.ssh_hosts import start_ssh_hosts, stop_ssh_hosts  # noqa: E402

VAULT = ("--vault-password-file", str(HERE / "fidelity" / "vault-pass.txt"))
KEYS = ["inventory_hostname", "group_names", "groups_web", "groups_all", "ansible_play_hosts", "ini_hostvar", "gv_web",
        "url", "hv_file", "plugin_var", "composed", "vault_secret_ok", "extra_e", "fact_ansible_facts_system",
        "fact_injected_ansible_system", "pre_reg", "pre_fact", "hostvars_self_gv_web", "inner_reg_back", "check_mode"]


def seen(out: Path, stage: str, host: str) -> dict:
    path = out / f"{stage}-{host}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def short(value) -> str:
    text = json.dumps(value) if isinstance(value, list) else str(value)
    return text.replace("|", "/")[:60]


def fidelity_run(scratch: Path, name: str, playbook: str, inventory: str, extra: dict, args: tuple = (),
                 label: str = "fidelity") -> tuple[Path, object]:
    out = scratch / f"seen-{name}"
    out.mkdir()
    run = play(label, playbook, HERE / inventory, scratch,
               {"out_dir": out, "extra_e": "from-e", "ansible_python_interpreter": sys.executable, **extra},
               (*VAULT, *args))
    return out, run


def section_fidelity(scratch: Path) -> None:
    candidates = {
        "(i) branch_hosts refs": ("fidelity_aliases.yml", "fidelity/inventory", {}),
        "(i) branch_hosts copy_values": ("fidelity_aliases.yml", "fidelity/inventory", {"rb2a_copy_values": "true"}),
        "(ii) builtin add_host + groups": ("fidelity_add_host.yml", "fidelity/inventory", {}),
        "(iii) inventory plugin clones": ("fidelity_clones.yml", "fidelity/clones", {}),
    }
    columns = {}
    for name, (playbook, inventory, extra) in candidates.items():
        out, run = fidelity_run(scratch, name.split()[0].strip("()") + name.split()[-1], playbook, inventory, extra)
        columns[name] = (seen(out, "branch", "web1~probe~0"), run.rc)
        if name.endswith("refs"):
            after, later = seen(out, "after", "web1"), seen(out, "later", "web1~probe~0")
    print("\n## What a branch of web1 sees (web1's expected value in the first column)")
    names = " | ".join(f"{n} (rc {rc})" for n, (_, rc) in columns.items())
    print(f"| variable | web1 after the block ((i) refs) | {names} |")
    print("|---" * (len(columns) + 2) + "|")
    for key in KEYS:
        values = " | ".join(short(c.get(key, "-")) for c, _ in columns.values())
        print(f"| {key} | {short(after.get(key))} | {values} |")
    print(f"\nIn a later `hosts: all` play, (i) runs on the aliases too: web1~probe~0 saw {short(later)[:0]}"
          f"inventory_hostname={later.get('inventory_hostname')}, ansible_play_hosts={later.get('ansible_play_hosts')}")


def section_limit(scratch: Path) -> None:
    print("\n## --limit web1 with (i)")
    for limit in ("web1", "web1,rb2a_branch"):
        out, run = fidelity_run(scratch, f"limit-{limit}", "fidelity_aliases.yml", "fidelity/inventory", {},
                                ("--limit", limit), label="expected-failure")
        branches = sorted(p.name for p in out.glob("branch-*"))
        print(f"- `--limit {limit}`: rc {run.rc}, branch probes written: {branches or 'none'}")


def section_check(scratch: Path) -> None:
    out, run = fidelity_run(scratch, "check", "fidelity_aliases.yml", "fidelity/inventory", {}, ("--check",))
    branch = seen(out, "branch", "web1~probe~0")
    print(f"\n## --check with (i)\n- rc {run.rc}; a branch saw ansible_check_mode={branch.get('check_mode')}; "
          f"aliases made: {sorted({r['host'] for r in run.records if '~' in r.get('host', '')})}")


def section_rolling(scratch: Path) -> None:
    inventory = scratch / "two.ini"
    inventory.write_text(f"[web]\nweb1\nweb2\n[web:vars]\nansible_connection=local\nansible_python_interpreter={sys.executable}\n")
    run = play("rolling", "rolling_aliases.yml", inventory, scratch, {"seconds": 1})
    order = [f"{r['host']}:{r['task']}" for r in run.records
             if r["event"] == "start" and "Branch done" not in r["task"]]
    print(f"\n## rolling (play `serial: 1`) with (i), rc {run.rc}: order of task starts\n- " + " → ".join(order))


def section_nested_failure(scratch: Path) -> None:
    run = play("expected-failure", "nested_aliases.yml", local_inventory(scratch), scratch,
               {"rb2a_signal_dir": scratch / "signals-failure", "c_command": "false"})
    t0 = run.records[0]["t"]
    print(f"\n## nested block whose `c` fails (d and e wait on c): rc {run.rc}")
    for host, task, start, end in sorted(run.intervals(), key=lambda i: i[2]):
        status = next(r.get("status") for r in run.records if r["event"] == "end" and r["host"] == host
                      and r["task"] == task)
        print(f"- {host} `{task}` {start - t0:.2f}-{end - t0:.2f} s {status}")


def section_hide(scratch: Path) -> None:
    inventory = scratch / "two-hide.ini"
    inventory.write_text(f"[web]\nweb1\nweb2\n[web:vars]\nansible_connection=local\n"
                         f"ansible_python_interpreter={sys.executable}\n")
    env = dict(os.environ, ANSIBLE_CONFIG=str(HERE / "ansible.cfg"),
               PATH=os.pathsep.join([str(BIN), os.environ["PATH"]]))
    done = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), "hide_magic.yml"], cwd=HERE, env=env,
                          capture_output=True, text=True)
    seen = [line.strip() for line in done.stdout.splitlines() if "inventory_hostname=" in line]
    print(f"\n## play vars overriding magic variables in the alias play (hide_magic.yml): rc {done.returncode}")
    for line in seen:
        print(f"- {line}")


def section_failure(scratch: Path) -> None:
    run = play("expected-failure", "failure_aliases.yml", local_inventory(scratch), scratch)
    t0 = run.records[0]["t"]
    print(f"\n## a failing child (one fails at once, two sleep 2 s): rc {run.rc}")
    print("| host | task | start (s) | end (s) | status |\n|---|---|---|---|---|")
    for record in run.records:
        if record["event"] == "end":
            start = next(r["t"] for r in run.records if r["event"] == "start" and r["uuid"] == record["uuid"]
                         and r["host"] == record["host"])
            print(f"| {record['host']} | {record['task']} | {start - t0:.2f} | {record['t'] - t0:.2f} | "
                  f"{record['status']} |")
    print(f"- hosts in the recap: {next(r['hosts'] for r in run.records if r['event'] == 'stats')}")


def remote_sleepers(sshd_pids: list[int], what: str) -> list[str]:
    found = []
    for pid in (p for sshd in sshd_pids for p in descendants(sshd)):
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        if args == what:  # the command itself, not its /bin/sh -c wrapper
            found.append(f"{pid}:{args[:60]}")
    return found


def section_kill(scratch: Path) -> None:
    keys = make_lab_keys(scratch / "keys")
    hosts = start_ssh_hosts(3, keys, scratch / "ssh", name_prefix="spike-kill")
    inventory = scratch / "kill.ini"
    inventory.write_text(render_ini(hosts, keys.private_key, group="web"))
    sshd_pids = [h.process.pid for h in hosts]
    print("\n## Ctrl-C and kill -9 of ansible-playbook during three `sleep 30` branches on each of 3 SSH hosts")
    print("| how | ansible-playbook exit | `sleep 30` processes (of 9) under the hosts' sshd: +1 s | +10 s | +35 s |")
    print("|---|---|---|---|---|")
    try:
        for how in ("SIGINT to the process group (Ctrl-C)", "SIGINT twice", "kill -9 of ansible-playbook"):
            timeline = scratch / f"kill-{len(how)}.jsonl"
            env = dict(os.environ, ANSIBLE_CONFIG=str(HERE / "ansible.cfg"), RB2A_TIMELINE=str(timeline),
                       PATH=os.pathsep.join([str(BIN), os.environ["PATH"]]))
            process = subprocess.Popen([str(BIN / "ansible-playbook"), "-i", str(inventory), "sleep_aliases.yml",
                                        "-e", "children=3", "-e", "seconds=30"], cwd=HERE, env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            deadline = time.monotonic() + 60
            while len(remote_sleepers(sshd_pids, "sleep 30")) < 9 and time.monotonic() < deadline:
                time.sleep(0.2)
            if how.startswith("kill"):
                os.kill(process.pid, signal.SIGKILL)
            else:
                os.killpg(process.pid, signal.SIGINT)
                if how.endswith("twice"):
                    time.sleep(0.3)
                    os.killpg(process.pid, signal.SIGINT)
            try:
                code = process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                code = "still running after 60 s"
            killed_at = time.monotonic()
            counts = []
            for at in (1, 10, 35):
                time.sleep(max(0.0, killed_at + at - time.monotonic()))
                counts.append(len(remote_sleepers(sshd_pids, "sleep 30")))
            print(f"| {how} | {code} | " + " | ".join(map(str, counts)) + " |")
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    finally:
        stop_ssh_hosts(hosts)


def section_controlpersist(scratch: Path) -> None:
    """TCP connections from this machine to each host while ten aliases per host run, cold and warm."""
    keys = make_lab_keys(scratch / "cp-keys")
    hosts = start_ssh_hosts(3, keys, scratch / "cp-ssh", name_prefix="spike-cp")
    inventory = scratch / "cp.ini"
    inventory.write_text(render_ini(hosts, keys.private_key, group="web"))
    print("\n## SSH connections per host during ten `sleep 5` aliases per host (most in any sample, 2-7 s in)")
    try:
        for start in ("cold (no ControlPersist master yet)", "warm (a serial run just before)"):
            if start.startswith("warm"):
                play("warm-up", "sleep_serial_10.yml", inventory, scratch, {"seconds": 0})
            samples: list[dict[str, int]] = []

            def sample(into: list[dict[str, int]] = samples) -> None:
                time.sleep(2)
                for _ in range(10):
                    lines = subprocess.run(["ss", "-tn", "state", "established"], capture_output=True,
                                           text=True).stdout.splitlines()
                    into.append({h.address: sum(1 for line in lines if line.split()[-1:] == [f"{h.address}:22"])
                                 for h in hosts})
                    time.sleep(0.5)

            sampler = threading.Thread(target=sample)
            sampler.start()
            run = play("cp", "sleep_aliases.yml", inventory, scratch, {"children": 10, "seconds": 5})
            sampler.join()
            most = {address: max(s[address] for s in samples) for address in samples[0]}
            print(f"- {start}: rc {run.rc}, connections per host address: {most}")
    finally:
        stop_ssh_hosts(hosts)


def section_events(scratch: Path) -> None:
    import ansible_runner

    data = scratch / "runner"
    (data / "project").mkdir(parents=True)
    for item in HERE.iterdir():
        if item.name not in ("measure.py", "probes.py", "__pycache__"):
            (data / "project" / item.name).symlink_to(item)
    (data / "inventory").mkdir()
    # No .ini suffix: ansible-core 2.18 ignores *.ini files inside an inventory directory.
    (data / "inventory" / "hosts").write_text(local_inventory(scratch).read_text())
    runner = ansible_runner.run(private_data_dir=str(data), playbook="sleep_aliases.yml", quiet=True,
                                extravars={"children": 3, "seconds": 1},
                                envvars={"ANSIBLE_CONFIG": str(HERE / "ansible.cfg"),
                                         "PATH": os.pathsep.join([str(BIN), os.environ["PATH"]])})
    print(f"\n## ansible-runner events of sleep_aliases.yml (3 children of 1 s): status {runner.status}")
    print("| event | host | task | task_uuid | task_path | start | end |\n|---|---|---|---|---|---|---|")
    for event in runner.events:
        if event["event"] in ("runner_on_start", "runner_on_ok", "runner_on_failed"):
            d = event["event_data"]
            path = d.get("task_path", "").replace(str(data), "…")
            print(f"| {event['event']} | {d.get('host')} | {d.get('task')} | {d.get('task_uuid', '')[-6:]} | {path} | "
                  f"{str(d.get('start', ''))[11:23]} | {str(d.get('end', ''))[11:23]} |")
    stats = next(e for e in runner.events if e["event"] == "playbook_on_stats")["event_data"]
    print(f"- playbook_on_stats ok per host: {stats.get('ok')}")
    # The fidelity play over ansible-runner: is the vault value anywhere in the artifacts?
    (data / "project" / "out").mkdir()
    secret_run = ansible_runner.run(private_data_dir=str(data), playbook="fidelity_aliases.yml", quiet=True,
                                    inventory=str(HERE / "fidelity" / "inventory"),
                                    cmdline=" ".join(VAULT),
                                    extravars={"out_dir": str(data / "project" / "out"), "rb2a_copy_values": True,
                                               "ansible_python_interpreter": sys.executable},
                                    envvars={"ANSIBLE_CONFIG": str(HERE / "ansible.cfg")})
    leaked = subprocess.run(["grep", "-rl", "s3cret-from-vault", str(data / "artifacts")],
                            capture_output=True, text=True)
    print(f"- fidelity play with copy_values under ansible-runner: {secret_run.status}; artifacts files holding the "
          f"vault value: {leaked.stdout.split() or 'none'}")


SECTIONS = {"fidelity": section_fidelity, "limit": section_limit, "check": section_check, "rolling": section_rolling,
            "hide": section_hide, "nested_failure": section_nested_failure,
            "failure": section_failure, "kill": section_kill, "controlpersist": section_controlpersist,
            "events": section_events}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(SECTIONS))
    options = parser.parse_args()
    version = subprocess.run([str(BIN / "ansible"), "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    print(f"# design A probes: {version}, python {sys.version.split()[0]}, load {os.getloadavg()}, root {ROOT}")
    with tempfile.TemporaryDirectory(prefix="rb2a-spike-probes-") as scratch:
        for name in options.only.split(","):
            SECTIONS[name](Path(scratch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
