"""The acad-service HTTP API: health, student list and IPS, behind auth-service's bearer tokens."""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from .db import Database, DatabaseUnavailable
from .grades import semester_gpa
from .settings import Settings
from .tokens import InvalidToken, TokenVerifier

SERVICE = "acad-service"
# NIMs are digits only: 5 digits in the report's data (22002), 11 in its authors' own NIMs.
NIM_PATTERN = r"^[0-9]{5,12}$"
MAX_SEMESTER = 14

log = logging.getLogger("acad_service")


def create_app(settings: Settings) -> FastAPI:
    database = Database(settings.database, application_name=SERVICE)
    verifier = TokenVerifier(settings.jwt_secret, settings.jwt_algorithm)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        db = settings.database
        log.info("starting", extra={"db_host": db.host, "db_port": db.port, "db_name": db.name,
                                    "db_user": db.user, "jwt_algorithm": settings.jwt_algorithm})
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

    def current_user(authorization: Annotated[str | None, Header()] = None) -> str:
        return verifier.subject(authorization)

    acad = APIRouter(prefix="/api/acad", dependencies=[Depends(current_user)])

    @acad.get("/mahasiswa")
    def list_students():
        with database.connection() as conn:
            return conn.execute("SELECT nim, nama, jurusan FROM mahasiswa ORDER BY nim").fetchall()

    @acad.get("/ips")
    def semester_gpa_of(
        nim: Annotated[str, Query(pattern=NIM_PATTERN, description="student number, 5-12 digits")],
        semester: Annotated[int | None, Query(
            ge=1, le=MAX_SEMESTER, description="default: the student's latest graded semester")] = None,
    ):
        with database.connection() as conn:
            student = conn.execute("SELECT nim, nama, jurusan FROM mahasiswa WHERE nim = %s",
                                   (nim,)).fetchone()
            if student is None:
                raise HTTPException(404, "student not found")
            if semester is None:
                semester = conn.execute("SELECT max(semester) AS latest FROM krs WHERE nim = %s",
                                        (nim,)).fetchone()["latest"]
                if semester is None:
                    raise HTTPException(404, "no grades recorded for this student")
            graded = conn.execute(
                "SELECT krs.nilai, mk.sks FROM krs JOIN mata_kuliah mk ON mk.kode_mk = krs.kode_mk "
                "WHERE krs.nim = %s AND krs.semester = %s", (nim, semester)).fetchall()
        if not graded:
            raise HTTPException(404, f"no grades recorded for semester {semester}")
        ips = semester_gpa((row["nilai"], row["sks"]) for row in graded)
        return {"NIM": student["nim"], "Nama Mahasiswa": student["nama"], "Jurusan": student["jurusan"],
                "Semester": semester, "IPS": float(ips)}

    app.include_router(acad)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InvalidToken)
    async def unauthorized(_request: Request, exc: InvalidToken):
        return JSONResponse({"detail": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"})

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
