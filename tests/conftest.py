"""Shared test options and helpers: the regenerate switch for golden files, the `--fast` switch, the lab fixtures,
the `localhost` and `machines` marks."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

pytest_plugins = ["tests.lab.fixtures"]

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases"


def pytest_addoption(parser):
    parser.addoption("--regenerate", action="store_true",
                     help="Rewrite golden files (expected exports, diagnostics, recorded events) from the "
                          "current code. Review the diff like code before committing it.")
    parser.addoption("--fast", action="store_true",
                     help="Run every `rb2ansible run` of the tests with `--fast` (RB2ANSIBLE_FAST=1 in the "
                          "environment of every command a test starts): Mitogen's strategy wherever rb2ansible can "
                          "use it, and its 'running without Mitogen' notice where it cannot.")


# The fixtures that bring up lab hosts (loopback sshd hosts, nspawn machines): a test that asks for none of them,
# directly or through another fixture, runs on localhost alone and is marked `localhost`; one that asks for a
# machine fixture is marked `machines`.
MACHINE_FIXTURES = {"nspawn_rootfs", "nspawn_machine_factory", "nspawn_machines", "worker_machines"}
LAB_FIXTURES = {"lab_dir", "lab_keys", "ssh_host_factory", "ssh_hosts", *MACHINE_FIXTURES}


def pytest_collection_modifyitems(items):
    """Mark the tests from their fixtures, so no list of them can go stale: `localhost` (no lab host; CI runs
    these under every ansible-core but the newest) and `machines` (nspawn machines; CI's --fast pass runs every
    integration test but these)."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if not LAB_FIXTURES & fixtures:
            item.add_marker(pytest.mark.localhost)
        if MACHINE_FIXTURES & fixtures:
            item.add_marker(pytest.mark.machines)


@pytest.fixture(scope="session", autouse=True)
def _fast_in_the_environment(request):
    """--fast reaches every rb2ansible a test starts (console script, pexpect, in-process click) through the
    environment that `run --fast` also reads. Without --fast, a RB2ANSIBLE_FAST of the shell is kept out, so
    that a plain test run is plain."""
    with pytest.MonkeyPatch.context() as environment:
        if request.config.getoption("--fast"):
            environment.setenv("RB2ANSIBLE_FAST", "1")
        else:
            environment.delenv("RB2ANSIBLE_FAST", raising=False)
        yield


@pytest.fixture
def fast_runs(request) -> bool:
    """Whether every rb2ansible run of this session has --fast (pytest --fast): for the few results Mitogen gives
    in its own words, which a test then expects as such."""
    return request.config.getoption("--fast")


@pytest.fixture
def regenerate(request) -> bool:
    return request.config.getoption("--regenerate") or os.environ.get("RB2A_REGENERATE") == "1"


@pytest.fixture(scope="session")
def rb2ansible_command() -> list[str]:
    """The installed console script, run as a user would."""
    script = Path(sys.executable).parent / "rb2ansible"
    return [str(script)]


@pytest.fixture(autouse=True)
def _dev_null_stays_a_device():
    """Tests run as root: an atomic write (beside, then rename) aimed at /dev/null replaces the device
    with a file, and every later lab test fails in a way that points elsewhere. Catch it at the test
    that did it."""
    yield
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode), "this test replaced /dev/null with a file"
