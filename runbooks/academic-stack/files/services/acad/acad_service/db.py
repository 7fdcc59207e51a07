"""Connections to the academic database; a failed connection becomes DatabaseUnavailable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.rows import dict_row

from .settings import DatabaseSettings

STATEMENT_TIMEOUT_MS = 5000


class DatabaseUnavailable(Exception):
    """The database cannot be reached (refused, timed out, shutting down); answered with 503."""


class Database:
    """Opens one short-lived connection per request: no pool to go stale when PostgreSQL restarts."""

    def __init__(self, settings: DatabaseSettings, application_name: str):
        self.settings = settings
        self.application_name = application_name

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A connection for one unit of work; a lost or refused connection raises DatabaseUnavailable."""
        s = self.settings
        try:
            with psycopg.connect(
                host=s.host, port=s.port, dbname=s.name, user=s.user, password=s.password,
                connect_timeout=s.connect_timeout, application_name=self.application_name,
                options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}", row_factory=dict_row,
            ) as conn:
                yield conn
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(str(exc).strip()) from exc

    def ping(self) -> None:
        """Raise DatabaseUnavailable unless a trivial query succeeds."""
        with self.connection() as conn:
            conn.execute("SELECT 1")
