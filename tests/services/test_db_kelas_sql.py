"""db_kelas.sql: loads cleanly, re-loading changes nothing, and it holds one grade scale."""

from __future__ import annotations

import re
import secrets

import psycopg
import pytest
from acad_service.grades import GRADE_POINTS

from tests.services.layout import DB_KELAS_SQL
from tests.services.postgres_cluster import Role

TABLES = ("mahasiswa", "mata_kuliah", "krs")


def snapshot(conn: psycopg.Connection) -> dict[str, list[tuple]]:
    return {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall() for table in TABLES}


@pytest.fixture(scope="module")
def scratch_role(postgres) -> Role:
    """A fresh database, so the first load below really is the first one."""
    role = Role(name="kelas_scratch", password=secrets.token_urlsafe(24), database="kelas_scratch")
    postgres.create_role_and_database(role)
    return role


def test_loading_twice_changes_nothing(postgres, scratch_role):
    postgres.psql_file(DB_KELAS_SQL, scratch_role)
    with postgres.connect(scratch_role.database) as conn:
        first = snapshot(conn)
    second_load = postgres.psql_file(DB_KELAS_SQL, scratch_role)
    with postgres.connect(scratch_role.database) as conn:
        second = snapshot(conn)

    assert {table: len(rows) for table, rows in second.items()} == \
           {table: len(rows) for table, rows in first.items()}
    assert second == first
    inserts = re.findall(r"^INSERT 0 (\d+)$", second_load.stdout, re.MULTILINE)
    assert inserts == ["0", "0", "0"], second_load.stdout


def test_seed_data_has_students_courses_and_two_semesters_for_22002(postgres, acad_role):
    with postgres.connect(acad_role.database) as conn:
        students = conn.execute("SELECT count(*) FROM mahasiswa").fetchone()[0]
        courses = conn.execute("SELECT count(*) FROM mata_kuliah WHERE sks > 0").fetchone()[0]
        semesters = conn.execute("SELECT count(DISTINCT semester) FROM krs WHERE nim = '22002'").fetchone()[0]
    assert students >= 5
    assert courses >= 5
    assert semesters >= 2


def test_database_allows_exactly_the_service_grade_scale(postgres, acad_role):
    with postgres.connect(acad_role.database) as conn:
        definition = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'krs_nilai_on_scale'"
        ).fetchone()[0]
        used = {row[0] for row in conn.execute("SELECT DISTINCT nilai FROM krs")}
    assert set(re.findall(r"'([^']+)'::", definition)) == set(GRADE_POINTS)
    assert used <= set(GRADE_POINTS)


@pytest.mark.parametrize("letter", ["A+", "D+", "F", "a"])
def test_grade_outside_the_scale_is_rejected(postgres, acad_role, letter):
    with postgres.connect(acad_role.database, acad_role) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("INSERT INTO krs (nim, kode_mk, semester, nilai) VALUES ('22002', 'SD101', 9, %s)",
                     (letter,))
