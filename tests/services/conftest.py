"""Fixtures for the academic stack's services: a real PostgreSQL, both apps in-process, tokens.

The services' source directories go on sys.path here, so `acad_service` and `auth_service`
import exactly as uvicorn imports them on a deployed host (`--app-dir`).
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator

import pytest

from tests.services.layout import ACAD_DIR, AUTH_DIR, DB_KELAS_SQL

for _source in (ACAD_DIR, AUTH_DIR):
    if str(_source) not in sys.path:
        sys.path.insert(0, str(_source))

from fastapi.testclient import TestClient  # noqa: E402

from tests.services.postgres_cluster import PostgresCluster, Role  # noqa: E402
from tests.services.service_apps import acad_client_for, auth_client_for, service_env  # noqa: E402


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster(superuser_password=secrets.token_urlsafe(24))
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="session")
def acad_role(postgres) -> Role:
    """The academic database, loaded from db_kelas.sql by its owner, as the deployment does."""
    role = Role(name="acad_svc", password=secrets.token_urlsafe(24), database="acad_database")
    postgres.create_role_and_database(role)
    postgres.psql_file(DB_KELAS_SQL, role)
    return role


@pytest.fixture(scope="session")
def auth_role(postgres) -> Role:
    """auth-service's own, separate database; the service creates its table itself."""
    role = Role(name="auth_svc", password=secrets.token_urlsafe(24), database="auth_database")
    postgres.create_role_and_database(role)
    return role


@pytest.fixture(scope="session")
def jwt_secret() -> str:
    return secrets.token_urlsafe(48)


@pytest.fixture(scope="session")
def acad_env(postgres, acad_role, jwt_secret) -> dict[str, str]:
    return service_env(postgres.port, acad_role, jwt_secret)


@pytest.fixture(scope="session")
def auth_env(postgres, auth_role, jwt_secret) -> dict[str, str]:
    return service_env(postgres.port, auth_role, jwt_secret)


@pytest.fixture(scope="session")
def acad_client(acad_env) -> Iterator[TestClient]:
    with acad_client_for(acad_env) as client:
        yield client


@pytest.fixture(scope="session")
def auth_client(auth_env) -> Iterator[TestClient]:
    with auth_client_for(auth_env) as client:
        yield client


@pytest.fixture
def new_user() -> dict[str, str]:
    return {"username": f"user_{secrets.token_hex(4)}", "password": secrets.token_urlsafe(12)}


@pytest.fixture(scope="session")
def token(auth_client) -> str:
    """A token obtained the way a client obtains one: register, then log in at auth-service."""
    user = {"username": "mahasiswa_22002", "password": secrets.token_urlsafe(12)}
    assert auth_client.post("/api/auth/register", json=user).status_code == 201
    response = auth_client.post("/api/auth/login", json=user)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture(scope="session")
def bearer(token) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
