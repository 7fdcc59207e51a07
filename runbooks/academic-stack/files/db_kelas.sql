-- db_kelas.sql: schema and seed data of the academic database (acad-service).
--
-- Idempotent: every table is created only if missing and every row is inserted with
-- ON CONFLICT DO NOTHING, so loading the file again changes nothing (each INSERT then
-- reports "INSERT 0 0"). Plain SQL without psql meta-commands, so it loads the same way with
-- `psql -v ON_ERROR_STOP=1 -f db_kelas.sql` and from /docker-entrypoint-initdb.d/.
-- Run it as the role acad-service connects with (the database owner) so that role can read
-- the tables.
--
-- One grade scale, enforced here and applied by acad-service:
--   A 4, A- 3.75, B+ 3.5, B 3, B- 2.75, C+ 2.5, C 2, D 1, E 0.
-- `krs.semester` is the student's own semester number (1, 2, ...); IPS is computed per
-- semester from the grades of that semester.

BEGIN;

CREATE TABLE IF NOT EXISTS mahasiswa (
    nim      VARCHAR(12)  PRIMARY KEY CHECK (nim ~ '^[0-9]{5,12}$'),
    nama     VARCHAR(100) NOT NULL,
    jurusan  VARCHAR(100) NOT NULL
);

CREATE TABLE IF NOT EXISTS mata_kuliah (
    kode_mk  VARCHAR(10)  PRIMARY KEY,
    nama_mk  VARCHAR(100) NOT NULL,
    sks      SMALLINT     NOT NULL CHECK (sks BETWEEN 1 AND 6)
);

CREATE TABLE IF NOT EXISTS krs (
    nim       VARCHAR(12) NOT NULL REFERENCES mahasiswa (nim),
    kode_mk   VARCHAR(10) NOT NULL REFERENCES mata_kuliah (kode_mk),
    semester  SMALLINT    NOT NULL CHECK (semester BETWEEN 1 AND 14),
    nilai     VARCHAR(2)  NOT NULL
        CONSTRAINT krs_nilai_on_scale
        CHECK (nilai IN ('A', 'A-', 'B+', 'B', 'B-', 'C+', 'C', 'D', 'E')),
    PRIMARY KEY (nim, semester, kode_mk)
);

INSERT INTO mahasiswa (nim, nama, jurusan) VALUES
    ('22001', 'Andi Pratama',     'Sains Data'),
    ('22002', 'Siti Nurhaliza',   'Sains Data'),
    ('22003', 'Budi Santoso',     'Informatika'),
    ('22004', 'Dewi Lestari',     'Sistem Informasi'),
    ('22005', 'Rizky Ramadhan',   'Informatika'),
    ('23001', 'Nabila Putri',     'Sains Data')
ON CONFLICT (nim) DO NOTHING;

INSERT INTO mata_kuliah (kode_mk, nama_mk, sks) VALUES
    ('SD101', 'Pengantar Sains Data',                    3),
    ('MA101', 'Kalkulus I',                              3),
    ('MA102', 'Aljabar Linear',                          3),
    ('IF101', 'Dasar Pemrograman',                       4),
    ('IF102', 'Struktur Data',                           3),
    ('ST101', 'Statistika Dasar',                        3),
    ('UM101', 'Bahasa Indonesia',                        2),
    ('UM102', 'Pendidikan Pancasila',                    2),
    ('AK201', 'Arsitektur Komputer dan Sistem Operasi',  3)
ON CONFLICT (kode_mk) DO NOTHING;

-- 23001 is a new student without grades yet; 22004 retakes MA101 in semester 2.
INSERT INTO krs (nim, kode_mk, semester, nilai) VALUES
    ('22001', 'SD101', 1, 'B'),
    ('22001', 'MA101', 1, 'C+'),
    ('22001', 'IF101', 1, 'B-'),
    ('22001', 'UM101', 1, 'A'),
    ('22001', 'MA102', 2, 'C'),
    ('22001', 'IF102', 2, 'B+'),
    ('22001', 'ST101', 2, 'B'),
    ('22001', 'UM102', 2, 'A-'),

    ('22002', 'SD101', 1, 'A'),
    ('22002', 'MA101', 1, 'B+'),
    ('22002', 'IF101', 1, 'A-'),
    ('22002', 'UM101', 1, 'B'),
    ('22002', 'MA102', 2, 'B'),
    ('22002', 'IF102', 2, 'A'),
    ('22002', 'ST101', 2, 'C+'),
    ('22002', 'UM102', 2, 'A'),
    ('22002', 'AK201', 2, 'B-'),

    ('22003', 'IF101', 1, 'A'),
    ('22003', 'MA101', 1, 'A-'),
    ('22003', 'UM101', 1, 'B+'),
    ('22003', 'SD101', 1, 'B'),
    ('22003', 'IF102', 2, 'A'),
    ('22003', 'MA102', 2, 'B+'),
    ('22003', 'ST101', 2, 'A-'),
    ('22003', 'UM102', 2, 'B'),

    ('22004', 'SD101', 1, 'C'),
    ('22004', 'MA101', 1, 'D'),
    ('22004', 'IF101', 1, 'C+'),
    ('22004', 'UM101', 1, 'B'),
    ('22004', 'MA101', 2, 'B-'),
    ('22004', 'MA102', 2, 'E'),
    ('22004', 'ST101', 2, 'C'),
    ('22004', 'UM102', 2, 'B+'),

    ('22005', 'IF101', 1, 'B+'),
    ('22005', 'MA101', 1, 'B'),
    ('22005', 'SD101', 1, 'A'),
    ('22005', 'UM101', 1, 'A')
ON CONFLICT (nim, semester, kode_mk) DO NOTHING;

COMMIT;
