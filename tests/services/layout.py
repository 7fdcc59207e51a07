"""Where the academic-stack example keeps its services and its SQL, for the services' tests."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "runbooks" / "academic-stack"
ACAD_DIR = EXAMPLE / "files" / "services" / "acad"
AUTH_DIR = EXAMPLE / "files" / "services" / "auth"
DB_KELAS_SQL = EXAMPLE / "files" / "db_kelas.sql"
