"""AutomateJS projects run as they are, for real: the files of `automatejs init` over SSH to a loopback
host, automatejs-core's argument names, JavaScript templates rendered by Node, and `echo` of a mapping."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import CASES, ROOT
from tests.integration.conftest import task, write_runbook
from tests.lab.processes import wait_until
from tests.processes import with_marker

INIT_HEAD = CASES / "automatejs" / "init-head"
GREETING_JS = "// AutomateJS template\nmodule.exports = (vars) => `hello ${vars.name} from ${vars.host}\\n`\n"


@pytest.fixture
def ansible_settings_for_lab_hosts(monkeypatch):
    """An AutomateJS inventory has no field for the Python or SSH options: Ansible's own settings give them.
    Lab hosts get new host keys every session, and on light hosts discovery would find this controller's pyenv."""
    monkeypatch.setenv("ANSIBLE_PYTHON_INTERPRETER", "/usr/bin/python3")
    monkeypatch.setenv("ANSIBLE_HOST_KEY_CHECKING", "False")
    monkeypatch.setenv("ANSIBLE_SSH_COMMON_ARGS", "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null")


def init_project(directory: Path, host, private_key: Path, tasks: str | None = None) -> Path:
    """The files `automatejs init` writes, with only the values of the inventory's host object changed to
    reach `host`; `tasks`, when given, fills run.yml's `tasks: []`."""
    shutil.copytree(INIT_HEAD, directory)
    inventory = directory / "inventory.yml"
    original = inventory.read_text()
    edited = (original.replace("name: localhost", f"name: {host.address}").replace("user: automatejs", "user: root")
              .replace("'/Users/prussian/.ssh/id_rsa'", f"'{private_key}'"))
    assert edited.count(host.address) == 1 and str(private_key) in edited and "user: root" in edited
    inventory.write_text(edited)
    if tasks is not None:
        run_yml = directory / "run.yml"
        run_yml.write_text(run_yml.read_text().replace("tasks: []\n", "tasks:\n" + tasks))
    return directory


def everything_printed(done) -> str:
    return done.stdout + done.stderr


def test_automatejs_init_output_validates_and_runs_unchanged(rb2ansible, ssh_hosts, lab_keys, tmp_path,
                                                              ansible_settings_for_lab_hosts):
    project = init_project(tmp_path / "example", ssh_hosts[0], lab_keys.private_key)
    assert (project / "run.yml").read_bytes() == (INIT_HEAD / "run.yml").read_bytes()
    assert (project / "var.yml").read_bytes() == (INIT_HEAD / "var.yml").read_bytes()

    checked = rb2ansible("validate", str(project))
    done = rb2ansible("run", str(project))

    assert checked.code == 0, everything_printed(checked)
    assert "run.yml:19:8: warning: 'tasks' is empty: nothing to run there" in checked.stderr
    assert "ok (0 tasks)" in checked.stdout
    assert done.code == 0, everything_printed(done)
    assert (done.results["runbook"], done.results["status"], done.results["tasks"]) == ("example", "successful", [])


def test_an_automatejs_init_project_reaches_its_host_and_renders_javascript(rb2ansible, ssh_hosts, lab_keys,
                                                                           tmp_path, ansible_settings_for_lab_hosts):
    host = ssh_hosts[1]
    out = tmp_path / "out" / host.name  # light hosts share this machine's filesystem
    project = init_project(tmp_path / "example", host, lab_keys.private_key, tasks=f"""\
- name: where am I
  shell: {{command: 'echo $SSH_CONNECTION; id -un', cwd: /tmp}}
- name: greeting
  template:
    source: greeting.js
    destination: {out}/new/dir/greeting
    mkdir: true
    mode: '0640'
    variables: {{name: Anthony, host: '${{inventory_hostname}}'}}
- name: show
  echo: {{a: 1, b: [1, 2]}}
""")
    (project / "templates" / "greeting.js").parent.mkdir(exist_ok=True)
    (project / "templates" / "greeting.js").write_text(GREETING_JS)

    done = rb2ansible("run", str(project))

    assert done.code == 0, everything_printed(done)
    # `name` is the address, `user` the login (`sudo: true` keeps root root), `keyfile` the key.
    connection, user = task(done.results, "where am I", host.address)["stdout"].splitlines()
    assert (connection.split()[2], user) == (host.address, "root")
    greeting = out / "new" / "dir" / "greeting"
    assert greeting.read_text() == f"hello Anthony from {host.address}\n"
    assert stat.S_IMODE(greeting.stat().st_mode) == 0o640
    assert task(done.results, "greeting", host.address)["status"] == "changed"
    assert task(done.results, "show", host.address)["msg"] == '{"a": 1, "b": [1, 2]}'
    assert '\n    {\n      "a": 1,\n      "b": [\n        1,\n        2\n      ]\n    }\n' in done.stdout

    # Again, the inventory given with -i as `automatejs -i` took it: converted the same way.
    again = rb2ansible("run", str(project), "--check", "--diff", "-i", str(project / "inventory.yml"))
    assert again.code == 0, everything_printed(again)
    assert task(again.results, "greeting", host.address)["status"] == "ok"


def test_javascript_templates_follow_copy_check_and_diff(rb2ansible, tmp_path):
    out = tmp_path / "out"
    runbook = write_runbook(tmp_path / "rb", f"""\
name: js diff
tasks:
- name: greeting
  template:
    source: greeting.js
    destination: {out}/greeting
    mkdir: true
    variables: {{name: '${{who}}', host: here}}
""", **{"templates__greeting.js": GREETING_JS, "var.yml": "who: Anthony\n"})
    local = ["-i", str(write_local_inventory(tmp_path))]

    checked = rb2ansible("run", str(runbook), *local, "--check")
    assert checked.code == 0, everything_printed(checked)
    assert task(checked.results, "greeting")["status"] == "changed"
    assert not out.exists()  # check mode creates neither the directory nor the file

    assert rb2ansible("run", str(runbook), *local).code == 0
    assert (out / "greeting").read_text() == "hello Anthony from here\n"
    # No mode given: the mode new files get, as AutomateJS's (0666 less the umask), not a temporary file's 0600.
    assert stat.S_IMODE((out / "greeting").stat().st_mode) == 0o666 & ~current_umask()

    diff = rb2ansible("run", str(runbook), *local, "--check", "--diff", "-e", "who=Grace")
    assert diff.code == 0, everything_printed(diff)
    assert task(diff.results, "greeting")["status"] == "changed"
    assert "-hello Anthony from here" in diff.stdout and "+hello Grace from here" in diff.stdout
    assert (out / "greeting").read_text() == "hello Anthony from here\n"


def test_a_template_that_is_not_an_automatejs_function_fails_and_writes_nothing(rb2ansible, tmp_path):
    """What rb2ansible used to copy verbatim: a JavaScript module, but not a function of the variables."""
    target = tmp_path / "config.js"
    runbook = write_runbook(tmp_path / "rb", f"""\
name: not a function
tasks:
- name: config
  template: {{source: config.js, destination: {target}}}
""", **{"templates__config.js": "module.exports = {\n  name: '{{ person }}'\n}\n"})

    done = rb2ansible("run", str(runbook), "-i", str(write_local_inventory(tmp_path)))

    assert done.code == 1
    result = task(done.results, "config")
    assert result["status"] == "failed"
    assert "config.js: it exports object, not a function of the variables" in result["msg"], result["msg"]
    assert not target.exists()


def test_shell_timeout_argument_kills_the_command_over_ssh(rb2ansible, ssh_hosts, lab_keys, tmp_path,
                                                             ansible_settings_for_lab_hosts):
    host = ssh_hosts[2]
    marker = str(uuid.uuid4().int)[:6]
    after = tmp_path / "after"
    project = init_project(tmp_path / "example", host, lab_keys.private_key, tasks=f"""\
- name: slow
  shell: {{command: 'sleep 5.{marker}', timeout: 1}}
- name: afterwards
  shell: touch {after}
""")

    done = rb2ansible("run", str(project))

    assert done.code == 1, everything_printed(done)
    slow = task(done.results, "slow", host.address)
    assert slow["status"] == "failed"
    assert slow["msg"].startswith("timed out after 1s"), slow["msg"]
    assert task(done.results, "afterwards", host.address)["status"] == "not_run"
    assert not after.exists()
    wait_until(lambda: with_marker(f"5.{marker}") == [], timeout=5, what="no timed-out command left")


def test_validate_without_node_names_the_template_and_nodejs(rb2ansible_command, tmp_path):
    """The paper's section 4.1.1 runbook (runbooks/paper-example) on a machine without Node."""
    project = tmp_path / "paper"
    shutil.copytree(ROOT / "runbooks" / "paper-example", project)
    no_node = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    assert shutil.which("node", path=no_node["PATH"]) is None

    done = subprocess.run([*rb2ansible_command, "validate", str(project)], capture_output=True, text=True,
                          env=no_node, timeout=120)

    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith(f"{project / 'run.yml'}:24:13: error: 'some-template.js' is a JavaScript "
                                  "template"), done.stderr
    assert "apt-get install nodejs" in done.stderr
    assert "Traceback" not in done.stderr


def write_local_inventory(tmp_path: Path) -> Path:
    inventory = tmp_path / "local.ini"
    inventory.write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    return inventory


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# jcomposer's own test tree (adedomin/jcomposer test.js), as a run.yml: no `name`, an echo of a mapping,
# parallel blocks inside a serial one.
JCOMPOSER_TREE = """\
tasks:
- name: test
  echo: {x: x, y: y, z: z, arr: ['1', '2', '3']}
- name: test2
  serial:
  - {name: test3, echo: echo2}
  - {name: test4, echo: echo3}
  - name: parallel test
    parallel:
    - {name: partest1, echo: fasfds}
    - {name: partest2, echo: fdsafsa}
  - name: parallel test2
    parallel:
    - {name: partest3, echo: fasfds}
    - {name: partest4, echo: fdsafsa}
- name: test5
  echo: echo4
"""


def test_jcomposer_test_tree_runs_and_echoes_its_mapping_as_json(rb2ansible, tmp_path):
    runbook = write_runbook(tmp_path / "jcomposer", JCOMPOSER_TREE)

    done = rb2ansible("run", str(runbook), "-i", str(write_local_inventory(tmp_path)))

    assert done.code == 0, everything_printed(done)
    assert "warning: the runbook has no 'name'; it is named after its directory: 'jcomposer'" in done.stderr
    assert done.results["runbook"] == "jcomposer"
    assert task(done.results, "test")["msg"] == '{"x": "x", "y": "y", "z": "z", "arr": ["1", "2", "3"]}'
    assert [(t["name"], t["results"]["localhost"]["msg"]) for t in done.results["tasks"][1:]] == [
        ("test3", "echo2"), ("test4", "echo3"), ("partest1", "fasfds"), ("partest2", "fdsafsa"),
        ("partest3", "fasfds"), ("partest4", "fdsafsa"), ("test5", "echo4")]
    # On the terminal (here a pipe: one line per task), an echo's value goes under its task's line, a mapping
    # as indented JSON.
    assert '\n    {\n      "x": "x",\n      "y": "y",\n      "z": "z",\n      "arr": [\n        "1",' in done.stdout
    assert re.search(r"test5  \[localhost\].*\n    echo4\n", done.stdout), done.stdout


def test_javascript_template_failures_are_the_tasks_and_async_functions_render(rb2ansible, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    runbook = write_runbook(tmp_path / "rb", f"""\
name: js outcomes
tasks:
- name: throws
  template: {{source: throws.js, destination: {out}/throws}}
  ignore_errors: true
- name: number
  template: {{source: number.js, destination: {out}/number}}
  ignore_errors: true
- name: promise
  template: {{source: promise.js, destination: {out}/promise, variables: {{word: later}}}}
""", **{"templates__throws.js": "module.exports = () => { throw new Error('boom') }\n",
        "templates__number.js": "module.exports = () => 42\n",
        "templates__promise.js": "module.exports = async (vars) => `resolved ${vars.word}\\n`\n"})

    done = rb2ansible("run", str(runbook), "-i", str(write_local_inventory(tmp_path)))

    assert done.code == 0, everything_printed(done)
    assert task(done.results, "throws")["status"] == "failed"
    assert task(done.results, "throws")["msg"].endswith(
        "throws.js: its function failed: Error: boom (at module.exports (throws.js:1:32))")
    assert "number.js: its function returned number, not text" in task(done.results, "number")["msg"]
    assert sorted(p.name for p in out.iterdir()) == ["promise"]
    assert (out / "promise").read_text() == "resolved later\n"
