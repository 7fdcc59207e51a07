"""Results follow each emitted task's place in its tasks file, not its name; true statuses inside parallel."""

from __future__ import annotations

import json

from tests.integration.conftest import task, write_runbook

ALIKE = """name: alike
tasks:
- name: a (2)
  echo: first
- name: a
  echo: second
- name: A
  echo: third
"""


def test_names_that_capitalise_alike_validate_export_and_run(rb2ansible, tmp_path):
    # `a` and `A` both become the Ansible name "A"; with `a (2)` first, the old renaming never ended.
    book = write_runbook(tmp_path / "alike", ALIKE)
    assert rb2ansible("validate", str(book), timeout=60).code == 0
    exported = rb2ansible("export", str(book), "-o", str(tmp_path / "out"), timeout=60)
    assert exported.code == 0, exported.stderr
    tasks_file = (tmp_path / "out" / "project" / "roles" / "alike" / "tasks" / "main.yml").read_text()
    names = [line.split("name: ", 1)[1] for line in tasks_file.splitlines() if line.startswith("- name: ")]
    assert len(set(names)) == 3, names

    done = rb2ansible("run", str(book))
    assert done.code == 0, done.stdout + done.stderr
    said = {entry["name"]: entry["results"]["localhost"] for entry in done.results["tasks"]}
    assert {name: r["status"] for name, r in said.items()} == {"a (2)": "ok", "a": "ok", "A": "ok"}
    assert {name: r["msg"] for name, r in said.items()} == {"a (2)": "first", "a": "second", "A": "third"}


def test_includes_whose_names_read_alike_each_report_their_own_tasks(rb2ansible, tmp_path):
    # `a-b` and `a b` once shared one tasks file: the second overwrote the first and its results were lost.
    book = write_runbook(tmp_path / "book", """name: book
tasks:
- name: a-b
  include: {runbook: sub.yml, vars: {word: dash}}
- name: a b
  include: {runbook: sub.yml, vars: {word: space}}
""", **{"sub.yml": "name: sub\nvars: {word: none}\ntasks:\n- name: say\n  echo: '${word}'\n"})
    done = rb2ansible("run", str(book))
    assert done.code == 0, done.stdout + done.stderr
    said = {"/".join(entry["path"]): entry["results"]["localhost"] for entry in done.results["tasks"]}
    assert {path: (r["status"], r["msg"]) for path, r in said.items()} == {
        "a-b/say": ("ok", "dash"), "a b/say": ("ok", "space")}


def test_ignore_errors_on_a_parallel_child_lets_the_block_and_the_run_succeed(rb2ansible, tmp_path):
    book = write_runbook(tmp_path / "tolerant", """name: tolerant
tasks:
- name: together
  parallel:
  - name: fails in the background
    shell: exit 3
    ignore_errors: true
  - name: fails in the foreground
    shell: exit 4
    retries: 1
    delay: 0
    until: false
    ignore_errors: true
  - name: chain
    serial:
    - name: first link fails
      shell: exit 5
      ignore_errors: true
    - name: second link
      shell: echo still here
- name: after the block
  echo: done
""")
    done = rb2ansible("run", str(book))
    assert done.code == 0, done.stdout + done.stderr
    assert done.results["status"] == "successful"
    assert {name: task(done.results, name)["status"] for name in (
        "fails in the background", "fails in the foreground", "first link fails", "second link", "after the block")
    } == {"fails in the background": "failed", "fails in the foreground": "failed", "first link fails": "failed",
          "second link": "changed", "after the block": "ok"}
    assert task(done.results, "fails in the background")["rc"] == 3
    assert task(done.results, "second link")["stdout"] == "still here"


def test_a_hidden_child_that_changed_something_is_changed(rb2ansible, tmp_path):
    secret = "hunter2-not-shown"
    book = write_runbook(tmp_path / "hidden", f"""name: hidden
tasks:
- name: together
  parallel:
  - name: hidden change
    shell: echo {secret} > {tmp_path}/written
    no_log: true
  - name: hidden echo
    echo: {secret}
    no_log: true
  - name: hidden look
    ansible.builtin.stat: {{path: {tmp_path}/{secret}}}
    no_log: true
""")
    done = rb2ansible("run", str(book))
    assert done.code == 0, done.stdout + done.stderr
    assert (tmp_path / "written").read_text() == f"{secret}\n"
    assert {name: task(done.results, name)["status"] for name in ("hidden change", "hidden echo", "hidden look")
            } == {"hidden change": "changed", "hidden echo": "ok", "hidden look": "ok"}
    assert secret not in done.stdout + done.stderr + json.dumps(done.results)
