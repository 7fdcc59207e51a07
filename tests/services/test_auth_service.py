"""auth-service against its own real database: register, login, hashed passwords, tokens."""

from __future__ import annotations

import secrets
import time

import jwt
import pytest

from tests.services.postgres_cluster import Role
from tests.services.service_apps import auth_client_for, service_env


def test_health_reports_service_and_database(auth_client):
    response = auth_client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "auth-service", "database": "ok"}


def test_register_then_login_gives_an_hs256_token_with_subject_and_expiry(auth_client, new_user, jwt_secret):
    registered = auth_client.post("/api/auth/register", json=new_user)
    assert registered.status_code == 201
    assert registered.json() == {"username": new_user["username"]}

    login = auth_client.post("/api/auth/login", json=new_user)
    assert login.status_code == 200
    body = login.json()
    assert body["token_type"] == "bearer"
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS256"
    claims = jwt.decode(body["access_token"], jwt_secret, algorithms=["HS256"])
    assert claims["sub"] == new_user["username"]
    assert claims["exp"] - claims["iat"] == body["expires_in"] == 3600
    assert abs(claims["iat"] - time.time()) < 60


def test_token_from_auth_service_opens_acad_service(auth_client, acad_client, new_user):
    auth_client.post("/api/auth/register", json=new_user)
    token = auth_client.post("/api/auth/login", json=new_user).json()["access_token"]
    response = acad_client.get("/api/acad/ips?nim=22002", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json()["NIM"] == "22002"


def test_taken_username_is_409_whatever_its_case(auth_client, new_user):
    assert auth_client.post("/api/auth/register", json=new_user).status_code == 201
    again = auth_client.post("/api/auth/register", json=new_user)
    assert again.status_code == 409
    shouted = dict(new_user, username=new_user["username"].upper(), password="another-password")
    assert auth_client.post("/api/auth/register", json=shouted).status_code == 409


@pytest.mark.parametrize("body", [
    {"username": "ab", "password": "long-enough-password"},
    {"username": "has space", "password": "long-enough-password"},
    {"username": "x" * 33, "password": "long-enough-password"},
    {"username": "robert');DROP TABLE users;--", "password": "long-enough-password"},
    {"username": "valid_name", "password": "short"},
    {"username": "valid_name", "password": "p" * 129},
    {"username": "valid_name"},
    {"password": "long-enough-password"},
    {"username": "valid_name", "password": "long-enough-password", "role": "admin"},
    {"username": 12345, "password": "long-enough-password"},
    [],
])
def test_bad_registration_is_422(auth_client, body):
    assert auth_client.post("/api/auth/register", json=body).status_code == 422


def test_body_that_is_not_json_is_422(auth_client):
    response = auth_client.post("/api/auth/register", content=b"username=a&password=b",
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 422


def test_wrong_password_and_unknown_user_are_the_same_401(auth_client, new_user):
    auth_client.post("/api/auth/register", json=new_user)
    wrong_password = auth_client.post("/api/auth/login", json=dict(new_user, password="not-the-password"))
    unknown_user = auth_client.post("/api/auth/login", json=dict(new_user, username="nobody_here"))
    for response in (wrong_password, unknown_user):
        assert response.status_code == 401
        assert response.json() == {"detail": "invalid username or password"}
        assert "access_token" not in response.text


def test_passwords_are_stored_as_salted_scrypt_keys(auth_client, postgres, auth_role):
    password = secrets.token_urlsafe(12)
    names = [f"salted_{secrets.token_hex(4)}" for _ in range(2)]
    for name in names:
        registered = auth_client.post("/api/auth/register", json={"username": name, "password": password})
        assert registered.status_code == 201
    with postgres.connect(auth_role.database) as conn:
        stored = [conn.execute("SELECT password_hash FROM users WHERE username = %s", (name,)).fetchone()[0]
                  for name in names]
    for value in stored:
        scheme, n, r, p, _salt, _key = value.split("$")
        assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**14, 8, 1)
        assert password not in value
    assert stored[0] != stored[1]  # same password, different salts


def test_user_table_is_created_at_startup_in_an_empty_database(postgres, jwt_secret):
    role = Role(name=f"auth_fresh_{secrets.token_hex(3)}", password=secrets.token_urlsafe(24),
                database=f"auth_fresh_{secrets.token_hex(3)}")
    postgres.create_role_and_database(role)

    def has_users_table() -> bool:
        with postgres.connect(role.database) as conn:
            return conn.execute("SELECT to_regclass('public.users') IS NOT NULL").fetchone()[0]

    assert not has_users_table()
    with auth_client_for(service_env(postgres.port, role, jwt_secret)):
        assert has_users_table()
    with auth_client_for(service_env(postgres.port, role, jwt_secret)) as again:  # exists: no error
        assert again.get("/health").status_code == 200
