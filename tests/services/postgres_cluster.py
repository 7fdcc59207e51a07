"""A throwaway PostgreSQL cluster for the services' tests: initdb, start, stop, remove.

PostgreSQL refuses to run as root, so when the tests run as root every server-side command runs
as the `postgres` system user (runuser) and the cluster's directory belongs to that user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

SERVER_USER = "postgres"


def find_bin_dir() -> Path:
    """RB2A_PG_BIN, else the newest /usr/lib/postgresql/<major>/bin with initdb in it."""
    if os.environ.get("RB2A_PG_BIN"):
        return Path(os.environ["RB2A_PG_BIN"])
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if not candidates:
        raise RuntimeError("no PostgreSQL server binaries: install postgresql (Debian: apt-get install "
                           "postgresql-15) or set RB2A_PG_BIN to the directory holding initdb")
    return candidates[-1].parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Role:
    """A login role and the database it owns, as a service would be configured to use them."""
    name: str
    password: str
    database: str


class PostgresCluster:
    def __init__(self, superuser_password: str):
        self.bin = find_bin_dir()
        self.superuser_password = superuser_password
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="rb2a-services-pg-"))
        self.data = self.base / "data"
        self.sockets = self.base / "sockets"
        self.logfile = self.base / "server.log"
        self._as_server_user = os.geteuid() == 0

    # -- lifecycle ---------------------------------------------------------------------------

    def init(self) -> None:
        self.sockets.mkdir()
        pwfile = self.base / "pwfile"
        pwfile.write_text(self.superuser_password + "\n")
        pwfile.chmod(0o600)
        if self._as_server_user:
            account = pwd.getpwnam(SERVER_USER)
            for path in (self.base, self.sockets, pwfile):
                os.chown(path, account.pw_uid, account.pw_gid)
        self._server_command("initdb", "-D", str(self.data), "-U", "postgres", "-E", "UTF8", "--no-locale",
                             "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}")
        pwfile.unlink()

    def start(self) -> None:
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                   f"-c unix_socket_directories={self.sockets} -c fsync=off -c full_page_writes=off")
        self._server_command("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-o", options,
                             "-w", "-t", "60", "start")

    def stop(self) -> None:
        self._server_command("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def is_running(self) -> bool:
        status = subprocess.run(self._wrap([str(self.bin / "pg_ctl"), "-D", str(self.data), "status"]),
                                capture_output=True, text=True)
        return status.returncode == 0

    def remove(self) -> None:
        if self.data.exists() and self.is_running():
            self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    # -- clients -------------------------------------------------------------------------------

    def connect(self, dbname: str = "postgres", role: Role | None = None) -> psycopg.Connection:
        """A TCP connection with password authentication, as the services make them."""
        user, password = (role.name, role.password) if role else ("postgres", self.superuser_password)
        return psycopg.connect(host="127.0.0.1", port=self.port, dbname=dbname, user=user,
                               password=password, autocommit=True)

    def create_role_and_database(self, role: Role) -> None:
        """The role owns its database, as a deployment would set it up (it may create tables)."""
        with self.connect() as conn:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(role.name), sql.Literal(role.password)))
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(role.database), sql.Identifier(role.name)))

    def psql_file(self, path: Path, role: Role) -> subprocess.CompletedProcess:
        """Load an SQL file the way a deployment does: psql, stop at the first error."""
        env = dict(os.environ, PGPASSWORD=role.password)
        return subprocess.run(
            [str(self.bin / "psql"), "-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
             "-p", str(self.port), "-U", role.name, "-d", role.database, "-f", str(path)],
            env=env, capture_output=True, text=True, check=True)

    # -- internals -------------------------------------------------------------------------------

    def _wrap(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", SERVER_USER, "--", *argv] if self._as_server_user else argv

    def _server_command(self, program: str, *args: str) -> None:
        done = subprocess.run(self._wrap([str(self.bin / program), *args]), capture_output=True, text=True,
                              cwd=self.base)
        if done.returncode != 0:
            log = self.logfile.read_text() if self.logfile.exists() else ""
            raise RuntimeError(f"{program} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n{log}")
