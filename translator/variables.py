"""The runbook's `${expr}` syntax: checked at validation, turned into Jinja at emission.

Every function here depends on its text alone, and runbooks repeat their texts (`${workdir}` in
every task): each distinct text is cut up and each distinct expression parsed by Jinja once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import jinja2

# The extensions Ansible's templar enables, so `{% break %}` and `{% do %}` parse here as they do there.
_jinja = jinja2.Environment(extensions=["jinja2.ext.loopcontrols", "jinja2.ext.do"])
_JINJA_OPENERS = ("{{", "{%", "{#")
_CACHED = 1 << 16  # distinct texts remembered; far more than a runbook of 30,000 tasks repeats


@dataclass(frozen=True)
class Piece:
    """A run of literal text, or one `${...}` expression (its text without the delimiters)."""

    text: str
    is_expression: bool


class ExpressionError(ValueError):
    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


def split(value: str) -> tuple[Piece, ...]:
    """Cut a string into literal text and `${...}` expressions; `$${` is a literal `${`."""
    if "${" not in value:  # no expression and no `$${`: the text is one literal (most texts are)
        return (Piece(value, False),) if value else ()
    return _split(value)


@lru_cache(maxsize=_CACHED)
def _split(value: str) -> tuple[Piece, ...]:
    pieces: list[Piece] = []
    literal: list[str] = []
    i = 0
    while i < len(value):
        if value.startswith("$${", i):
            literal.append("${")
            i += 3
        elif value.startswith("${", i):
            end = _closing_brace(value, i + 2)
            if end < 0:
                raise ExpressionError("unterminated '${': add the closing '}' (or write '$${' for a literal '${')", i)
            expression = value[i + 2 : end].strip()
            if not expression:
                raise ExpressionError("empty '${}'", i)
            problem = _syntax_problem(expression)
            if problem:
                raise ExpressionError(f"bad expression in '${{{expression}}}': {problem}", i)
            if literal:
                pieces.append(Piece("".join(literal), False))
                literal = []
            pieces.append(Piece(expression, True))
            i = end + 1
        else:
            literal.append(value[i])
            i += 1
    if literal:
        pieces.append(Piece("".join(literal), False))
    return tuple(pieces)


@lru_cache(maxsize=_CACHED)
def _syntax_problem(expression: str) -> str:
    """Why Jinja cannot parse the expression, or "". Syntax only: Ansible brings filters and tests
    (is changed, to_json...) that Jinja lacks."""
    try:
        _jinja.parse("{{ " + expression + " }}")
    except jinja2.TemplateSyntaxError as exc:
        return (exc.message or "").replace("end of print statement", "end of the expression")
    return ""


def _render(pieces: tuple[Piece, ...]) -> str:
    return "".join("{{ " + p.text + " }}" if p.is_expression else p.text for p in pieces)


def to_jinja(value: str) -> str:
    """A runbook string as an Ansible value: `${x}` becomes `{{ x }}`, templated at run time per host."""
    return _to_jinja(value) if "${" in value else value


@lru_cache(maxsize=_CACHED)
def _to_jinja(value: str) -> str:
    return _render(split(value))


def to_condition(value) -> str | bool:
    """A `when`/`until` value as the bare expression Ansible wants (no `{{ }}` in conditionals)."""
    if not isinstance(value, str) or "${" not in value:
        return value
    return _condition(value)


@lru_cache(maxsize=_CACHED)
def _condition(value: str) -> str:
    pieces = split(value)
    if len(pieces) == 1 and pieces[0].is_expression:
        return pieces[0].text
    return "".join(f"({p.text})" if p.is_expression else p.text for p in pieces)


def references(value: str) -> list[str]:
    """The expressions a string uses, for checks and for `plan`."""
    return [p.text for p in split(value) if p.is_expression]


def _closing_brace(value: str, start: int) -> int:
    """Index of the `}` closing an expression, skipping braces nested or inside quotes."""
    depth = 0
    quote = ""
    escaped = False
    for i in range(start, len(value)):
        char = value[i]
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":  # inside a Jinja string, a backslash escapes the next character
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return i
            depth -= 1
    return -1
