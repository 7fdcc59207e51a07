"""`${...}` splitting: where an expression ends, and text Ansible would fail to template is caught at validation."""

from __future__ import annotations

import pytest

from translator import variables
from translator.build import load_runbook
from translator.errors import RunbookInvalid
from translator.nodes import template_problem


@pytest.mark.parametrize(("value", "jinja"), [
    ('${ x ~ "\\\\" }', '{{ x ~ "\\\\" }}'),  # an escaped backslash ends the string: the quote after it closes it
    ("${ 'it\\'s' }", "{{ 'it\\'s' }}"),  # an escaped quote does not
    ("${ x | default('}') } and ${y}", "{{ x | default('}') }} and {{ y }}"),
    ("${ {'a': {'b': 1}} }", "{{ {'a': {'b': 1}} }}"),
    ("$${literal} ${x}", "${literal} {{ x }}"),
    ("{{ x }} beside ${y}", "{{ x }} beside {{ y }}"),
    ("{% for i in x %}{% break %}{% endfor %}", "{% for i in x %}{% break %}{% endfor %}"),
])
def test_expressions_end_where_jinja_says_they_do(value, jinja):
    assert variables.to_jinja(value) == jinja


@pytest.mark.parametrize(("value", "message"), [
    ("echo ${#array[@]}", "bad expression in '${#array[@]}'"),
    ("${ 'a }", "unterminated '${'"),
    ("${}", "empty '${}'"),
])
def test_text_ansible_could_not_template_is_an_error(value, message):
    with pytest.raises(variables.ExpressionError) as error:
        variables.split(value)
    assert str(error.value).startswith(message)


@pytest.mark.parametrize(("value", "message"), [
    ("{{ env == 'prod' }", "Ansible cannot template \"{{ env == 'prod' }\": unexpected '}'"),
    ("${x} }}{{ y }", "Ansible cannot template"),
    ("{% if %}", "Ansible cannot template"),
    ("echo $${#array[@]}", "Ansible cannot template 'echo $${#array[@]}': Missing end of "),
])
def test_jinja_of_the_authors_own_that_does_not_parse_is_an_error(value, message):
    """Ansible templates every string, so `{{`, `{%` or `{#` in plain text must parse as Jinja too."""
    assert template_problem(value).startswith(message)


def test_a_condition_ansible_could_not_template_is_reported_before_anything_runs(tmp_path):
    """Issue 10: this `when` validated, and failed on the host after the tasks before it had run."""
    runbook = tmp_path / "run.yml"
    runbook.write_text("name: w\ntasks:\n- {name: first, echo: hi}\n- name: second\n  echo: hi\n"
                       "  when: \"{{ env == 'prod' }\"\n")
    with pytest.raises(RunbookInvalid) as invalid:
        load_runbook(runbook)
    assert [str(d) for d in invalid.value.diagnostics] == [
        f"{runbook}:6:9: error: Ansible cannot template \"{{{{ env == 'prod' }}\": unexpected '}}'"]
