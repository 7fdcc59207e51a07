"""Golden cases: each runbook's export must match its reviewed expected tree, byte for byte.

Regenerate with `pytest tests/unit/test_golden_export.py --regenerate` and review the diff.
"""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import pytest

from tests.conftest import CASES, ROOT
from translator.build import load_runbook
from translator.emit import compile_runbook
from translator.project import RunSettings, write_project
from translator.role_files import collection_source

GOLDEN = CASES / "golden"
RUNBOOKS = sorted(p for p in (ROOT / "runbooks").iterdir() if (p / "run.yml").is_file())
CASE_RUNBOOKS = sorted(p / "runbook" for p in GOLDEN.iterdir() if (p / "runbook").is_dir())


def expected_dir(runbook: Path) -> Path:
    if runbook.parent == ROOT / "runbooks":
        return GOLDEN / f"runbooks-{runbook.name}" / "expected"
    return runbook.parent / "expected"


def export(runbook: Path, target: Path) -> dict[str, bytes]:
    """The export's files, less the vendored collection and the roles' files/ (verbatim copies,
    checked against the runbook's own files/ by test_roles_carry_the_runbook_files)."""
    write_project(compile_runbook(load_runbook(runbook)), target, RunSettings())
    return {name: content for name, content in tree(target, skip="project/collections").items()
            if "/files/" not in name}


def tree(root: Path, skip: str | None = None) -> dict[str, bytes]:
    files = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and not (skip and relative.startswith(skip)) and "__pycache__" not in relative:
            files[relative] = path.read_bytes()
    return files


@pytest.mark.parametrize("runbook", [r for r in RUNBOOKS + CASE_RUNBOOKS if (r / "files").is_dir()],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_roles_carry_the_runbook_files(runbook: Path, tmp_path: Path):
    compiled = compile_runbook(load_runbook(runbook))
    write_project(compiled, tmp_path, RunSettings())
    assert tree(tmp_path / "project" / "roles" / compiled.role / "files") == tree(runbook / "files")


@pytest.mark.parametrize("runbook", RUNBOOKS + CASE_RUNBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_export_matches_golden_tree(runbook: Path, tmp_path: Path, regenerate: bool):
    actual = export(runbook, tmp_path / "out")
    expected = expected_dir(runbook)
    if regenerate:
        shutil.rmtree(expected, ignore_errors=True)
        for relative, content in actual.items():
            (expected / relative).parent.mkdir(parents=True, exist_ok=True)
            (expected / relative).write_bytes(content)
    assert expected.is_dir(), f"no golden tree for {runbook}: run with --regenerate and review it"
    golden = tree(expected)
    assert sorted(actual) == sorted(golden)
    for relative in actual:
        assert actual[relative].decode() == golden[relative].decode(), relative


@pytest.mark.parametrize("runbook", RUNBOOKS + CASE_RUNBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_export_is_stable(runbook: Path, tmp_path: Path):
    """Compiling twice, into different places, gives the same bytes."""
    assert export(runbook, tmp_path / "one") == export(runbook, tmp_path / "two")


def test_export_vendors_the_helper_collection(tmp_path: Path):
    write_project(compile_runbook(load_runbook(ROOT / "runbooks" / "hello")), tmp_path, RunSettings())
    vendored = tmp_path / "project" / "collections" / "ansible_collections" / "rb2ansible" / "runbook"
    source = tree(collection_source(), skip="tests")
    copied = tree(vendored)
    assert "plugins/modules/stop_run.py" in copied
    assert {k: v for k, v in source.items() if not k.endswith("__init__.py")} == copied
    assert not filecmp.dircmp(vendored, collection_source()).diff_files
