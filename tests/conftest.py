"""Shared test options and helpers: the regenerate switch for golden files, the lab fixtures, the `localhost` mark."""

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


# The fixtures that bring up lab hosts (loopback sshd hosts, nspawn machines): a test that asks for none of them,
# directly or through another fixture, runs on localhost alone and is marked `localhost`.
LAB_FIXTURES = {"lab_dir", "lab_keys", "ssh_host_factory", "ssh_hosts", "nspawn_rootfs", "nspawn_machine_factory",
                "nspawn_machines", "worker_machines"}


def pytest_collection_modifyitems(items):
    """Mark the localhost-only tests from their fixtures, so no list of them can go stale: CI runs `-m localhost`
    (unit tests and the integration tests that need no lab host) under every ansible-core but the newest."""
    for item in items:
        if not LAB_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.localhost)


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
