"""`export --role`: metadata only from what the runbook's author or the command line said, argument specs
from `vars_doc:`, and the collections the role needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from click.testing import CliRunner

from translator.build import load_runbook
from translator.cli import cli
from translator.emit import compile_runbook
from translator.model import GalaxyMeta
from translator.project import write_roles
from translator.role_files import collection_source

RUNBOOK = """name: web
description: Serve the site
vars:
  listen_port: 8080
vars_doc:
  listen_port: {description: Port nginx listens on, type: int}
  site_password: {description: Password of the site's admin, required: true}
tasks:
- name: hello
  echo: ${site_password | length}
"""
FROM_A_COLLECTION = """- name: module from a collection
  acme.tools.hello: {greeting: hi}
"""
MODULE = '''DOCUMENTATION = """
module: hello
short_description: says hello
options:
  greeting: {type: str, description: what to say}
"""
from ansible.module_utils.basic import AnsibleModule
AnsibleModule(argument_spec={"greeting": {"type": "str"}}).exit_json(changed=False)
'''


def export_role(tmp_path: Path, text: str = RUNBOOK, given: GalaxyMeta | None = None) -> Path:
    (tmp_path / "rb").mkdir()
    (tmp_path / "rb" / "run.yml").write_text(text)
    return write_roles(compile_runbook(load_runbook(tmp_path / "rb")), tmp_path / "out", given)


def test_nothing_unstated_is_claimed(tmp_path):
    role = export_role(tmp_path)
    info = yaml.safe_load((role / "meta" / "main.yml").read_text())["galaxy_info"]
    assert info["author"] == info["license"] == "NOASSERTION"  # SPDX: not stated
    assert "platforms" not in info and "namespace" not in info
    runtime = yaml.safe_load((collection_source() / "meta" / "runtime.yml").read_text())["requires_ansible"]
    assert runtime.startswith(f">={info['min_ansible_version']}")
    readme = (role / "README.md").read_text()
    assert "Before publishing on Galaxy, state its author, license, namespace, platforms" in readme


def test_runbook_keys_and_options_fill_the_metadata_options_first(tmp_path):
    text = RUNBOOK.replace("tasks:", "galaxy:\n  author: Runbook Author\n  license: Apache-2.0\n"
                                     "  platforms: [Debian]\ntasks:")
    role = export_role(tmp_path, text, GalaxyMeta(author="Option Author", namespace="acme"))
    info = yaml.safe_load((role / "meta" / "main.yml").read_text())["galaxy_info"]
    assert (info["author"], info["license"], info["namespace"]) == ("Option Author", "Apache-2.0", "acme")
    assert info["platforms"] == [{"name": "Debian", "versions": ["all"]}]


def test_argument_specs_mark_required_variables_and_use_vars_doc(tmp_path):
    role = export_role(tmp_path)
    options = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    assert options["listen_port"] == {"description": ["Port nginx listens on"], "type": "int", "default": 8080}
    assert options["site_password"] == {"description": ["Password of the site's admin"], "type": "str",
                                        "required": True, "no_log": True}  # its name looks secret
    readme = (role / "README.md").read_text()
    assert "| `site_password` | yes |  | Password of the site's admin |" in readme
    assert "            site_password: ..." in readme  # the example play gives what is required


def test_every_collection_the_tasks_use_is_declared_with_its_installed_version(tmp_path):
    """A collection installed where rb2ansible runs (here one made for the test, found through
    ANSIBLE_COLLECTIONS_PATH in a command of its own, as a user's would be)."""
    collection = tmp_path / "collections" / "ansible_collections" / "acme" / "tools"
    (collection / "plugins" / "modules").mkdir(parents=True)
    (collection / "plugins" / "modules" / "hello.py").write_text(MODULE)
    (collection / "MANIFEST.json").write_text(json.dumps({"collection_info": {"namespace": "acme", "name": "tools",
                                                                              "version": "1.2.3"}}))
    (tmp_path / "rb").mkdir()
    (tmp_path / "rb" / "run.yml").write_text(RUNBOOK + FROM_A_COLLECTION)
    done = subprocess.run([str(Path(sys.executable).parent / "rb2ansible"), "export", "--role", str(tmp_path / "rb"),
                           "-o", str(tmp_path / "out")], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "collections")})
    assert done.returncode == 0, done.stderr
    meta = yaml.safe_load((tmp_path / "out" / "web" / "meta" / "main.yml").read_text())
    assert meta["collections"] == ["rb2ansible.runbook", "acme.tools"]
    requirements = yaml.safe_load((tmp_path / "out" / "collections" / "requirements.yml").read_text())
    assert requirements["collections"] == [
        {"name": "collections/ansible_collections/rb2ansible/runbook", "type": "dir"},
        {"name": "acme.tools", "version": "1.2.3"}]


def test_role_options_without_role_are_a_usage_error(tmp_path):
    (tmp_path / "run.yml").write_text("name: x\ntasks:\n- {name: a, echo: b}\n")
    done = CliRunner().invoke(cli, ["export", str(tmp_path), "-o", str(tmp_path / "out"), "--author", "me"])
    assert done.exit_code == 2
    assert "describe a role: add --role" in done.output
    assert not (tmp_path / "out").exists()
