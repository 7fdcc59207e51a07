"""Generated easy modules run by real Ansible: foreground, background (async), check mode, on a Python without click."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import ansible_runner
import pytest
import yaml

from tests.helpers_easy_modules import STAMP, python_without, write_modules
from translator import yamlout
from translator.easy_modules import build_ansible_module, find

COLLECTION = "rb2ansible.easy"


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> str:
    return python_without("click", tmp_path_factory.mktemp("python"))


class EasyCollection:
    """A throwaway rb2ansible.easy collection holding generated modules, and plays run against it."""

    def __init__(self, root: Path, python: str):
        self.root = root
        self.python = python
        self.modules = root / "collections" / "ansible_collections" / "rb2ansible" / "easy" / "plugins" / "modules"
        self.modules.mkdir(parents=True)
        (self.modules.parents[1] / "meta").mkdir()
        (self.modules.parents[1] / "meta" / "runtime.yml").write_text("requires_ansible: '>=2.17.0'\n")
        self.runs = 0

    def add(self, name: str, runbook_dir: Path) -> str:
        module = find(name, runbook_dir)
        (self.modules / f"{module.ansible_name}.py").write_text(build_ansible_module(module, self.root / "cache"))
        return f"{COLLECTION}.{module.ansible_name}"

    def play(self, tasks: list[dict]) -> list[dict]:
        return [{"name": "Easy modules", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]

    def run(self, tasks: list[dict]) -> tuple[str, dict[str, tuple[str, dict]]]:
        """Runs the tasks on localhost with the bare Python; (status, {task: (event, result)})."""
        self.runs += 1
        data_dir = self.root / f"run{self.runs}"
        (data_dir / "project").mkdir(parents=True)
        (data_dir / "inventory").mkdir()
        (data_dir / "project" / "site.yml").write_text(yaml.safe_dump(self.play(tasks), sort_keys=False))
        (data_dir / "inventory" / "hosts").write_text(
            f"localhost ansible_connection=local ansible_python_interpreter={self.python}\n")
        runner = ansible_runner.run(private_data_dir=str(data_dir), playbook="site.yml", quiet=True,
                                    envvars={"ANSIBLE_COLLECTIONS_PATH": str(self.root / "collections"),
                                             "ANSIBLE_ASYNC_DIR": str(self.root / "async"),
                                             # as rb2ansible runs (JSON modules are copied all the same)
                                             "ANSIBLE_PIPELINING": "True"})
        outcomes = {}
        for event in runner.events:
            if event["event"] in ("runner_on_ok", "runner_on_failed", "runner_on_skipped"):
                outcomes[event["event_data"]["task"]] = (event["event"], event["event_data"].get("res", {}))
        return runner.status, outcomes


@pytest.fixture
def collection(tmp_path, monkeypatch, bare_python) -> EasyCollection:
    # ansible-runner starts `ansible-playbook` from PATH: use the one beside this Python
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    return EasyCollection(tmp_path, bare_python)


def test_an_easy_module_runs_in_the_foreground_and_in_the_background(collection, tmp_path):
    runbook = write_modules(tmp_path / "runbook", stamp__write=STAMP, stamp__common="MARK = '!'\n",
                            shared__util="SUFFIX = '-s'\n",
                            boom="def run(args):\n    raise RuntimeError('no luck')\n")
    stamp = collection.add("stamp/write", runbook)
    boom = collection.add("boom", runbook)
    front, back = tmp_path / "front.txt", tmp_path / "back.txt"
    status, outcomes = collection.run([
        {"name": "Check", stamp: {"path": str(front), "text": "hi"}, "check_mode": True},
        {"name": "Write", stamp: {"path": str(front), "text": "hi"}},
        {"name": "Write again", stamp: {"path": str(front), "text": "hi"}},
        {"name": "Launch", stamp: {"path": str(back), "text": "bg"}, "async": 30, "poll": 0, "register": "job"},
        {"name": "Wait", "ansible.builtin.async_status": {"jid": "{{ job.ansible_job_id }}"}, "register": "waited",
         "until": "waited.finished", "retries": 60, "delay": 1},
        {"name": "Fail", boom: {}, "ignore_errors": True},
    ])
    assert status == "successful", outcomes
    event, result = outcomes["Check"]
    assert (event, result["changed"], result["msg"]) == ("runner_on_ok", True, f"would write {front}")
    event, result = outcomes["Write"]
    assert (event, result["changed"]) == ("runner_on_ok", True)
    assert "bundle.zip/click/" in result["click_from"], "click came from the bundle, not the target"
    assert result["stdout"] == "run() says hello\nfrom a child process\n"
    assert outcomes["Write again"][1]["changed"] is False
    assert front.read_text() == "hi-s!"

    assert "ansible_job_id" in outcomes["Launch"][1]
    event, result = outcomes["Wait"]
    assert (event, result["finished"], result["changed"]) == ("runner_on_ok", 1, True)
    assert "bundle.zip/click/" in result["click_from"]
    assert back.read_text() == "bg-s!"

    event, result = outcomes["Fail"]
    assert (event, result["msg"]) == ("runner_on_failed", "RuntimeError: no luck")


def test_systemd_helper_writes_the_unit_then_changes_nothing(collection, tmp_path):
    create = collection.add("systemd-helper/create", tmp_path)
    units = tmp_path / "units"
    units.mkdir()
    arguments = {"service_name": "academic", "description": "Academic service", "user": "academic",
                 "exec": "/usr/bin/python3 -m http.server 8080", "service_extra": ["MemoryMax=512M"],
                 "unit_dir": str(units), "reload": False}
    status, outcomes = collection.run([{"name": "Unit", create: arguments}, {"name": "Unit again", create: arguments}])
    assert status == "successful", outcomes
    assert outcomes["Unit"][1]["changed"] is True
    assert outcomes["Unit again"][1]["changed"] is False
    content = (units / "academic.service").read_text()
    assert "\nUser=academic\n" in content and "\nMemoryMax=512M\n" in content
    assert [p.name for p in units.iterdir()] == ["academic.service"]


def test_a_playbook_using_generated_modules_passes_ansible_lint_production(collection, tmp_path):
    runbook = write_modules(tmp_path / "runbook", stamp__write=STAMP, stamp__common="MARK = '!'\n",
                            shared__util="SUFFIX = '-s'\n")
    stamp = collection.add("stamp/write", runbook)
    create = collection.add("systemd-helper/create", runbook)
    project = tmp_path / "project"
    project.mkdir()
    (project / "site.yml").write_text("---\n" + yamlout.dump(collection.play([
        {"name": "Write a stamp", stamp: {"path": "/tmp/stamp", "text": "hi"}},
        {"name": "Write a unit in the background", create: {"service_name": "x", "exec": "/bin/true"},
         "async": 30, "poll": 0},
    ])))
    lint = subprocess.run([str(Path(sys.executable).parent / "ansible-lint"), "--offline", "--profile", "production",
                           "site.yml"], cwd=project, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(collection.root / "collections")})
    assert lint.returncode == 0, lint.stdout + lint.stderr
