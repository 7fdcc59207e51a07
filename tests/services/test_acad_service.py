"""acad-service against the real academic database: tokens, student list, IPS, 404 and 422."""

from __future__ import annotations

import time

import jwt
import pytest

# The scale from the issue, written out again here so the expected IPS does not come from the
# service's own table: A 4, A- 3.75, B+ 3.5, B 3, B- 2.75, C+ 2.5, C 2, D 1, E 0.
SCALE_SQL = """
    CASE krs.nilai WHEN 'A' THEN 4 WHEN 'A-' THEN 3.75 WHEN 'B+' THEN 3.5 WHEN 'B' THEN 3
                   WHEN 'B-' THEN 2.75 WHEN 'C+' THEN 2.5 WHEN 'C' THEN 2 WHEN 'D' THEN 1
                   WHEN 'E' THEN 0 END
"""
EXPECTED_IPS_SQL = f"""
    SELECT round(sum(({SCALE_SQL}) * mk.sks) / sum(mk.sks), 2)
    FROM krs JOIN mata_kuliah mk ON mk.kode_mk = krs.kode_mk
    WHERE krs.nim = %s AND krs.semester = %s
"""


def expected_ips(postgres, acad_role, nim: str, semester: int) -> float:
    with postgres.connect(acad_role.database) as conn:
        return float(conn.execute(EXPECTED_IPS_SQL, (nim, semester)).fetchone()[0])


def graded_semesters(postgres, acad_role) -> list[tuple[str, int]]:
    with postgres.connect(acad_role.database) as conn:
        return conn.execute("SELECT DISTINCT nim, semester FROM krs ORDER BY 1, 2").fetchall()


# -- health -----------------------------------------------------------------------------------------

def test_health_reports_service_and_database(acad_client):
    response = acad_client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "acad-service", "database": "ok"}


# -- tokens -----------------------------------------------------------------------------------------

def forged(jwt_secret: str, **overrides) -> str:
    now = int(time.time())
    claims = {"sub": "someone", "iat": now, "exp": now + 600}
    secret = overrides.pop("secret", jwt_secret)
    algorithm = overrides.pop("algorithm", "HS256")
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm=algorithm)


BAD_AUTHORIZATIONS = {
    "no header": lambda secret: None,
    "empty bearer": lambda secret: "Bearer ",
    "basic scheme": lambda secret: "Basic dXNlcjpwYXNz",
    "not a jwt": lambda secret: "Bearer not-a-jwt",
    "other secret": lambda secret: "Bearer " + forged("x" * 48, secret="y" * 48),
    "expired": lambda secret: "Bearer " + forged(secret, iat=int(time.time()) - 7200,
                                                 exp=int(time.time()) - 3600),
    "no expiry": lambda secret: "Bearer " + forged(secret, exp=None),
    "no subject": lambda secret: "Bearer " + forged(secret, sub=None),
    "other algorithm": lambda secret: "Bearer " + forged(secret, algorithm="HS512"),
    "unsigned": lambda secret: "Bearer " + jwt.encode({"sub": "x", "iat": 1, "exp": 2**40}, None,
                                                       algorithm="none"),
}


@pytest.mark.parametrize("path", ["/api/acad/ips?nim=22002", "/api/acad/mahasiswa",
                                  "/api/acad/ips?nim=not-a-nim"])
@pytest.mark.parametrize("case", sorted(BAD_AUTHORIZATIONS))
def test_academic_endpoints_refuse_requests_without_a_valid_token(acad_client, jwt_secret, path, case):
    authorization = BAD_AUTHORIZATIONS[case](jwt_secret)
    headers = {} if authorization is None else {"Authorization": authorization}
    response = acad_client.get(path, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"


def test_health_needs_no_token(acad_client):
    assert acad_client.get("/health").status_code == 200


# -- data -------------------------------------------------------------------------------------------

def test_student_list_is_the_mahasiswa_table(acad_client, bearer, postgres, acad_role):
    with postgres.connect(acad_role.database) as conn:
        rows = conn.execute("SELECT nim, nama, jurusan FROM mahasiswa ORDER BY nim").fetchall()
    response = acad_client.get("/api/acad/mahasiswa", headers=bearer)
    assert response.status_code == 200
    assert response.json() == [{"nim": nim, "nama": nama, "jurusan": jurusan} for nim, nama, jurusan in rows]


def test_ips_of_22002_is_computed_from_krs_and_mata_kuliah(acad_client, bearer, postgres, acad_role):
    with postgres.connect(acad_role.database) as conn:
        nama, jurusan = conn.execute("SELECT nama, jurusan FROM mahasiswa WHERE nim = '22002'").fetchone()
        latest = conn.execute("SELECT max(semester) FROM krs WHERE nim = '22002'").fetchone()[0]
    response = acad_client.get("/api/acad/ips", params={"nim": "22002"}, headers=bearer)
    assert response.status_code == 200
    assert response.json() == {"NIM": "22002", "Nama Mahasiswa": nama, "Jurusan": jurusan,
                               "Semester": latest, "IPS": expected_ips(postgres, acad_role, "22002", latest)}


def test_ips_of_every_graded_semester_matches_the_database(acad_client, bearer, postgres, acad_role):
    for nim, semester in graded_semesters(postgres, acad_role):
        response = acad_client.get("/api/acad/ips", params={"nim": nim, "semester": semester}, headers=bearer)
        assert response.status_code == 200, (nim, semester, response.text)
        assert response.json()["IPS"] == expected_ips(postgres, acad_role, nim, semester), (nim, semester)


def test_ips_rounds_half_up(acad_client, bearer):
    # 22002, semester 1: (3*4 + 3*3.5 + 4*3.75 + 2*3) / 12 = 3.625 exactly; float round() gives 3.62.
    response = acad_client.get("/api/acad/ips", params={"nim": "22002", "semester": 1}, headers=bearer)
    assert response.json()["IPS"] == 3.63


# -- errors -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("params, detail", [
    ({"nim": "99999"}, "student not found"),
    ({"nim": "23001"}, "no grades recorded for this student"),
    ({"nim": "22005", "semester": 2}, "no grades recorded for semester 2"),
])
def test_unknown_student_or_semester_is_404(acad_client, bearer, params, detail):
    response = acad_client.get("/api/acad/ips", params=params, headers=bearer)
    assert response.status_code == 404
    assert response.json() == {"detail": detail}


@pytest.mark.parametrize("query", [
    "nim=abc", "nim=22a02", "nim=1234", "nim=1234567890123", "nim=", "nim=%2022002",
    "nim=22002'%20OR%20'1'='1", "", "nim=22002&semester=0", "nim=22002&semester=15",
    "nim=22002&semester=two",
])
def test_malformed_query_is_422(acad_client, bearer, query, postgres, acad_role):
    response = acad_client.get(f"/api/acad/ips?{query}", headers=bearer)
    assert response.status_code == 422, response.text
    with postgres.connect(acad_role.database) as conn:
        assert conn.execute("SELECT count(*) FROM mahasiswa").fetchone()[0] > 0
