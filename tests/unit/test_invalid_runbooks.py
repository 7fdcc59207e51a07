"""Invalid cases: every diagnostic of a broken runbook, at once, with its line and column.

Each `tests/cases/invalid/NAME.yml` sits beside `NAME.expected`: each diagnostic as `validate`
prints it, then its source line with a caret under the offending text (paths relative to the
case folder). Regenerate with --regenerate and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CASES
from translator.build import load_runbook
from translator.errors import RunbookInvalid

INVALID = CASES / "invalid"


@pytest.mark.parametrize("case", sorted(INVALID.glob("*.yml")), ids=lambda p: p.stem)
def test_diagnostics(case: Path, regenerate: bool):
    with pytest.raises(RunbookInvalid) as raised:
        load_runbook(case)
    lines = "".join(f"{d.render()}\n" for d in raised.value.diagnostics).replace(f"{INVALID}/", "")
    expected = case.with_suffix(".expected")
    if regenerate:
        expected.write_text(lines)
    assert lines == expected.read_text()
