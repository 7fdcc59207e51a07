"""The user table in auth-service's own database: created if missing, rows added race-free."""

from __future__ import annotations

import threading

from .db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username       VARCHAR(32) NOT NULL UNIQUE,
    password_hash  TEXT        NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


class UserStore:
    def __init__(self, database: Database):
        self.database = database
        self._schema_ready = False
        self._schema_lock = threading.Lock()

    def ensure_schema(self) -> None:
        """Create the table once per process; retried on later calls if the database was down."""
        if self._schema_ready:
            return
        with self._schema_lock:
            if not self._schema_ready:
                with self.database.connection() as conn:
                    conn.execute(SCHEMA)
                self._schema_ready = True

    def add(self, username: str, password_hash: str) -> bool:
        """False when the username is already taken."""
        self.ensure_schema()
        with self.database.connection() as conn:
            row = conn.execute(
                "INSERT INTO users (username, password_hash) VALUES (%s, %s) "
                "ON CONFLICT (username) DO NOTHING RETURNING id", (username, password_hash)).fetchone()
        return row is not None

    def password_hash(self, username: str) -> str | None:
        self.ensure_schema()
        with self.database.connection() as conn:
            row = conn.execute("SELECT password_hash FROM users WHERE username = %s", (username,)).fetchone()
        return None if row is None else row["password_hash"]
