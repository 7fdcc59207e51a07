"""Ensure PostgreSQL login roles and their databases exist, and load SQL files into them.

Runs on the database host, as root: administration goes through the local socket as the
postgres superuser (peer authentication); each role's password is checked by logging in over TCP
with it, and set only when that fails, so a second run changes nothing. A SQL file is loaded as
the database's owner; it must be idempotent (CREATE ... IF NOT EXISTS, INSERT ... ON CONFLICT DO
NOTHING), and the task reports a change only when the row counts of the database's tables moved.

Args:
    host (str): the address PostgreSQL listens on, for the password check and the SQL loads
    port (int): its port; default 5432
    databases (list of dict): each {name, owner, password, sql_file (optional, a path on the host)}

Returns:
    created (list): roles and databases created
    updated (list): roles whose password was set
    loaded (list): databases whose rows changed when their SQL file was loaded
"""
import os
import re
import subprocess

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _admin(sql, variables=None):
    """Run SQL as the postgres superuser over the local socket; psql variables keep values quoted."""
    command = ["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"]
    for name, value in (variables or {}).items():
        command += ["-v", f"{name}={value}"]
    done = subprocess.run(command + ["-f", "-"], input=sql, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip() or "psql failed")
    return done.stdout.strip()


def _as_owner(args, database, sql_args):
    env = {**os.environ, "PGPASSWORD": database["password"], "PGCONNECT_TIMEOUT": "5"}
    command = ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", args["host"], "-p",
               str(args.get("port", 5432)), "-U", database["owner"], "-d", database["name"], *sql_args]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


def _row_counts(args, database):
    """Exact row counts of the database's public tables: what a load may change."""
    listed = _as_owner(args, database, ["-c", "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                              "ORDER BY tablename"])
    counts = {}
    for table in listed.stdout.split():
        if IDENTIFIER.match(table):
            counts[table] = _as_owner(args, database, ["-c", f'SELECT count(*) FROM "{table}"']).stdout.strip()
    return counts


def _plan(args):
    for database in args["databases"]:
        for key in ("name", "owner"):
            if not IDENTIFIER.match(database[key]):
                raise ValueError(f"{key} {database[key]!r} is not a plain lowercase identifier")
    changes = {"created": [], "updated": [], "loaded": []}
    for database in args["databases"]:
        owner, name = database["owner"], database["name"]
        if _admin("SELECT 1 FROM pg_roles WHERE rolname = :'role'", {"role": owner}) != "1":
            changes["created"].append(f"role {owner}")
        elif _as_owner(args, {**database, "name": "postgres"}, ["-c", "SELECT 1"]).returncode != 0:
            changes["updated"].append(f"role {owner}")
        if _admin("SELECT 1 FROM pg_database WHERE datname = :'db'", {"db": name}) != "1":
            changes["created"].append(f"database {name}")
    return changes


def check(args):
    changes = _plan(args)
    return {"changed": any(changes.values()), **changes}


def run(args):
    changes = _plan(args)
    for database in args["databases"]:
        owner, name, password = database["owner"], database["name"], database["password"]
        if f"role {owner}" in changes["created"]:
            _admin(f"CREATE ROLE {owner} LOGIN PASSWORD :'pw'", {"pw": password})
        elif f"role {owner}" in changes["updated"]:
            _admin(f"ALTER ROLE {owner} PASSWORD :'pw'", {"pw": password})
        if f"database {name}" in changes["created"]:
            _admin(f"CREATE DATABASE {name} OWNER {owner}")
        if database.get("sql_file"):
            before = _row_counts(args, database)
            loaded = _as_owner(args, database, ["-f", database["sql_file"]])
            if loaded.returncode != 0:
                raise RuntimeError(f"loading {database['sql_file']} into {name}: {loaded.stderr.strip()}")
            if _row_counts(args, database) != before:
                changes["loaded"].append(name)
    return {"changed": any(changes.values()), **changes}
