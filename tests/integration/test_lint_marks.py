"""ansible-lint marks hide nothing rb2ansible generated and none of the author's mistakes.

With every `# noqa` stripped from the academic-stack export, each ansible-lint finding must sit on a line
that carried a mark for exactly that rule: a line where the author chose the name or the command. A finding
anywhere else (a join, a check, a play, a defaults file's own lines) would be rb2ansible's to fix.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

BIN = Path(sys.executable).parent
MARK = re.compile(r"  # noqa: (?P<rules>.*)$")
# The rules rb2ansible marks in this export, each as the exact sub-rule (a JavaScript template without a
# mode is also marked, risky-file-permissions: the golden case automatejs-core, linted in test_core_acceptance).
EXPECTED_RULES = {"var-naming[no-role-prefix]"}


def strip_marks(project: Path) -> dict[tuple[str, int], set[str]]:
    """Remove every mark; returns (file, line) -> the rules it named."""
    marks: dict[tuple[str, int], set[str]] = {}
    for path in sorted(project.rglob("*.yml")):
        relative = path.relative_to(project).as_posix()
        if relative.startswith("collections/"):
            continue
        lines = path.read_text().splitlines(keepends=True)
        for number, line in enumerate(lines, start=1):
            found = MARK.search(line.rstrip("\n"))
            if found:
                marks[(relative, number)] = set(found["rules"].split())
                lines[number - 1] = line[:found.start()] + "\n"
        path.write_text("".join(lines))
    return marks


def findings(project: Path, vault_password_file: Path) -> list[tuple[str, int, str]]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
           "ANSIBLE_VAULT_PASSWORD_FILE": str(vault_password_file)}
    lint = subprocess.run([str(BIN / "ansible-lint"), "--offline", "--profile", "production", "-f", "codeclimate"],
                          cwd=project, capture_output=True, text=True, timeout=600, env=env)
    found = []
    for issue in json.loads(lint.stdout):
        location = issue["location"]
        line = location.get("lines", {}).get("begin") or location["positions"]["begin"]["line"]
        found.append((location["path"], int(line), issue["check_name"]))
    return found


def test_without_marks_the_academic_export_has_findings_only_on_the_authors_lines(rb2ansible, tmp_path):
    runbook = ROOT / "runbooks" / "academic-stack"
    assert rb2ansible("export", str(runbook), "-o", str(tmp_path / "out")).code == 0
    project = tmp_path / "out" / "project"
    marks = strip_marks(project)
    # Vault-encrypted vars files cannot carry a mark; .ansible-lint-ignore lists them, file and rule (and the
    # vendored collections' galaxy.yml, which has no public repository to name), each with its reason after #.
    ignored = {tuple(line.split("#")[0].split())
               for line in (project / ".ansible-lint-ignore").read_text().splitlines()}

    found = findings(project, runbook / "demo-vault-pass.txt")

    assert found, "stripping the marks must bring findings back, or this test checks nothing"
    unmarked = [(path, line, rule) for path, line, rule in found
                if not any(rule in marks.get((path, marked), set()) for marked in task_lines(project / path, line))
                and (path, rule) not in ignored]
    assert unmarked == []
    assert not any(path == "site.yml" for path, _, _ in found)
    assert set().union(*marks.values()) == EXPECTED_RULES
    assert {rule for _, rule in ignored} <= EXPECTED_RULES | {"galaxy[no-repository]"}
    # Variable marks are exact: each one covers a finding that really occurs.
    variable_marks = {place for place, rules in marks.items() if "var-naming[no-role-prefix]" in rules}
    assert variable_marks <= {(path, marked) for path, line, rule in found if rule == "var-naming[no-role-prefix]"
                              for marked in task_lines(project / path, line)}


def task_lines(path: Path, line: int) -> range:
    """The lines of the task a finding names (ansible-lint reports register and set_fact names at the task's
    first line and reads a task's marks anywhere in it); in a vars file, just that line."""
    lines = path.read_text().splitlines()
    start = lines[line - 1]
    if not start.lstrip().startswith("- "):
        return range(line, line + 1)
    indent = len(start) - len(start.lstrip())
    end = line
    while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent):
        end += 1
    return range(line, end + 1)
