"""The flagship example: deploy the academic stack onto a real Debian machine and use it."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT
from tests.lab.inventory import write_inventory

EXAMPLE = ROOT / "runbooks" / "academic-stack"
VAULT_PASS = EXAMPLE / "demo-vault-pass.txt"
IPS_SQL = """SELECT round(sum(CASE k.nilai WHEN 'A' THEN 4 WHEN 'A-' THEN 3.75 WHEN 'B+' THEN 3.5
  WHEN 'B' THEN 3 WHEN 'B-' THEN 2.75 WHEN 'C+' THEN 2.5 WHEN 'C' THEN 2 WHEN 'D' THEN 1 WHEN 'E' THEN 0 END
  * m.sks) / sum(m.sks), 2) FROM krs k JOIN mata_kuliah m ON m.kode_mk = k.kode_mk
  WHERE k.nim = '22002' AND k.semester = (SELECT max(semester) FROM krs WHERE nim = '22002')"""


def http(method: str, url: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def secrets() -> list[str]:
    shown = subprocess.run([str(Path(sys.executable).parent / "ansible-vault"), "view", "--vault-password-file",
                            str(VAULT_PASS), str(EXAMPLE / "vault.yml")], capture_output=True, text=True, check=True)
    return [str(value) for value in yaml.safe_load(shown.stdout).values()]


@pytest.fixture(scope="module")
def machine(nspawn_machine_factory):
    """A machine of its own: the stack installs packages and services the other tests should not see."""
    return nspawn_machine_factory(1)[0]


@pytest.fixture(scope="module")
def deployed(machine, lab_keys, tmp_path_factory, rb2ansible_module):
    inventory = write_inventory(tmp_path_factory.mktemp("inv") / "hosts.ini", [machine], lab_keys.private_key,
                                group="academic")
    first = rb2ansible_module("run", str(EXAMPLE), "-i", str(inventory), "--vault-password-file", str(VAULT_PASS))
    return inventory, first


def test_the_stack_deploys_and_answers_through_the_gateway(deployed, machine):
    _, first = deployed
    assert first.code == 0, first.stdout[-4000:] + first.stderr[-2000:]
    gateway = f"http://{machine.address}:8081"

    assert http("GET", f"{gateway}/health")[0] == 200
    assert http("GET", f"{gateway}/api/acad/ips?nim=22002")[0] == 401

    user = f"student{uuid.uuid4().hex[:8]}"
    assert http("POST", f"{gateway}/api/auth/register", {"username": user, "password": "correct horse 42"})[0] == 201
    status, login = http("POST", f"{gateway}/api/auth/login", {"username": user, "password": "correct horse 42"})
    assert status == 200 and login["access_token"]
    token = login["access_token"]

    status, ips = http("GET", f"{gateway}/api/acad/ips?nim=22002", token=token)
    assert status == 200, ips
    expected = machine.ssh(f"runuser -u postgres -- psql -X -At -d db_kelas_acad -c \"{IPS_SQL}\"").strip()
    assert ips["NIM"] == "22002" and ips["Nama Mahasiswa"] and ips["Jurusan"]
    assert f"{ips['IPS']:.2f}" == expected
    assert http("GET", f"{gateway}/api/acad/ips?nim=99999", token=token)[0] == 404
    assert http("GET", f"{gateway}/api/acad/ips?nim=abc", token=token)[0] == 422

    unit = machine.ssh("systemctl show -p MemoryMax -p CPUQuotaPerSecUSec -p User auth-service")
    assert "MemoryMax=536870912" in unit and "CPUQuotaPerSecUSec=500ms" in unit and "User=auth" in unit


def test_a_second_run_changes_nothing(deployed, rb2ansible_module):
    inventory, _ = deployed
    again = rb2ansible_module("run", str(EXAMPLE), "-i", str(inventory), "--vault-password-file", str(VAULT_PASS))
    assert again.code == 0, again.stdout[-4000:]
    changed = {entry["name"]: result["status"] for entry in again.results["tasks"]
               for result in entry["results"].values() if result["status"] == "changed"}
    assert changed == {}


def test_no_secret_in_output_results_or_repository(deployed):
    _, first = deployed
    printed = first.stdout + first.stderr + json.dumps(first.results)
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for secret in secrets():
        assert secret not in printed
        for name in filter(None, tracked):
            path = ROOT / name.decode()
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), name.decode()
