"""Configuration from the environment, and both services run exactly as deployed: under uvicorn."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from acad_service.settings import ConfigError as AcadConfigError
from acad_service.settings import Settings as AcadSettings
from auth_service.settings import ConfigError as AuthConfigError
from auth_service.settings import Settings as AuthSettings

from tests.services.layout import ACAD_DIR, AUTH_DIR
from tests.services.postgres_cluster import free_port

SETTINGS = [(AcadSettings, AcadConfigError), (AuthSettings, AuthConfigError)]


@pytest.mark.parametrize("settings, error", SETTINGS)
def test_missing_secrets_and_database_are_all_reported(settings, error):
    with pytest.raises(error) as caught:
        settings.from_env({})
    assert caught.value.problems == ["DB_NAME is not set", "DB_USER is not set", "DB_PASSWORD is not set",
                                     "JWT_SECRET is not set"]


@pytest.mark.parametrize("settings, error", SETTINGS)
def test_weak_or_malformed_settings_are_refused(settings, error, acad_env):
    env = dict(acad_env, JWT_SECRET="short", JWT_ALGORITHM="none", DB_PORT="port")
    with pytest.raises(error) as caught:
        settings.from_env(env)
    assert len(caught.value.problems) == 3
    assert "JWT_SECRET must be at least 32 bytes long" in caught.value.problems


@pytest.mark.parametrize("settings, error", SETTINGS)
def test_settings_never_show_the_secrets(settings, error, acad_env):
    parsed = settings.from_env(acad_env)
    for text in (repr(parsed), repr(parsed.database), str(parsed)):
        assert acad_env["DB_PASSWORD"] not in text
        assert acad_env["JWT_SECRET"] not in text


@pytest.mark.parametrize("package, source", [("acad_service", ACAD_DIR), ("auth_service", AUTH_DIR)])
def test_uvicorn_entry_point_exits_clearly_without_configuration(package, source):
    done = subprocess.run([sys.executable, "-m", "uvicorn", f"{package}.main:app", "--app-dir", str(source)],
                          env={"PATH": os.environ["PATH"]}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "configuration error: DB_NAME is not set; DB_USER is not set; DB_PASSWORD is not set; " \
           "JWT_SECRET is not set" in done.stderr
    assert "Traceback" not in done.stderr
    logged = json.loads(done.stdout.splitlines()[-1])
    assert logged["level"] == "critical" and "JWT_SECRET is not set" in logged["problems"]


class Service:
    """One service run by uvicorn in a child process, as its systemd unit runs it."""

    def __init__(self, package: str, source: Path, env: dict[str, str], log: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", f"{package}.main:app", "--app-dir", str(source),
             "--host", "127.0.0.1", "--port", str(self.port)],
            env={"PATH": os.environ["PATH"], **env}, stdout=log.open("w"), stderr=subprocess.STDOUT)

    def wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if self.call("GET", "/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"not healthy in {timeout}s:\n{self.log.read_text()}")

    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.base + path, method=method, headers=headers,
                                         data=None if body is None else json.dumps(body).encode())
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def test_both_services_under_uvicorn_register_login_and_compute_ips(acad_env, auth_env, tmp_path):
    auth = Service("auth_service", AUTH_DIR, auth_env, tmp_path / "auth.log")
    acad = Service("acad_service", ACAD_DIR, acad_env, tmp_path / "acad.log")
    try:
        auth.wait_healthy()
        acad.wait_healthy()
        user = {"username": "uvicorn_user", "password": "a-long-test-password"}
        assert auth.call("POST", "/api/auth/register", user)[0] == 201
        status, login = auth.call("POST", "/api/auth/login", user)
        assert status == 200
        assert acad.call("GET", "/api/acad/ips?nim=22002")[0] == 401
        status, ips = acad.call("GET", "/api/acad/ips?nim=22002", token=login["access_token"])
        assert status == 200 and ips["NIM"] == "22002"
    finally:
        auth.stop()
        acad.stop()

    for service in (auth, acad):
        lines = [json.loads(line) for line in service.log.read_text().splitlines()]  # every line is JSON
        assert any(line["message"] == "request" and line["path"] == "/health" for line in lines)
        assert any(line["message"] == "Application startup complete." for line in lines)
        text = service.log.read_text()
        assert user["password"] not in text and login["access_token"] not in text
        assert auth_env["DB_PASSWORD"] not in text and acad_env["DB_PASSWORD"] not in text
        assert auth_env["JWT_SECRET"] not in text
