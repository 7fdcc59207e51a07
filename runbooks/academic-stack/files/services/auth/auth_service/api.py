"""The auth-service HTTP API: health, register and login."""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, StringConstraints

from .db import Database, DatabaseUnavailable
from .passwords import DECOY_HASH, hash_password, verify_password
from .settings import Settings
from .tokens import TokenIssuer
from .users import UserStore

SERVICE = "auth-service"

log = logging.getLogger("auth_service")

Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{3,32}$")]
NewPassword = Annotated[str, StringConstraints(min_length=8, max_length=128)]
AnyText = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class Registration(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Username
    password: NewPassword


class Login(BaseModel):
    """Looser than Registration: a wrong username is a failed login (401), not a bad request."""
    model_config = ConfigDict(extra="forbid")
    username: AnyText
    password: AnyText


def create_app(settings: Settings) -> FastAPI:
    database = Database(settings.database, application_name=SERVICE)
    users = UserStore(database)
    issuer = TokenIssuer(settings.jwt_secret, settings.jwt_algorithm, settings.jwt_lifetime_minutes * 60)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        db = settings.database
        log.info("starting", extra={"db_host": db.host, "db_port": db.port, "db_name": db.name,
                                    "db_user": db.user, "jwt_algorithm": settings.jwt_algorithm})
        try:
            users.ensure_schema()
        except DatabaseUnavailable as exc:
            log.warning("user table not checked yet, database unavailable; retrying on first request",
                        extra={"error": str(exc)})
        yield
        log.info("stopped")

    app = FastAPI(title=SERVICE, lifespan=lifespan)
    _install_error_handlers(app)
    _install_request_log(app)

    @app.get("/health")
    def health():
        """200 when the service and its database answer; 503 with the database state otherwise."""
        try:
            database.ping()
        except DatabaseUnavailable:
            return JSONResponse({"status": "unavailable", "service": SERVICE, "database": "unavailable"},
                                status_code=503)
        return {"status": "ok", "service": SERVICE, "database": "ok"}

    @app.post("/api/auth/register", status_code=201)
    def register(body: Registration):
        username = body.username.lower()
        if not users.add(username, hash_password(body.password)):
            raise HTTPException(409, "username already taken")
        log.info("user registered", extra={"username": username})
        return {"username": username}

    @app.post("/api/auth/login")
    def login(body: Login):
        username = body.username.lower()
        stored = users.password_hash(username)
        # Verify against a decoy for unknown users so both failures take the same time.
        valid = verify_password(body.password, stored or DECOY_HASH) and stored is not None
        if not valid:
            log.info("login failed", extra={"username": username})
            raise HTTPException(401, "invalid username or password", headers={"WWW-Authenticate": "Bearer"})
        return {"access_token": issuer.issue(username), "token_type": "bearer",
                "expires_in": issuer.lifetime_seconds}

    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DatabaseUnavailable)
    async def database_unavailable(request: Request, exc: DatabaseUnavailable):
        log.warning("database unavailable", extra={"path": request.url.path, "error": str(exc)})
        return JSONResponse({"detail": "database unavailable"}, status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
        return JSONResponse({"detail": "internal server error"}, status_code=500)


def _install_request_log(app: FastAPI) -> None:
    @app.middleware("http")
    async def request_log(request: Request, call_next):
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            log.info("request", extra={"method": request.method, "path": request.url.path,
                                       "status": status,
                                       "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
