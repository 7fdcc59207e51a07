"""Both services answer 503, never 404 or 500, while their database is refused, silent or stopped."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.services.postgres_cluster import free_port
from tests.services.service_apps import acad_client_for, auth_client_for

UNAVAILABLE = {"detail": "database unavailable"}
HEALTH_DOWN = {"status": "unavailable", "database": "unavailable"}


def assert_unavailable(acad, auth, bearer) -> None:
    for response in (acad.get("/api/acad/ips?nim=22002", headers=bearer),
                     acad.get("/api/acad/mahasiswa", headers=bearer),
                     auth.post("/api/auth/register", json={"username": "late_user", "password": "long-enough-pw"}),
                     auth.post("/api/auth/login", json={"username": "late_user", "password": "long-enough-pw"})):
        assert response.status_code == 503, (response.request.url, response.text)
        assert response.json() == UNAVAILABLE
        assert response.headers["retry-after"] == "5"
    for client in (acad, auth):
        health = client.get("/health")
        assert health.status_code == 503
        assert {k: health.json()[k] for k in HEALTH_DOWN} == HEALTH_DOWN


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections and then never says a word, like a hung server."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def test_connection_refused_is_503(acad_env, auth_env, bearer):
    port = str(free_port())
    with acad_client_for(dict(acad_env, DB_PORT=port)) as acad, \
            auth_client_for(dict(auth_env, DB_PORT=port)) as auth:
        assert_unavailable(acad, auth, bearer)


def test_connection_timeout_is_503(acad_env, bearer, silent_port):
    env = dict(acad_env, DB_PORT=str(silent_port), DB_CONNECT_TIMEOUT="2")
    with acad_client_for(env) as acad:
        started = time.monotonic()
        response = acad.get("/api/acad/ips?nim=22002", headers=bearer)
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json() == UNAVAILABLE
    assert 1.5 < elapsed < 15


def test_stopped_postgres_is_503_and_the_services_recover_when_it_returns(postgres, acad_client, auth_client,
                                                                          bearer):
    assert acad_client.get("/api/acad/ips?nim=22002", headers=bearer).status_code == 200
    postgres.stop()
    try:
        assert_unavailable(acad_client, auth_client, bearer)
    finally:
        postgres.start()
    assert acad_client.get("/api/acad/ips?nim=22002", headers=bearer).status_code == 200
    assert auth_client.get("/health").status_code == 200
