"""The academic stack's Docker Compose form: rendered and validated (no Docker engine runs here)."""

from __future__ import annotations

import stat
import subprocess
import sys

import yaml

from tests.deploy.test_academic_stack import EXAMPLE, VAULT_PASS, secrets


def test_compose_mode_renders_a_valid_project_with_secrets_only_in_env(rb2ansible_module, tmp_path):
    project = tmp_path / "compose"
    inventory = tmp_path / "hosts.ini"
    interpreter = f"ansible_python_interpreter={sys.executable}"
    inventory.write_text(f"[academic]\nlocalhost ansible_connection=local {interpreter}\n")
    common = [str(EXAMPLE), "-i", str(inventory), "--vault-password-file", str(VAULT_PASS),
              "-e", "deploy_mode=compose", "-e", "compose_up=false", "-e", f"compose_dir={project}"]

    check = rb2ansible_module("run", *common, "--check")
    assert check.code == 0, check.stdout[-3000:]
    assert not project.exists(), "--check rendered nothing"

    done = rb2ansible_module("run", *common)
    assert done.code == 0, done.stdout[-3000:] + done.stderr[-2000:]
    statuses = {entry["name"]: entry["results"]["localhost"]["status"] for entry in done.results["tasks"]}
    assert statuses["packages"] == "skipped" and statuses["compose up"] == "skipped"

    validated = subprocess.run(["docker-compose", "--project-directory", str(project), "-f",
                                str(project / "docker-compose.yml"), "config"],
                               capture_output=True, text=True, timeout=120)
    assert validated.returncode == 0, validated.stderr
    config = yaml.safe_load(validated.stdout)
    services = config["services"]
    assert services["api-gateway"]["image"] == "nginx:alpine"
    assert services["api-gateway"]["ports"][0]["published"] == 8081
    assert services["auth-service"]["cpus"] == 0.5 and services["auth-service"]["mem_limit"] in ("512m", 536870912)
    assert "microservices-network" in config["networks"]

    compose_text = (project / "docker-compose.yml").read_text()
    env_file = project / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    for secret in secrets():
        assert secret not in compose_text, "secrets only in .env"
        assert secret in env_file.read_text()
        assert secret not in done.stdout + done.stderr
    for name in ("acad/Dockerfile", "auth/Dockerfile", "nginx/nginx.conf", "initdb/db_kelas.sql",
                 "acad/acad_service/main.py", "auth/auth_service/main.py"):
        assert (project / name).is_file(), name
    # Each image listens on its service's port (the template variable `service_port`).
    assert 'EXPOSE 3002\n' in (project / "acad/Dockerfile").read_text()
    assert '"--port", "3001"]' in (project / "auth/Dockerfile").read_text()
