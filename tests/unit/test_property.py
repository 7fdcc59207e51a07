"""Property: whatever project a user writes, validate/plan/export end with 0 or 2 in time; what validates exports.

200 generated projects by default (the same ones every run); RB2A_FUZZ_EXAMPLES=10000
draws that many fresh ones. Each command gets RB2A_FUZZ_SECONDS (10) before it counts as a hang.
The number of projects and the time taken are printed.
"""

from __future__ import annotations

import os
import re
import signal
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from tests.unit.generated_runbooks import projects
from translator import cli as cli_module

EXAMPLES = int(os.environ.get("RB2A_FUZZ_EXAMPLES", "200"))
COMMAND_SECONDS = float(os.environ.get("RB2A_FUZZ_SECONDS", "10"))
LOCATED = re.compile(r"^.+:\d+:\d+: error: .+", re.MULTILINE)


class TookTooLong(BaseException):
    """Not an Exception: the CLI's own error handling must not catch it."""


@contextmanager
def time_limit(seconds: float):
    def expire(signum, frame):
        raise TookTooLong

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def invoke(*args: str) -> tuple[int, str, float]:
    started = time.monotonic()
    try:
        with time_limit(COMMAND_SECONDS):
            result = CliRunner().invoke(cli_module.cli, list(args))
    except TookTooLong:
        raise AssertionError(f"rb2ansible {' '.join(args)} took more than {COMMAND_SECONDS} s") from None
    return result.exit_code, result.stdout + result.stderr, time.monotonic() - started


def write_project(directory: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(content)


def test_generated_projects_end_with_0_or_2_in_time_and_what_validates_exports(capsys, monkeypatch, tmp_path):
    debug_log = tmp_path / "debug.log"
    monkeypatch.setattr(cli_module, "DEBUG_LOG", debug_log)
    codes: Counter[str] = Counter()
    slowest = [0.0]

    started = time.monotonic()

    def check(command: str, *args: str) -> int:
        code, output, seconds = invoke(command, *args)
        slowest[0] = max(slowest[0], seconds)
        codes[f"{command} {code}"] += 1
        details = debug_log.read_text() if code == 3 and debug_log.exists() else ""
        assert code in (0, 2), f"rb2ansible {command} exited {code}:\n{output}\n{details}"
        assert "Traceback" not in output, output
        if command == "validate" and code == 2:
            assert LOCATED.search(output), f"no path:line:col in:\n{output}"
        return code

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize="RB2A_FUZZ_EXAMPLES" not in os.environ,
              suppress_health_check=list(HealthCheck), print_blob=True)
    @given(projects)
    def property_holds(files: dict[str, bytes]) -> None:
        with tempfile.TemporaryDirectory(prefix="rb2a-fuzz-") as temporary:
            project = Path(temporary) / "project"
            write_project(project, files)
            valid = check("validate", str(project)) == 0
            check("plan", str(project))
            exported = check("export", str(project), "-o", str(Path(temporary) / "out")) == 0
            assert exported == valid, "validate and export disagree"
        done = codes["validate 0"] + codes["validate 2"]
        if EXAMPLES >= 1000 and done % 250 == 0:  # a long local run shows it is alive
            with capsys.disabled():
                print(f"property test: {done} of {EXAMPLES} in {time.monotonic() - started:.0f} s", flush=True)

    property_holds()
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(f"\nproperty test: {codes['validate 0'] + codes['validate 2']} generated projects in {elapsed:.0f} s "
              f"(slowest command {slowest[0]:.2f} s); exit codes: {dict(sorted(codes.items()))}")
