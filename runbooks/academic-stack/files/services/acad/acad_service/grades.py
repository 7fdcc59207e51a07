"""The one grade scale and the IPS (semester GPA) computed from it."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

# Letter grade -> grade points. The database's CHECK constraint krs_nilai_on_scale allows
# exactly these letters, so a grade outside the scale cannot be stored.
GRADE_POINTS: dict[str, Decimal] = {
    "A": Decimal("4"),
    "A-": Decimal("3.75"),
    "B+": Decimal("3.5"),
    "B": Decimal("3"),
    "B-": Decimal("2.75"),
    "C+": Decimal("2.5"),
    "C": Decimal("2"),
    "D": Decimal("1"),
    "E": Decimal("0"),
}


class UnknownGrade(ValueError):
    """A grade letter outside the scale; never silently counted as 0 points."""


def grade_points(letter: str) -> Decimal:
    try:
        return GRADE_POINTS[letter.strip()]
    except KeyError:
        raise UnknownGrade(f"grade {letter!r} is not on the scale") from None


def semester_gpa(graded_courses: Iterable[tuple[str, int]]) -> Decimal:
    """IPS = sum(points * sks) / sum(sks) over (grade letter, sks) pairs, rounded half-up to 2 places.

    Decimal arithmetic, so 3.625 becomes 3.63 (binary floats and round() would give 3.62).
    """
    weighted = Decimal(0)
    credits = 0
    for letter, sks in graded_courses:
        weighted += grade_points(letter) * sks
        credits += sks
    if credits == 0:
        raise ValueError("IPS of a semester without credits is undefined")
    return (weighted / credits).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
