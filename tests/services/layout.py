"""Where the academic-stack example keeps its services and its SQL, for the services' tests."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "runbooks" / "academic-stack"
ACAD_DIR = EXAMPLE / "services" / "acad"
AUTH_DIR = EXAMPLE / "services" / "auth"
DB_KELAS_SQL = EXAMPLE / "files" / "db_kelas.sql"
