"""AutomateJS projects as they are: `automatejs init` output, every inventory form, automatejs-core's
argument names, JavaScript templates, and the warnings for what rb2ansible reads differently.

What runs for real (SSH hosts, Node rendering) is tests/integration/test_automatejs_projects.py.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import CASES, ROOT
from translator import inventory
from translator.build import load_runbook
from translator.calls import module_call
from translator.emit import compile_runbook
from translator.errors import RunbookInvalid
from translator.modules.shell import ShellArguments
from translator.project import RunSettings, write_project

INIT_HEAD = CASES / "automatejs" / "init-head"


def project(directory: Path, run_yml: str, **files: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "run.yml").write_text(run_yml)
    for name, text in files.items():
        path = directory / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return directory


def problems(directory: Path) -> list[str]:
    with pytest.raises(RunbookInvalid) as raised:
        load_runbook(directory)
    return [str(d) for d in raised.value.diagnostics]


def leaf(directory: Path, name: str):
    return next(task for task in load_runbook(directory).leaves() if task.name == name)


# -- automatejs init -------------------------------------------------------------------------------

def test_automatejs_init_output_loads_unchanged_with_a_warning_for_its_empty_task_list(tmp_path):
    shutil.copytree(INIT_HEAD, tmp_path / "example")

    runbook = load_runbook(tmp_path / "example")

    assert (runbook.name, runbook.hosts, runbook.sudo, runbook.leaves()) == ("example", "${host}", True, [])
    assert [str(w) for w in runbook.warnings] == [
        f"{tmp_path / 'example' / 'run.yml'}:19:8: warning: 'tasks' is empty: nothing to run there"]
    # The host object of `init`: `name` is the address, `user` the login, `keyfile` absolute.
    assert runbook.inventory == {"all": {"children": {"localhost": {"hosts": {"localhost": {
        "ansible_user": "automatejs", "ansible_ssh_private_key_file": "/Users/prussian/.ssh/id_rsa"}}}}}}


def test_a_runbook_without_a_name_takes_its_directory_name_with_a_warning(tmp_path):
    runbook = load_runbook(project(tmp_path / "my-app", "tasks:\n- {name: hi, echo: hi}\n"))

    assert runbook.name == "my-app"
    assert [w.message for w in runbook.warnings] == [
        "the runbook has no 'name'; it is named after its directory: 'my-app'"]


def test_an_empty_serial_or_parallel_list_is_a_warning_and_is_left_out(tmp_path):
    runbook = load_runbook(project(tmp_path / "rb", """\
name: empties
tasks:
- {name: nothing yet, parallel: []}
- name: outer
  serial:
  - {name: inner, serial: []}
  - {name: say, echo: hi}
"""))

    assert [leaf.path for leaf in runbook.leaves()] == [("outer", "say")]
    assert [child.name for child in runbook.root.children] == ["outer"]
    assert [w.message for w in runbook.warnings] == [
        "'parallel' of task 'nothing yet' is empty: nothing to run there",
        "'serial' of task 'inner' is empty: nothing to run there"]


# -- inventory.yml ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "hosts"), [
    ({"localhost": "localhost"}, {"localhost": None}),  # the first `automatejs init`
    ({"web": ["192.0.2.1", "192.0.2.2"]}, {"192.0.2.1": None, "192.0.2.2": None}),
    ({"web": [{"name": "192.0.2.1", "user": "deploy"}]}, {"192.0.2.1": {"ansible_user": "deploy"}}),
    ({"web": [{"host": "192.0.2.1", "port": 2222, "username": "deploy"}]},
     {"192.0.2.1": {"ansible_host": "192.0.2.1", "ansible_port": 2222, "ansible_user": "deploy"}}),
    ({"web": [{"name": "web1", "host": "192.0.2.1", "user": "deploy", "username": "deploy"}]},
     {"web1": {"ansible_host": "192.0.2.1", "ansible_user": "deploy"}}),
])
def test_every_inventory_form_automatejs_accepted(data, hosts):
    assert inventory.convert(data) == {"all": {"children": {next(iter(data)): {"hosts": hosts}}}}


def test_an_automatejs_inventory_given_with_i_is_converted_and_an_ansible_one_copied_as_it_is(tmp_path):
    """`automatejs -i FILE` took AutomateJS's form; Ansible would read that file otherwise, without a word."""
    automatejs = tmp_path / "automatejs.yml"
    automatejs.write_text("web:\n- {name: 192.0.2.1, user: deploy, keyfile: keys/id}\n")
    ansible = tmp_path / "ansible.yml"
    ansible.write_text("web:\n  hosts:\n    192.0.2.2: {ansible_user: deploy}  # kept, comment and all\n")
    runbook = project(tmp_path / "rb", "name: i\nhosts: web\ntasks:\n- {name: hi, echo: hi}\n")
    compiled = compile_runbook(load_runbook(runbook))

    write_project(compiled, tmp_path / "one", RunSettings(inventories=(automatejs,)))
    write_project(compiled, tmp_path / "two", RunSettings(inventories=(automatejs, ansible)))

    converted = {"all": {"children": {"web": {"hosts": {"192.0.2.1": {
        "ansible_user": "deploy",
        "ansible_ssh_private_key_file": "{{ rb2ansible_key_dir | default(inventory_dir) }}/keys/id"}}}}}}
    assert yaml.safe_load((tmp_path / "one" / "inventory" / "automatejs.yml").read_text()) == converted
    assert yaml.safe_load((tmp_path / "two" / "inventory" / "01_automatejs.yml").read_text()) == converted
    assert (tmp_path / "two" / "inventory" / "02_ansible.yml").read_text() == ansible.read_text()


def test_inventory_key_files_keep_the_names_given_and_home_paths_are_kept_for_ssh():
    """A relative key file is named as the user wrote it, found where `run` says (or beside the exported
    inventory): the export holds no path of the machine that wrote it."""
    data = {"g": [{"name": "a", "keyfile": "keys/id"}, {"name": "b", "keyfile": "~/.ssh/id"},
                  {"name": "c", "keyfile": "/etc/key"}]}
    hosts = inventory.convert(data)["all"]["children"]["g"]["hosts"]
    assert [h["ansible_ssh_private_key_file"] for h in hosts.values()] == [
        "{{ rb2ansible_key_dir | default(inventory_dir) }}/keys/id", "~/.ssh/id", "/etc/key"]


@pytest.mark.parametrize(("data", "message"), [
    ({"g": [{"host": "a", "password": "hunter2"}]}, "does not read passwords from inventory.yml"),
    ({"g": [{"name": "a", "user": "x", "username": "y"}]}, "both 'user' and 'username', and they differ"),
    ({"g": [{"port": 22}]}, "an object with 'host' or 'name'"),
    ({"g": [{"name": "a", "sudo": True}]}, "unknown host key(s) in group 'g': sudo"),
    ({"g": {"a": 1}}, "must be an address or a list"),
])
def test_inventory_mistakes_are_named(data, message):
    with pytest.raises(inventory.InventoryProblem, match=message.replace("(", r"\(").replace(")", r"\)")):
        inventory.convert(data)


def test_an_inventory_password_never_reaches_the_diagnostic(tmp_path):
    directory = project(tmp_path / "rb", "name: p\ntasks:\n- {name: hi, echo: hi}\n",
                        **{"inventory.yml": "g:\n- {host: a, password: hunter2}\n"})
    assert not any("hunter2" in problem for problem in problems(directory))


# -- automatejs-core's arguments -------------------------------------------------------------------

def test_shell_takes_automatejs_core_names_and_its_timeout_becomes_the_tasks(tmp_path):
    directory = project(tmp_path / "rb", """\
name: core
tasks:
- name: slow
  shell: {command: sleep 5, timeout: 1, cwd: /tmp, env: {A: b}}
""")
    slow = leaf(directory, "slow")

    assert slow.args == ShellArguments(cmd="sleep 5", chdir="/tmp", env={"A": "b"}, timeout=1)
    assert slow.options.timeout == 1
    fqcn, args, extra = module_call(slow)
    assert (fqcn, args) == ("rb2ansible.runbook.shell", {"cmd": "sleep 5", "chdir": "/tmp"})
    assert extra["environment"] == {"A": "b"}


def test_automatejs_core_argument_mistakes_are_explained(tmp_path):
    directory = project(tmp_path / "rb", """\
name: core
tasks:
- {name: both, shell: {command: ls, cmd: ls}}
- name: twice
  shell: {command: ls, timeout: 2}
  timeout: 3
- {name: keyword, file: {source: f, destination: /tmp/f, retries: 2}}
- {name: zero, shell: {command: ls, timeout: 0}}
""", **{"files__f": "x"})
    assert problems(directory) == [
        f"{directory / 'run.yml'}:3:37: error: 'cmd' and 'command' are the same argument of 'shell'; give one",
        f"{directory / 'run.yml'}:6:3: error: 'timeout' is given twice: here and among the arguments of "
        "'shell'; keep one",
        f"{directory / 'run.yml'}:7:58: error: 'retries' is a task keyword, not an argument of 'file': write it "
        "beside 'file', at the task's level",
        f"{directory / 'run.yml'}:8:46: error: 'timeout: 0' would mean no time limit at all; give at least 1 "
        "second, or leave timeout out for no limit",
    ]


def test_mkdir_writes_through_the_collections_actions_that_create_directories(tmp_path):
    directory = project(tmp_path / "rb", """\
name: mkdir
tasks:
- {name: copy, file: {source: f, destination: /srv/new/f, mkdir: true, owner: '1003'}}
- {name: render, template: {source: t.j2, destination: /srv/new/t, mkdir: true}}
- {name: plain, template: {source: t.j2, destination: /srv/t}}
""", **{"files__f": "x", "templates__t.j2": "{{ 1 }}"})
    (directory / "files" / "f").chmod(0o640)

    calls = {name: module_call(leaf(directory, name)) for name in ("copy", "render", "plain")}

    # Without `mode`, the source's own (translator/modules/file.py says why not `preserve`).
    assert calls["copy"][:2] == ("rb2ansible.runbook.copy", {"src": "f", "dest": "/srv/new/f", "mode": "0640",
                                                             "owner": "1003", "mkdir": True})
    assert calls["render"][0] == "rb2ansible.runbook.template" and calls["render"][1]["mkdir"] is True
    assert calls["plain"][0] == "ansible.builtin.template" and "mkdir" not in calls["plain"][1]


# -- JavaScript templates --------------------------------------------------------------------------

GREETING_JS = "module.exports = (vars) => `hello ${vars.name}\\n`\n"


def test_a_commonjs_template_is_rendered_by_node_and_written_by_copy(tmp_path):
    directory = project(tmp_path / "rb", """\
name: js
tasks:
- name: greet
  template:
    source: greeting.js
    destination: /srv/${where}/greeting
    owner: '1003'
    variables: {name: Anthony, host: '${inventory_hostname}'}
""", **{"templates__greeting.js": GREETING_JS})

    greet = leaf(directory, "greet")
    fqcn, args, extra = module_call(greet)

    assert greet.args.engine == "node"
    assert fqcn == "ansible.builtin.copy"
    # No `mode: preserve`: that would copy the mode of the rendered text's temporary file (0600).
    assert args == {"content": '{{ lookup("rb2ansible.runbook.node_template", rb2a_js_template, '
                               'template_vars=rb2a_js_variables) }}',
                    "dest": "/srv/{{ where }}/greeting", "owner": "1003"}
    # `name` is the template's own variable, not an Ansible one, so Ansible's reserved names do not matter.
    assert extra == {"vars": {"rb2a_js_template": "greeting.js",
                              "rb2a_js_variables": {"name": "Anthony", "host": "{{ inventory_hostname }}"}}}


@pytest.mark.parametrize(("file", "text", "engine", "expected"), [
    ("t.js", GREETING_JS, None, "node"),
    ("t.cjs", "exports.render = 1\nmodule.exports = (v) => ''\n", None, "node"),
    ("t.js", "const config = {name: '{{ who }}'}\n", None, "jinja2"),  # JavaScript text, no module: Jinja2
    ("t.j2", "module.exports = (v) => ''\n", None, "jinja2"),  # a .j2 file is Jinja2 whatever it holds
    ("t.js", GREETING_JS, "jinja2", "jinja2"),
    ("t.txt", "hello\n", "node", "node"),
])
def test_the_template_engine_comes_from_the_file_unless_given(tmp_path, file, text, engine, expected):
    given = f", engine: {engine}" if engine else ""
    directory = project(tmp_path / "rb", f"name: e\ntasks:\n- {{name: t, template: {{source: {file}, "
                                         f"destination: /tmp/x{given}}}}}\n", **{f"templates__{file}": text})
    assert leaf(directory, "t").args.engine == expected


def test_jinja2_template_variables_are_still_checked_as_ansible_names(tmp_path):
    directory = project(tmp_path / "rb", "name: j\ntasks:\n- {name: t, template: {source: t.j2, destination: /x, "
                                         "variables: {name: A}}}\n", **{"templates__t.j2": "{{ name }}"})
    assert problems(directory) == [f"{directory / 'run.yml'}:3:67: error: 'name' is a name Ansible reserves for "
                                   "itself; choose another variable name"]


def test_without_node_validation_names_the_template_and_the_package(tmp_path, monkeypatch):
    directory = project(tmp_path / "rb", "name: js\ntasks:\n- name: greet\n  template: {source: greeting.js, "
                                         "destination: /tmp/g}\n", **{"templates__greeting.js": GREETING_JS})
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    assert problems(directory) == [
        f"{directory / 'run.yml'}:4:22: error: 'greeting.js' is a JavaScript template (a CommonJS module, as "
        "AutomateJS's), rendered by Node on this machine, but `node` is not installed: install Node.js "
        "(Debian: apt-get install nodejs); or write it in Jinja2"]


def test_a_javascript_syntax_error_is_reported_at_its_line_in_the_template(tmp_path):
    assert shutil.which("node"), "the test lab installs nodejs (tools/install-test-system-deps.sh)"
    directory = project(tmp_path / "rb", "name: js\ntasks:\n- {name: t, template: {source: bad.js, "
                                         "destination: /tmp/b}}\n",
                        **{"templates__bad.js": "module.exports = (v) => `x`\nlet y = ;\n"})
    with pytest.raises(RunbookInvalid) as raised:
        load_runbook(directory)
    [diagnostic] = raised.value.diagnostics
    assert str(diagnostic) == f"{directory / 'templates' / 'bad.js'}:2:9: error: JavaScript template: " \
                              "SyntaxError: Unexpected token ';'"
    assert diagnostic.render().splitlines()[-2:] == ["2 | let y = ;", "  |         ^"]


def test_node_is_looked_up_on_the_path_of_the_moment(tmp_path, monkeypatch):
    """Not cached: a user who installs nodejs after the first `validate` is not told it is missing."""
    directory = project(tmp_path / "rb", "name: js\ntasks:\n- {name: t, template: {source: g.js, destination: /g}}\n",
                        **{"templates__g.js": GREETING_JS})
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    problems(directory)
    monkeypatch.setenv("PATH", os.path.dirname(shutil.which("node", path=os.defpath + ":/usr/local/bin")))
    assert leaf(directory, "t").args.engine == "node"


# -- JavaScript in `${}` ---------------------------------------------------------------------------

def test_javascript_that_parses_as_jinja_but_means_nothing_there_is_a_warning(tmp_path):
    runbook = load_runbook(project(tmp_path / "rb", """\
name: habits
tasks:
- {name: count, echo: "${servers.length} servers"}
- {name: dump, echo: "${JSON.stringify(config)}"}
- {name: home, shell: "ls ${process.env.HOME}"}
- {name: fine, echo: "${servers | length} ${config | to_json}"}
"""))
    assert [(w.location.line, w.message) for w in runbook.warnings] == [
        (3, "JavaScript in `${}`: `x.length` is `x | length` in Jinja"),
        (4, "JavaScript in `${}`: `JSON.stringify(x)` is `x | to_json` in Jinja"),
        (5, "JavaScript in `${}`: `process.env.NAME` is `lookup('env', 'NAME')` (this machine's environment) in Jinja"),
    ]


def test_an_es_module_template_is_refused_with_the_commonjs_form_not_copied(tmp_path):
    """AutomateJS require()d its templates: `export default` never rendered there, and must not be copied here."""
    assert shutil.which("node"), "the test lab installs nodejs (tools/install-test-system-deps.sh)"
    directory = project(tmp_path / "rb", "name: esm\ntasks:\n- {name: t, template: {source: t.mjs, destination: /t}}\n",
                        **{"templates__t.mjs": "// an ES module\nexport default (vars) => `hi ${vars.name}`\n"})
    with pytest.raises(RunbookInvalid) as raised:
        load_runbook(directory)
    assert [str(d) for d in raised.value.diagnostics] == [
        f"{directory / 'templates' / 't.mjs'}:2:1: error: JavaScript template: SyntaxError: Unexpected token "
        "'export'; AutomateJS templates are CommonJS modules: module.exports = (vars) => `...`"]


def test_ansible_inventory_forms_are_not_taken_for_automatejs_ones():
    assert not inventory.is_automatejs_form({"plugin": "ansible.builtin.constructed", "keyed_groups": [{"key": "x"}]})
    assert not inventory.is_automatejs_form({"all": {"hosts": {"a": None}}, "web": None})
    assert inventory.is_automatejs_form({"localhost": "localhost"})


def test_docs_automatejs_md_gives_the_messages_rb2ansible_gives():
    """The table of JavaScript in `${}` quotes each message exactly; a changed message must change the page."""
    from translator.javascript_hints import meaningless_javascript
    from translator.nodes import template_problem

    def unwrap(cell: str) -> str:
        cell = cell.strip().replace("\\|", "|")
        return cell[3:-3] if cell.startswith("`` ") else cell[1:-1]

    rows = [line for line in (ROOT / "docs" / "automatejs.md").read_text().splitlines()
            if line.startswith(("| `${", "| `` ${")) and ("error: " in line or "warning: " in line)]
    assert len(rows) == 15
    for row in rows:
        cells = re.split(r"(?<!\\)\|", row)[1:-1]
        expression = unwrap(cells[0].split(" (")[0])
        said = f"error: {template_problem(expression)}" if template_problem(expression) else \
            f"warning: {meaningless_javascript(expression)}"
        assert unwrap(cells[2]) == said, row


def test_an_export_names_inventory_key_files_as_given_and_says_where_to_put_them(tmp_path):
    runbook = project(tmp_path / "rb", "name: k\nhosts: web\ntasks:\n- {name: hi, echo: hi}\n",
                      **{"inventory.yml": "web:\n- {host: 192.0.2.1, keyfile: keys/id_web}\n"})
    write_project(compile_runbook(load_runbook(runbook)), tmp_path / "out", RunSettings())
    hosts = yaml.safe_load((tmp_path / "out" / "inventory" / "hosts.yml").read_text())
    key = hosts["all"]["children"]["web"]["hosts"]["192.0.2.1"]["ansible_ssh_private_key_file"]
    assert key == "{{ rb2ansible_key_dir | default(inventory_dir) }}/keys/id_web"
    readme = (tmp_path / "out" / "README.md").read_text()
    assert "The SSH key files `inventory.yml` names: `keys/id_web`" in readme
    assert "-e rb2ansible_key_dir=DIR" in readme
    written = "".join(path.read_text() for path in (tmp_path / "out").rglob("*") if path.is_file()
                      and "collections" not in path.parts)
    assert str(tmp_path) not in written
