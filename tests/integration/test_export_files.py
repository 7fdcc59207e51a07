"""The files rb2ansible writes: yours alone, no secret-looking -e value in an export, never half an export,
and errors that name your files, not rb2ansible's copies."""

from __future__ import annotations

import os
import resource
import stat
import subprocess
import sys
from pathlib import Path

from tests.integration.conftest import write_runbook
from tests.integration.lab_runs import run_at_terminal

BIN = Path(sys.executable).parent


def modes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in [root, *root.rglob("*")]}


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_secret_looking_values_reach_the_run_but_not_the_export(rb2ansible, tmp_path):
    secrets_file = tmp_path / "secrets.yml"
    secrets_file.write_text("api_token: token-in-a-file-71\n")
    seen = tmp_path / "seen"
    runbook = write_runbook(tmp_path / "rb", f"""
name: uses secrets
tasks:
- name: use them
  shell: echo "${{db_password}} ${{api_token}} ${{greeting}}" > {seen}
  no_log: true
""")
    kept, results = tmp_path / "kept", tmp_path / "results.json"
    given = ["-e", "db_password=hunter2-71", "-e", f"@{secrets_file}", "-e", "greeting=hello"]

    ran = rb2ansible("run", str(runbook), *given, "--export", str(kept), "--results", str(results), results=False)
    exported = rb2ansible("export", str(runbook), *given, "-o", str(tmp_path / "exported"))

    assert ran.code == 0, ran.stdout + ran.stderr
    assert seen.read_text() == "hunter2-71 token-in-a-file-71 hello\n"
    for directory in (kept, tmp_path / "exported"):
        written = b"".join(tree(directory).values())
        assert b"hunter2-71" not in written and b"token-in-a-file-71" not in written
        assert b"greeting: hello" in (directory / "env" / "extravars").read_bytes()
        readme = (directory / "README.md").read_text()
        assert "`db_password`" in readme and "`@secrets.yml`" in readme
    assert "left out" in exported.stderr and "db_password" in exported.stderr

    # Modes: the export and the results are the user's alone.
    assert set(modes(kept).values()) <= {0o700, 0o600}
    assert modes(kept)["env/extravars"] == 0o600 and modes(kept)["."] == 0o700
    assert stat.S_IMODE(results.stat().st_mode) == 0o600

    # Asked for, they are written in, and the export runs on its own.
    keeping = rb2ansible("export", str(runbook), *given, "--keep-secret-vars", "-o", str(tmp_path / "full"))
    assert keeping.code == 0 and "left out" not in keeping.stderr
    assert b"hunter2-71" in (tmp_path / "full" / "env" / "extravars").read_bytes()
    runner = subprocess.run([str(BIN / "ansible-runner"), "run", str(tmp_path / "full"), "-p", "site.yml"],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"})
    assert runner.returncode == 0, runner.stdout


def limit_file_size(size: int):
    def apply():
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    return apply


def test_an_export_that_fails_half_way_leaves_the_previous_one_whole(rb2ansible_command, tmp_path):
    runbook = write_runbook(tmp_path / "rb", "name: big\ntasks:\n- name: copy\n  file: {source: big.bin, "
                                             "destination: /tmp/rb2a-never, mode: '0600'}\n")
    (runbook / "files").mkdir()
    (runbook / "files" / "big.bin").write_bytes(b"\0" * 200_000)
    parent = tmp_path / "exports"
    parent.mkdir()
    target = parent / "out"
    first = subprocess.run([*rb2ansible_command, "export", str(runbook), "-o", str(target)], capture_output=True,
                           text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    before = tree(target)
    (runbook / "files" / "big.bin").write_bytes(b"\1" * 400_000)  # the next export cannot write this

    failed = subprocess.run([*rb2ansible_command, "export", str(runbook), "-o", str(target)], capture_output=True,
                            text=True, timeout=120, preexec_fn=limit_file_size(300_000))

    assert failed.returncode == 2, failed.stdout + failed.stderr
    assert f"cannot write the export {target}" in failed.stderr and "previous export is unchanged" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert tree(target) == before
    assert sorted(p.name for p in parent.iterdir()) == ["out"]  # no partial export beside it


def test_a_wrong_vault_password_names_the_users_file_on_a_line_of_its_own(tmp_path):
    runbook = tmp_path / "rb"
    runbook.mkdir()
    right, wrong = tmp_path / "right.pw", tmp_path / "wrong.pw"
    right.write_text("the right one\n")
    wrong.write_text("not the right one\n")
    (runbook / "vault.yml").write_text("secret_value: hush\n")
    subprocess.run([str(BIN / "ansible-vault"), "encrypt", "--vault-password-file", str(right),
                    str(runbook / "vault.yml")], check=True, capture_output=True)
    (runbook / "run.yml").write_text("name: vaulted\nvars_files: [vault.yml]\ntasks:\n- name: show\n  echo: ok\n")

    done = run_at_terminal(["run", str(runbook), "--vault-password-file", str(wrong)], answers=[])

    assert done.code == 2, done.transcript
    lines = [line.strip("\r") for line in done.transcript.replace("\x1b[?25h", "").splitlines()]
    error = next(line for line in lines if "error:" in line)
    assert error.startswith("rb2ansible: error: Ansible stopped"), done.transcript
    # ansible-core 2.19+ give the file on a line of its own ("Origin: PATH"); 2.18 ends its message with "on PATH".
    named = (f"Origin: {runbook / 'vault.yml'}", f" on {runbook / 'vault.yml'}")
    assert any(line.strip().startswith(named[0]) or line.endswith(named[1]) for line in lines), done.transcript
    assert "rb2ansible-" not in done.transcript.split("error:", 1)[1]  # no temporary copy named
    assert "Traceback" not in done.transcript


def test_results_file_mode_chosen_by_the_user_is_kept(rb2ansible, tmp_path):
    results = tmp_path / "shared.json"
    results.write_text("{}")
    results.chmod(0o644)
    runbook = write_runbook(tmp_path / "rb", "name: one\ntasks:\n- name: say\n  echo: hi\n")

    done = rb2ansible("run", str(runbook), "--results", str(results), results=False)

    assert done.code == 0
    assert stat.S_IMODE(results.stat().st_mode) == 0o644
    assert '"status": "successful"' in results.read_text()
