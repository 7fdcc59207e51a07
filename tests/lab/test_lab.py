"""Smoke tests proving the lab: Ansible reaches light hosts and nspawn machines, which behave as hosts."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import ansible_runner
import yaml

from tests.lab.inventory import write_inventory
from tests.lab.nspawn import wildcard_ssh_listeners


def run_playbook(workdir: Path, inventory: Path, tasks: list[dict], extravars: dict | None = None):
    """Run one play over group 'lab' with plain ansible-runner, as the project's executor will."""
    play = {"name": "lab smoke", "hosts": "lab", "gather_facts": False, "tasks": tasks}
    private_data_dir = workdir / "runner"
    (private_data_dir / "project").mkdir(parents=True)
    (private_data_dir / "project" / "site.yml").write_text(yaml.safe_dump([play], sort_keys=False))
    return ansible_runner.run(
        private_data_dir=str(private_data_dir),
        playbook="site.yml",
        inventory=str(inventory),
        extravars=extravars or {},
        # The venv's ansible-playbook, even when pytest was started without the venv on PATH.
        envvars={"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"},
        quiet=True,
    )


def test_ansible_pings_light_hosts_and_writes_a_file_per_host(ssh_hosts, lab_keys, tmp_path):
    inventory = write_inventory(tmp_path / "hosts.ini", ssh_hosts, lab_keys.private_key)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    tasks = [
        {"ansible.builtin.ping": {}},
        # Light hosts share this machine's filesystem, hence one path per host.
        {"ansible.builtin.copy": {"content": "{{ ansible_host }}\n",
                                  "dest": str(out_dir / "{{ inventory_hostname }}.txt")}},
    ]
    result = run_playbook(tmp_path, inventory, tasks)

    assert (result.status, result.rc) == ("successful", 0)
    assert sorted(result.stats["ok"]) == sorted(h.name for h in ssh_hosts)
    for host in ssh_hosts:
        assert (out_dir / f"{host.name}.txt").read_text() == f"{host.address}\n"


def test_stopped_light_host_is_unreachable_and_comes_back(ssh_hosts, lab_keys, tmp_path):
    inventory = write_inventory(tmp_path / "hosts.yml", ssh_hosts, lab_keys.private_key)
    down = ssh_hosts[-1]
    down.stop()
    try:
        result = run_playbook(tmp_path / "while-down", inventory, [{"ansible.builtin.ping": {}}])
    finally:
        down.start()

    assert result.status == "failed"
    assert list(result.stats["dark"]) == [down.name]
    assert sorted(result.stats["ok"]) == sorted(h.name for h in ssh_hosts[:-1])
    assert down.ssh("echo back").strip() == "back"


def test_nspawn_machines_boot_systemd_under_their_own_names(nspawn_machines):
    # Numbering depends on which test booted machines first; names must be distinct and their own.
    assert len({m.name for m in nspawn_machines}) == 2
    assert all(m.name.startswith("rb2a-lab-") for m in nspawn_machines)
    for machine in nspawn_machines:
        assert machine.ssh("hostname").strip() == machine.name
        assert machine.ssh("systemctl is-system-running").strip() == "running"
        assert machine.ssh("ps -o comm= -p 1").strip() == "systemd"
        assert machine.ssh("hostname").strip() == machine.name
    machine_ids = {m.ssh("cat /etc/machine-id") for m in nspawn_machines}
    assert len(machine_ids) == len(nspawn_machines)


def test_nspawn_machines_have_their_own_filesystems(nspawn_machines):
    first, second = nspawn_machines
    marker = f"/root/rb2a-lab-marker-{uuid.uuid4().hex}"
    first.ssh(f"echo {first.name} > {marker}")

    assert first.ssh(f"cat {marker}").strip() == first.name
    assert second.run(f"test -e {marker}").returncode == 1
    assert not Path(marker).exists()


def test_ansible_reaches_nspawn_machines(nspawn_machines, lab_keys, tmp_path):
    inventory = write_inventory(tmp_path / "hosts.ini", nspawn_machines, lab_keys.private_key)
    tasks = [
        {"ansible.builtin.ping": {}},
        {"ansible.builtin.command": "systemctl is-system-running", "register": "state", "changed_when": False},
        {"ansible.builtin.assert": {"that": "state.stdout == 'running'"}},
    ]
    result = run_playbook(tmp_path, inventory, tasks)

    assert (result.status, result.rc) == ("successful", 0)
    assert sorted(result.stats["ok"]) == [m.name for m in nspawn_machines]


def test_every_sshd_listens_on_its_own_address_only(ssh_hosts, nspawn_machines):
    assert wildcard_ssh_listeners() == []
    for machine in nspawn_machines:
        # The network is shared, but ss -p names only processes of the machine's own PID namespace.
        own = [line.split()[3] for line in machine.ssh("ss -ltnpH").splitlines() if '"sshd"' in line]
        assert own == [f"{machine.address}:22"]
