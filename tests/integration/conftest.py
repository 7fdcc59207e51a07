"""Helpers for running the real `rb2ansible` command in integration tests."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT


@dataclass
class Completed:
    code: int
    stdout: str
    stderr: str
    results: dict | None


@pytest.fixture
def rb2ansible(rb2ansible_command, tmp_path):
    """Run the CLI as a user would; returns exit code, output and the parsed results file."""

    def invoke(*args: str, results: bool = True, timeout: float = 300, cwd: Path | None = None) -> Completed:
        results_file = tmp_path / f"results-{len(list(tmp_path.glob('results-*')))}.json"
        command = [*rb2ansible_command, *args]
        if results and args[0] == "run":
            command += ["--results", str(results_file)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd)
        parsed = json.loads(results_file.read_text()) if results_file.exists() else None
        return Completed(done.returncode, done.stdout, done.stderr, parsed)

    return invoke


def write_runbook(directory: Path, text: str, **files: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "run.yml").write_text(text)
    for name, content in files.items():
        path = directory / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return directory


def paper_example_copy(tmp_path: Path, echo_value: str) -> tuple[Path, Path]:
    """A copy of runbooks/paper-example that runs on localhost and writes into tmp_path/out (not /root):
    the project and that directory."""
    project = tmp_path / "paper"
    shutil.copytree(ROOT / "runbooks" / "paper-example", project)
    out = tmp_path / "out"
    out.mkdir()
    run_yml = project / "run.yml"
    run_yml.write_text(run_yml.read_text().replace("/root/", f"{out}/"))
    (project / "var.yml").write_text(f"host: localhost\necho_value: {echo_value}\n")
    return project, out


def task(results: dict, name: str, host: str = "localhost") -> dict:
    for entry in results["tasks"]:
        if entry["name"] == name:
            return entry["results"][host]
    raise KeyError(name)


@pytest.fixture(scope="module")
def rb2ansible_module(rb2ansible_command, tmp_path_factory):
    """`rb2ansible` for module-scoped fixtures (a deployment shared by several tests)."""
    folder = tmp_path_factory.mktemp("runs")
    counter = iter(range(1000))

    def invoke(*args: str, timeout: float = 1800) -> Completed:
        results_file = folder / f"results-{next(counter)}.json"
        done = subprocess.run([*rb2ansible_command, *args, "--results", str(results_file)], capture_output=True,
                              text=True, timeout=timeout)
        parsed = json.loads(results_file.read_text()) if results_file.exists() else None
        return Completed(done.returncode, done.stdout, done.stderr, parsed)

    return invoke
