"""The supported ansible-core range is declared alike everywhere (package, collections, roles, tox, CI), the
subset CI runs under the older cores leaves out every lab test, and its --fast pass every nspawn machine test."""

from __future__ import annotations

import ast
import configparser
import re
import tomllib
from pathlib import Path

import yaml

from tests.conftest import LAB_FIXTURES, MACHINE_FIXTURES
from translator import MIN_ANSIBLE_CORE

ROOT = Path(__file__).resolve().parents[2]


def _core_range() -> tuple[str, str]:
    """(lowest, first unsupported) minor of ansible-core in pyproject.toml's dependency."""
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    [spec] = [d for d in dependencies if d.startswith("ansible-core")]
    match = re.fullmatch(r"ansible-core>=(\d+\.\d+),<(\d+\.\d+)", spec)
    assert match, f"pyproject.toml: expected ansible-core>=X.Y,<X.Z, got {spec!r}"
    return match[1], match[2]


def _minors(lowest: str, first_unsupported: str) -> list[str]:
    major, low = lowest.split(".")
    high = int(first_unsupported.split(".")[1])
    return [f"{major}.{minor}" for minor in range(int(low), high)]


def test_the_package_and_the_generated_files_declare_one_lowest_core():
    assert _core_range()[0] == MIN_ANSIBLE_CORE


def test_the_helper_collection_declares_the_same_lowest_core():
    runtime = yaml.safe_load((ROOT / "ansible_modules" / "meta" / "runtime.yml").read_text())
    assert runtime["requires_ansible"] == f">={MIN_ANSIBLE_CORE}.0"


def test_tox_and_ci_have_one_environment_per_supported_core():
    minors = _minors(*_core_range())
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    assert tox["tox"]["envlist"].split(", ") == [f"core{minor.replace('.', '')}" for minor in minors]
    ci_cores = re.search(r"^CORES=\(([^)]*)\)", (ROOT / "tools" / "test.sh").read_text(), re.MULTILINE)
    assert ci_cores, "tools/test.sh: expected a CORES=(...) line"
    assert ci_cores[1].split() == minors


def test_the_localhost_mark_knows_every_lab_fixture():
    """tests/conftest.py marks `localhost` the tests that use none of LAB_FIXTURES: a lab fixture missing from it
    would put lab tests into the subset the older cores run."""
    module = ast.parse((ROOT / "tests" / "lab" / "fixtures.py").read_text())
    fixtures = {node.name for node in module.body if isinstance(node, ast.FunctionDef)
                and any("fixture" in ast.unparse(decorator) for decorator in node.decorator_list)}
    assert fixtures == LAB_FIXTURES


def test_the_machines_mark_knows_every_fixture_that_boots_a_machine():
    """tests/conftest.py marks `machines` the tests that use MACHINE_FIXTURES (CI's --fast pass leaves them out):
    those are the lab fixtures that need the nspawn root filesystem, directly or through another."""
    module = ast.parse((ROOT / "tests" / "lab" / "fixtures.py").read_text())
    needs = {node.name: {argument.arg for argument in node.args.args} for node in module.body
             if isinstance(node, ast.FunctionDef)}
    booting = {"nspawn_rootfs"}
    while grown := {name for name, arguments in needs.items() if arguments & booting} - booting:
        booting |= grown
    assert booting == MACHINE_FIXTURES
