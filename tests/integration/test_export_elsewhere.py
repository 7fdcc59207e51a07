"""An export used where rb2ansible is not: run from its root by ansible-navigator (as AWX runs a project),
its execution environment accepted by ansible-builder, and a role export installed by ansible-galaxy.

The academic stack runs here in its Docker Compose form on localhost (rendered, `compose_up: false`):
its systemd form needs a machine of its own and minutes of apt, which tests/deploy spends once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import ROOT
from tests.deploy.test_academic_stack import EXAMPLE, VAULT_PASS

BIN = Path(sys.executable).parent


def tool(*command: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **(env or {})}
    return subprocess.run([str(BIN / command[0]), *command[1:]], cwd=cwd, capture_output=True, text=True,
                          env=environment, timeout=600)


def machine_paths_in(folder: Path, paths: list[Path]) -> dict[str, list[str]]:
    """Every file under `folder` that names one of `paths`, as grep finds them."""
    found = {}
    for path in paths:
        done = subprocess.run(["grep", "-rlF", str(path), str(folder)], capture_output=True, text=True)
        assert done.returncode in (0, 1), done.stderr
        if done.stdout:
            found[str(path)] = done.stdout.split()
    return found


def test_the_academic_export_copied_elsewhere_runs_with_navigator_from_its_root(rb2ansible, tmp_path):
    inventory = tmp_path / "inventory" / "hosts.ini"
    inventory.parent.mkdir()
    inventory.write_text("[academic]\nlocalhost ansible_connection=local "
                         "ansible_python_interpreter='{{ ansible_playbook_python }}'\n")
    exported = tmp_path / "exported"
    done = rb2ansible("export", str(EXAMPLE), "-o", str(exported), "-i", str(inventory),
                      "-e", "deploy_mode=compose", "-e", "compose_up=false", "--vault-password-file", str(VAULT_PASS))
    assert done.code == 0, done.stderr
    assert f"exported with `{VAULT_PASS.name}`" in (exported / "README.md").read_text()  # the name, not the path
    elsewhere = tmp_path / "elsewhere" / "academic"
    shutil.copytree(exported, elsewhere)
    shutil.rmtree(exported)  # nothing may lead back to where it was written

    assert machine_paths_in(elsewhere, [tmp_path, ROOT, EXAMPLE, BIN.parent, VAULT_PASS.parent]) == {}

    # Linted from its root, as a CI job on the AWX project's repository would.
    lint = tool("ansible-lint", "--offline", "--profile", "production", cwd=elsewhere,
                env={"ANSIBLE_VAULT_PASSWORD_FILE": str(VAULT_PASS)})
    assert lint.returncode == 0, lint.stdout[-3000:] + lint.stderr[-3000:]

    compose = tmp_path / "compose"
    navigator = tool("ansible-navigator", "run", "site.yml", "--mode", "stdout", "--ee", "false",
                     "-e", "@env/extravars", "-e", f"compose_dir={compose}", "--vault-password-file",
                     str(VAULT_PASS), cwd=elsewhere)
    assert navigator.returncode == 0, navigator.stdout[-3000:] + navigator.stderr[-2000:]
    assert "TASK [academic_compose : As docker compose › compose up]" in navigator.stdout  # Ansible's own output
    assert "PLAY RECAP" in navigator.stdout and "failed=0" in navigator.stdout
    rendered = yaml.safe_load((compose / "docker-compose.yml").read_text())
    assert rendered["services"]["api-gateway"]["image"] == "nginx:alpine"

    context = tmp_path / "ee-context"
    builder = tool("ansible-builder", "create", "-f", "execution-environment.yml", "-c", str(context),
                   cwd=elsewhere)
    assert builder.returncode == 0, builder.stdout + builder.stderr
    containerfile = next(context.glob("*file")).read_text()  # Containerfile or Dockerfile, per builder version
    assert 'ANSIBLE_INSTALL_REFS="ansible-core<' in containerfile


def test_ansible_runner_shows_the_run_of_an_export(rb2ansible, tmp_path):
    """`ansible-runner run DIR -p site.yml`, as export --help says, prints Ansible's output."""
    exported = tmp_path / "hello"
    assert rb2ansible("export", str(ROOT / "runbooks" / "hello"), "-o", str(exported)).code == 0
    runner = tool("ansible-runner", "run", str(exported), "-p", "site.yml", cwd=tmp_path)
    assert runner.returncode == 0, runner.stdout[-3000:] + runner.stderr[-2000:]
    assert "PLAY RECAP" in runner.stdout and "failed=0" in runner.stdout


def test_a_role_export_installs_from_a_tarball_and_runs_from_a_hand_written_play(rb2ansible, tmp_path):
    """The academic stack's included runbook, compose.yml, as a Galaxy role: installed from a tarball into an
    empty roles path, its collections from its requirements, then used by a play that knows nothing of it."""
    out = tmp_path / "export"
    done = rb2ansible("export", "--role", str(EXAMPLE / "compose.yml"), "-o", str(out),
                      "--author", "Someone Else", "--license", "GPL-3.0-or-later", "--platform", "Debian:bookworm")
    assert done.code == 0, done.stderr
    assert "not stated" in done.stderr and "namespace" in done.stderr and "license" not in done.stderr
    role = out / "academic_compose"
    meta = yaml.safe_load((role / "meta" / "main.yml").read_text())
    assert meta["galaxy_info"]["author"] == "Someone Else"
    assert meta["galaxy_info"]["platforms"] == [{"name": "Debian", "versions": ["bookworm"]}]
    assert meta["collections"] == ["rb2ansible.runbook"]
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    assert specs["jwt_secret"] == {"description": ["Key the auth service signs its tokens with"], "type": "str",
                                   "required": True, "no_log": True}
    assert "| `compose_dir` | no | `\"/opt/academic-compose\"` | Directory the Compose project is written into |" in (
        role / "README.md").read_text()

    tarball = tmp_path / "academic_compose.tar.gz"
    subprocess.run(["tar", "czf", str(tarball), "-C", str(out), "academic_compose"], check=True)
    roles, collections = tmp_path / "roles", tmp_path / "collections"
    installed = tool("ansible-galaxy", "role", "install", f"{tarball},,academic_compose", "-p", str(roles),
                     cwd=tmp_path)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert sorted(p.name for p in roles.iterdir()) == ["academic_compose"]
    # Into the collections path a user has configured (empty): not the export's own, where they already are.
    fetched = tool("ansible-galaxy", "collection", "install", "-r", "collections/requirements.yml",
                   "-p", str(collections), cwd=out, env={"ANSIBLE_COLLECTIONS_PATH": str(collections)})
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    assert (collections / "ansible_collections" / "rb2ansible" / "runbook" / "MANIFEST.json").is_file()

    play, compose = tmp_path / "play", tmp_path / "compose"
    play.mkdir()
    secrets = {"acad_db_password": "acad-pw-for-the-test", "auth_db_password": "auth-pw-for-the-test",
               "jwt_secret": "jwt-for-the-test"}
    given = {"compose_dir": str(compose), "compose_up": False, **secrets}
    (play / "use.yml").write_text(yaml.safe_dump([{
        "name": "Use the installed role", "hosts": "localhost", "connection": "local", "gather_facts": False,
        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "roles": [{"role": "academic_compose", "vars": given}]}]))
    paths = {"ANSIBLE_ROLES_PATH": str(roles), "ANSIBLE_COLLECTIONS_PATH": str(collections)}
    played = tool("ansible-playbook", "-i", "localhost,", "use.yml", cwd=play, env=paths)
    assert played.returncode == 0, played.stdout[-3000:] + played.stderr[-2000:]
    assert yaml.safe_load((compose / "docker-compose.yml").read_text())["services"]["api-gateway"]["image"] \
        == "nginx:alpine"
    assert "jwt-for-the-test" in (compose / ".env").read_text()

    # Its argument specs are checked before anything runs: a required variable left out is named.
    del given["jwt_secret"]
    shutil.rmtree(compose)
    (play / "use.yml").write_text(yaml.safe_dump([{
        "name": "Use the installed role", "hosts": "localhost", "connection": "local", "gather_facts": False,
        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "roles": [{"role": "academic_compose", "vars": given}]}]))
    refused = tool("ansible-playbook", "-i", "localhost,", "use.yml", cwd=play, env=paths)
    assert refused.returncode != 0
    assert "missing required arguments: jwt_secret" in refused.stdout
    assert not compose.exists()
