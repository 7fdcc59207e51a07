"""Reads the YAML nodes of one file into typed values, reporting every problem at its node."""

from __future__ import annotations

import difflib
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import jinja2
import yaml

from . import javascript_hints, variables
from .ansible_memo import remembered
from .errors import Diagnostics, Location
from .loader import RESOLVER, STR_TAG, location_of, scalar_value
from .model import VaultText

# Syntax as Ansible's templating reads it; the statement extensions a user may enable in
# ansible.cfg (DEFAULT_JINJA2_EXTENSIONS) are accepted, so no valid template is refused.
_jinja = jinja2.Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])
_MODE_FORMS = "'{what}' must be a quoted octal mode such as '0644' or a symbolic one such as 'u=rw,g=r'"


@cache
def reserved_names() -> frozenset[str]:
    """Names Ansible keeps for its own keywords: a variable by one of them is shadowed or breaks a play."""
    def ask() -> list[str]:
        from ansible.vars.reserved import get_reserved_names

        return sorted(get_reserved_names())

    return frozenset(remembered("reserved names", ask))


class NodeReader:
    def __init__(self, source: Path, diagnostics: Diagnostics):
        self.source = source
        self.diagnostics = diagnostics

    def at(self, node: yaml.Node) -> Location:
        return location_of(node, self.source)

    def error(self, node: yaml.Node, message: str) -> None:
        """A diagnostic at the node, with the line it sits on and how much of it to underline."""
        self.diagnostics.error(self.at(node), message, **_underline(node))

    def warning(self, node: yaml.Node, message: str) -> None:
        self.diagnostics.warning(self.at(node), message, **_underline(node))

    # -- structure -----------------------------------------------------------------------------

    def mapping(self, node: yaml.MappingNode, allowed: set[str], what: str) -> dict[str, yaml.Node]:
        fields = {}
        for key, (key_node, value_node) in self.key_nodes(node).items():
            if key not in allowed:
                self.error(key_node, f"unknown {what} key '{key}'{hint(key, allowed)}")
            else:
                fields[key] = value_node
        return fields

    def key_nodes(self, node: yaml.MappingNode) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        keys: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = self.plain(key_node)
            if not isinstance(key, str):
                self.error(key_node, "keys must be strings" + _quoting_hint(key_node))
            elif key in keys:
                self.error(key_node, f"duplicate key '{key}'")
            else:
                keys[key] = (key_node, value_node)
        return keys

    # -- values --------------------------------------------------------------------------------

    def plain(self, node: yaml.Node) -> Any:
        """A node as plain data; `!vault` stays encrypted; every `${` and Jinja text is checked on the way."""
        if node.tag == STR_TAG:  # a text (the loader allows the tag on texts only): most nodes, so tried first
            value = scalar_value(node)
            if "{" in value:  # else no `${` and no Jinja of the author's own: nothing to check
                self.check_template(node, value)
            return value
        if node.tag == "!vault":
            return VaultText(str(node.value))
        if isinstance(node, yaml.MappingNode):
            return {key: self.plain(value) for key, (_, value) in self.key_nodes(node).items()}
        if isinstance(node, yaml.SequenceNode):
            return [self.plain(item) for item in node.value]
        if node.tag.startswith("!"):
            self.error(node, f"unsupported YAML tag '{node.tag}' (only !vault is understood)")
            return node.value
        value = scalar_value(node)
        if isinstance(value, str):
            self.check_template(node, value)
        return value

    def check_template(self, node: yaml.Node, value: str) -> bool:
        """Whether Ansible can template the value; if not, the reason is reported at the node. An AutomateJS
        habit Jinja parses but reads otherwise (`${list.length}`) is a warning."""
        if "{" not in value:  # neither `${` nor Jinja of the author's own: nothing to check (most texts)
            return True
        problem = template_problem(value)
        if problem:
            self.error(node, problem)
        elif "${" in value:
            habit = javascript_hints.meaningless_javascript(value)
            if habit:
                self.warning(node, habit)
        return not problem

    def condition(self, node: yaml.Node, what: str) -> Any:
        """`when`/`until`: a condition, or a list of them, each parsed as the expression Ansible evaluates."""
        value = self.plain(node)
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(item, (str, bool)) for item in items):
            self.error(node, f"'{what}' must be a condition such as \"${{x}} == 'y'\"")
            return None
        for item in items:
            problem = condition_problem(item) if isinstance(item, str) and not template_problem(item) else ""
            if problem:
                self.error(node, f"'{what}' is not an expression Ansible can evaluate: {problem}")
        return value

    def variables(self, node: yaml.Node | None, what: str) -> dict[str, Any]:
        """A mapping of variable names to values; each name is one Ansible can keep as it is."""
        if node is None:
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.plain(node)
            self.error(node, f"'{what}' must be a mapping of variable names to values")
            return {}
        values = {}
        for name, (key_node, value_node) in self.key_nodes(node).items():
            problem = variable_name_problem(name)
            if problem:
                self.error(key_node, problem)
            values[name] = self.plain(value_node)
        return values

    def string(self, node: yaml.Node | None, what: str, required_in: yaml.Node | None = None) -> str | None:
        if node is None:
            if required_in is not None:
                self.error(required_in, f"missing '{what}'")
            return None
        value = self.plain(node)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            self.error(node, f"'{what}' must be a non-empty string")
            return None
        return value

    def text(self, node: yaml.Node, what: str) -> str | None:
        """A string argument; a number is taken as its text (owner: 1003), a list or mapping is an error."""
        value = self.plain(node)
        if isinstance(value, (str, VaultText)):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        self.error(node, f"'{what}' must be a string, not {_kind(value)}")
        return None

    def mode(self, node: yaml.Node, what: str = "mode") -> str | None:
        """A file mode: a quoted octal string or a symbolic mode. Unquoted, YAML reads 0644 as octal,
        as meant, but 644 as the decimal number 644 (mode 01204): that is refused with the fix."""
        value = self.plain(node)
        if isinstance(value, int) and not isinstance(value, bool) and node.value.startswith("0") and value < 0o10000:
            return f"0{value:o}"  # YAML 1.1 read the leading zero as octal, as the author meant
        if isinstance(value, int) and not isinstance(value, bool):
            digits = node.value.lstrip("0") or "0"
            if set(digits) <= set("01234567") and len(digits) <= 4:
                self.error(node, f"'{what}: {node.value}' is read by YAML as the number {value}; "
                                 f"quote the octal mode: '0{digits.zfill(3)}'")
            else:
                self.error(node, _MODE_FORMS.format(what=what))
            return None
        if not isinstance(value, str) or not value:
            self.error(node, _MODE_FORMS.format(what=what))
            return None
        return value

    def boolean(self, node: yaml.Node | None, what: str) -> bool | None:
        if node is None:
            return None
        value = self.plain(node)
        if not isinstance(value, bool):
            self.error(node, f"'{what}' must be true or false")
            return None
        return value

    def whole_number(self, node: yaml.Node, what: str, unit: str) -> int | None:
        value = self.plain(node)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.error(node, f"'{what}' must be a whole number of {unit}")
            return None
        return value

    def choice(self, node: yaml.Node | None, allowed: tuple[str, ...], default: str, what: str) -> str:
        if node is None:
            return default
        value = self.plain(node)
        if value not in allowed:
            self.error(node, f"'{what}' must be one of: {', '.join(allowed)}")
            return default
        return value


@lru_cache(maxsize=4096)
def template_problem(value: str) -> str:
    """Why Ansible could not template a runbook string (its `${}` made Jinja), or "" when it can."""
    try:
        text = variables.to_jinja(value)  # parses each `${...}` on the way
    except variables.ExpressionError as exc:
        hint = javascript_hints.syntax_hint(value)
        return f"{exc}; {hint}" if hint else str(exc)
    # Jinja of the author's own, braces meeting an expression, or `$${#` that leaves a literal `{#`
    if "{" in value.replace("${", "") or "$${" in value:
        try:
            _jinja.parse(text)
        except jinja2.TemplateSyntaxError as exc:
            return f"Ansible cannot template {value!r}: {_reason(exc)}"
    return ""


@lru_cache(maxsize=4096)
def condition_problem(value: str) -> str:
    """Why a `when`/`until` string is not an expression Ansible can evaluate, or "" when it is."""
    expression = variables.to_condition(value)
    if any(mark in expression for mark in ("{{", "{%", "{#")):
        return ""  # a template, checked as one
    try:
        _jinja.parse("{{ " + expression + " }}")
    except jinja2.TemplateSyntaxError as exc:
        return _reason(exc)
    return ""


def variable_name_problem(name: str) -> str:
    """Why Ansible could not keep a variable of this name as it is, or "" when it can."""
    if not name.isidentifier():
        return f"'{name}' is not a valid variable name"
    if _yaml_word(name) is not None:
        # yes/no/on/off/true/false/null as PyYAML (and so Ansible) reads YAML 1.1: unquoted in the
        # next file that holds the name, it would turn into a boolean or null.
        return f"'{name}' cannot be a variable name: YAML reads it unquoted as {_yaml_word(name)}"
    if name in reserved_names():
        return f"'{name}' is a name Ansible reserves for itself; choose another variable name"
    return ""


@lru_cache(maxsize=1024)
def _yaml_word(word: str) -> str | None:
    """What a bare word becomes in YAML when it is not a string ("false", "null"), else None."""
    if word.isidentifier() and RESOLVER.resolve(yaml.ScalarNode, word, (True, False)) == STR_TAG:
        # Most words (every `register` name is one): YAML's implicit tags say a string without loading a
        # document (a tenth of a millisecond each, for names that are all different).
        return None
    try:
        value = yaml.safe_load(word)
    except yaml.YAMLError:
        return None
    if isinstance(value, str):
        return None
    return "null" if value is None else str(value).lower()


def hint(word: str, choices) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _reason(exc: jinja2.TemplateSyntaxError) -> str:
    return (exc.message or "").replace("end of print statement", "end of the expression")


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, bool):
        return "true/false"
    return "empty" if value is None else type(value).__name__


def _quoting_hint(key_node: yaml.Node) -> str:
    word = key_node.value if isinstance(key_node, yaml.ScalarNode) and key_node.value.isidentifier() else None
    shown = _yaml_word(word) if word else None
    return f" ('{word}' unquoted is read as {shown}: quote it)" if shown in ("true", "false", "null") else ""


def _underline(node: yaml.Node) -> dict[str, Any]:
    """The line a node starts on, and how much of it the node spans."""
    start, end = node.start_mark, node.end_mark
    line = _source_line(start)
    width = end.column - start.column if end.line == start.line else len(line) - start.column
    return {"source_line": line, "width": max(1, width)}


def _source_line(mark: yaml.Mark) -> str:
    """The text of the line a mark points into (PyYAML keeps the whole document in the mark)."""
    buffer = getattr(mark, "buffer", None)
    if not isinstance(buffer, str):
        return ""
    start = buffer.rfind("\n", 0, mark.index) + 1
    end = buffer.find("\n", mark.index)
    return buffer[start:end if end >= 0 else len(buffer)].rstrip("\0\r")
