"""Both services built in-process from an environment, as their uvicorn entry points build them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.services.postgres_cluster import Role


def service_env(port: int, role: Role, jwt_secret: str, **extra: str) -> dict[str, str]:
    """The environment a deployed service gets from its env file."""
    return {"DB_HOST": "127.0.0.1", "DB_PORT": str(port), "DB_NAME": role.database, "DB_USER": role.name,
            "DB_PASSWORD": role.password, "JWT_SECRET": jwt_secret, "JWT_ALGORITHM": "HS256", **extra}


def acad_client_for(env: dict[str, str]) -> TestClient:
    from acad_service.api import create_app
    from acad_service.settings import Settings
    return TestClient(create_app(Settings.from_env(env)))


def auth_client_for(env: dict[str, str]) -> TestClient:
    from auth_service.api import create_app
    from auth_service.settings import Settings
    return TestClient(create_app(Settings.from_env(env)))
