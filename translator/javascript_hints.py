"""What an AutomateJS habit inside `${}` is in Jinja: AutomateJS evaluated `${}` as JavaScript, rb2ansible as Jinja.

Two kinds: JavaScript that Jinja cannot even parse (`a || b`), which is an error whose message ends
with the Jinja way to write it; and JavaScript that parses as Jinja but means nothing there
(`arr.length`, `JSON.stringify(x)`), which is a warning. docs/automatejs.md lists both.
"""

from __future__ import annotations

import re
from functools import lru_cache

from . import variables

# (what the JavaScript looks like, how Jinja says it) for expressions Jinja refuses.
SYNTAX = (
    (re.compile(r"\|\|"), "`a || b` is `a | default(b)` (or `a or b`) in Jinja"),
    (re.compile(r"&&"), "`a && b` is `a and b` in Jinja"),
    (re.compile(r"===|!=="), "`===` and `!==` are `==` and `!=` in Jinja"),
    (re.compile(r"\?[^?]*:"), "`c ? x : y` is `x if c else y` in Jinja"),
    (re.compile(r"!(?!=)"), "`!a` is `not a` in Jinja"),
    (re.compile(r"`"), "Jinja has no template literals: write the text around `${}`"),
)
# (the JavaScript, its Jinja) for expressions that parse as Jinja but mean nothing there.
MEANINGLESS = (
    (re.compile(r"\.length\b"), "`x.length` is `x | length` in Jinja"),
    (re.compile(r"\.join\("), "`list.join(s)` is `list | join(s)` in Jinja"),
    (re.compile(r"\.toUpperCase\(\)|\.toLowerCase\(\)"), "`s.toUpperCase()` is `s | upper` (and `| lower`) in Jinja"),
    (re.compile(r"\.includes\("), "`list.includes(x)` is `x in list` in Jinja"),
    (re.compile(r"\bJSON\.stringify\("), "`JSON.stringify(x)` is `x | to_json` in Jinja"),
    (re.compile(r"\bJSON\.parse\("), "`JSON.parse(s)` is `s | from_json` in Jinja"),
    (re.compile(r"\butil\.inspect\("), "`util.inspect(x)` is `x | to_json` (or `x | string`) in Jinja"),
    (re.compile(r"\bprocess\.env\."),
     "`process.env.NAME` is `lookup('env', 'NAME')` (this machine's environment) in Jinja"),
    (re.compile(r"\bMath\.(max|min)\("), "`Math.max(a, b)` is `[a, b] | max` (and `| min`) in Jinja"),
)


def syntax_hint(value: str) -> str:
    """For a `${}` Jinja could not parse: how Jinja says what looks like JavaScript in it, or ""."""
    return _first(SYNTAX, _expressions(value))


def meaningless_javascript(value: str) -> str:
    """For a `${}` that parses: the JavaScript in it Jinja would not understand at run time, or ""."""
    for expression in _expressions(value):
        hint = _meaningless(expression)
        if hint:
            return hint
    return ""


@lru_cache(maxsize=1 << 12)
def _meaningless(expression: str) -> str:
    """Per expression, which texts repeat (`${workdir}` in every task) where whole values often do not."""
    return _first(MEANINGLESS, [expression])


def _expressions(value: str) -> list[str]:
    if "${" not in value:
        return []
    try:
        return [piece.text for piece in variables.split(value) if piece.is_expression]
    except variables.ExpressionError:
        # The failing expression has no piece: look at what follows each `${` instead.
        return [part.split("}", 1)[0] for part in value.split("${")[1:]]


def _first(table, expressions: list[str]) -> str:
    for expression in expressions:
        for pattern, jinja in table:
            if pattern.search(expression):
                return f"JavaScript in `${{}}`: {jinja}"
    return ""
