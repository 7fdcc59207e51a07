"""The helper collection's plugin documentation is YAML that ansible-doc and ansible-lint can read."""

from __future__ import annotations

import ast

import pytest
import yaml

from tests.conftest import ROOT

PLUGINS = sorted((ROOT / "ansible_modules" / "plugins").glob("*/*.py"))
DOC_BLOCKS = ("DOCUMENTATION", "EXAMPLES", "RETURN")


def documentation(path) -> dict[str, str]:
    found = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") in DOC_BLOCKS:
            found[node.targets[0].id] = node.value.value
    return found


@pytest.mark.parametrize("path", PLUGINS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_plugin_documentation_is_yaml(path):
    for name, text in documentation(path).items():
        parsed = yaml.safe_load(text)
        assert parsed is None or isinstance(parsed, (dict, list)), (name, type(parsed))
        if name == "DOCUMENTATION":
            assert parsed["short_description"] and parsed["description"], path


def test_actions_that_rb2ansible_emits_are_documented():
    documented = {path.stem for path in PLUGINS if "DOCUMENTATION" in documentation(path)}
    assert {"shell", "shell_steps", "parallel", "stop_run"} <= documented


def test_warm_templating_templates_its_expression_with_the_installed_ansible_core():
    """The callback swallows errors (it is only a head start), so a change of Ansible's templating API would
    silently cost every worker again: this is where it shows."""
    import importlib.util

    from ansible.parsing.dataloader import DataLoader

    path = ROOT / "ansible_modules" / "plugins" / "callback" / "warm_templating.py"
    spec = importlib.util.spec_from_file_location("warm_templating", path)
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    assert plugin.warm_up(DataLoader()) is True
