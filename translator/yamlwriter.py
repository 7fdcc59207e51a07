"""Writes the YAML of an export straight from its data, byte for byte as yamlout's PyYAML dumper would.

PyYAML's dumper builds a node per value, an event per node and runs them through its emitter's
state machine: at 30,000 tasks that was over half of compiling. The shapes an export holds are few
(mappings with string keys, lists, strings, integers, booleans, null, the comments of a `Commented`
mapping), so this writer walks them directly, taking the same steps the state machine takes for
them, and leaves the writing of each scalar to PyYAML's own emitter methods: the style of a text
(plain, quoted, literal) and the way it folds come from PyYAML, computed once per distinct text.
Anything else (a float, a `!vault` value, a long or multi-line key, a non-string key) raises
`Unsupported`, and the caller dumps that document with PyYAML (tests/unit/test_yamlwriter.py
checks both give the same bytes).
"""

from __future__ import annotations

import re
from typing import Any

from yaml.emitter import Emitter
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

WIDTH = 120  # yamlout.dump's width
_STR = "tag:yaml.org,2002:str"
_FIXED = {True: "true", False: "false", None: "null"}  # SafeRepresenter's words
_RESOLVER = Resolver()  # which plain texts YAML would read as something else than a string
# Texts with no indicator, line break, special character or space at either end (Emitter.analyze_scalar): a
# first character that cannot start an indicator, then none of `:#,?[]` and no quotes, controls or non-ASCII.
_SIMPLE = re.compile(r"[A-Za-z0-9_/$(][A-Za-z0-9_/.$(){}=+ -]*(?<! )\Z")
# Texts that open with a Jinja expression (`{{ workdir }}/a.txt`), printable ASCII on one line: the `{` is a flow
# indicator, so PyYAML's analysis allows no plain style and, without line breaks or special characters, single
# quotes (Emitter.analyze_scalar), whatever follows.
_OPENS_WITH_BRACE = re.compile(r"\{[ -~]*\Z")


class Unsupported(Exception):
    """A value this writer leaves to PyYAML."""


class Commented(dict):
    """A mapping that carries comments as data: `above` goes on its own line before the mapping when it is a
    list item (where a task comes from), `after` at the end of the line of some of its keys (lint marks)."""

    def __init__(self, items: Any = (), above: str | None = None, after: dict[str, str] | None = None,
                 origin: Any = None):
        super().__init__(items)
        self.above = above
        self.after = dict(after or {})
        self.origin = origin  # what the mapping was written from: a list item's origin is told its line


class _Text:
    """How PyYAML writes one text, whatever its place: the style for a value and for a key (None: a key
    PyYAML writes in the complex `? ` form, left to PyYAML), and the text as single-quoted on one line
    ("" when it is not written so)."""

    __slots__ = ("key_style", "quoted", "value_style")

    def __init__(self, value_style: str, key_style: str | None, quoted: str):
        self.value_style, self.key_style, self.quoted = value_style, key_style, quoted


class _Chunks:
    """The emitter's stream: pieces joined once at the end."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.write = self.pieces.append


class Writer(Emitter):
    """PyYAML's emitter, driven from the data instead of from events (block style, indent 2, lists
    indented under their key, unicode as is), with yamlout's comments. `lines` collects, for each list
    item that is a `Commented` with an origin, that origin and the line its mapping starts on (from 0)."""

    def __init__(self, texts: dict[str, _Text] | None = None) -> None:
        self.chunks = _Chunks()
        super().__init__(self.chunks, width=WIDTH, allow_unicode=True)
        self.texts = {} if texts is None else texts  # may be shared by the writers of one file
        self.end_of_line: str | None = None
        self.lines: list[tuple[Any, int]] = []

    # -- the document --------------------------------------------------------------------------

    def document(self, data: Any, stream_end: bool = True) -> str:
        """The text `yaml.dump(data, Dumper=yamlout._Dumper, ...)` gives for a root list or mapping; without
        `stream_end`, as the first part of a longer list (no end marker)."""
        if type(data) is list and data:
            self.sequence(data)
        elif type(data) in (dict, Commented) and data:
            self.mapping(data)
        else:
            raise Unsupported("a root that is empty or a scalar")
        self.write_indent()  # the document's end
        if self.open_ended and stream_end:  # a literal kept its last line breaks (`|+`): an end marks its end
            self.write_indicator("...", True)
            self.write_indent()
        return "".join(self.chunks.pieces)

    # -- collections: the steps of Emitter.expect_block_sequence / expect_block_mapping ----------

    def node(self, value: Any, comment: str | None = None) -> None:
        if comment:
            self.end_of_line = comment  # written at the next line break (yamlout._Dumper.expect_node)
        kind = type(value)
        if kind is str:
            self.string(value)
        elif kind is bool or value is None:
            self.plain(_FIXED[value])
        elif kind is int:
            self.plain(str(value))
        elif kind is list:
            if value:
                self.sequence(value)
            else:
                self.empty("[", "]")
        elif kind is dict or kind is Commented:
            if value:
                self.mapping(value)
            else:
                self.empty("{", "}")
        else:
            raise Unsupported(f"a value of type {kind.__name__}")

    def sequence(self, items: list) -> None:
        self.increase_indent(flow=False)
        for item in items:
            above = getattr(item, "above", None)
            if above:
                self.write_indent()
                self.write_comment(f"# {above}")
            self.write_indent()
            self.write_indicator("-", True, indention=True)
            origin = getattr(item, "origin", None)
            if origin is not None:
                self.lines.append((origin, self.line))
            self.node(item)
        self.indent = self.indents.pop()

    def mapping(self, mapping: dict) -> None:
        self.increase_indent(flow=False)
        comments = getattr(mapping, "after", None) or {}
        for key, value in mapping.items():
            self.write_indent()
            if type(key) is not str:
                raise Unsupported("a key that is not a string")
            text = self.text(key)
            if text.key_style is None:
                raise Unsupported("a key PyYAML writes in the complex form")
            self.scalar(key, text.key_style, text, split=False)
            # write_indicator(":", False), the step after every key, written in place
            self.chunks.write(":")
            self.column += 1
            self.whitespace = self.indention = self.open_ended = False
            self.node(value, comments.get(key))
        self.indent = self.indents.pop()

    def empty(self, opening: str, closing: str) -> None:
        self.write_indicator(opening, True, whitespace=True)
        self.write_indicator(closing, False)

    # -- scalars: Emitter.expect_scalar, with PyYAML's writers and its choice of style ----------

    def string(self, value: str) -> None:
        text = self.text(value)
        self.scalar(value, text.value_style, text, split=True)

    def plain(self, word: str) -> None:
        """true, false, null or a number: plain words without spaces, as PyYAML writes them."""
        if not self.whitespace:
            self.write_piece(" ")
        self.write_piece(word)
        self.whitespace = self.indention = False

    def scalar(self, value: str, style: str, text: _Text, split: bool) -> None:
        # A comment after the value keeps it on one line: a comment inside a folded scalar would end it.
        width = WIDTH if self.end_of_line is None else 1 << 30
        # The common cases written in one piece: PyYAML's loops would write the same text when nothing in
        # it reaches the line's width (they fold only past it), and its indent only matters to a fold.
        room = width - self.column - (0 if self.whitespace else 1)
        if style == "" and (len(value) <= room or " " not in value):
            self.chunks.write(value if self.whitespace else " " + value)  # self.plain(value), in place
            self.column += len(value) + (0 if self.whitespace else 1)
            self.whitespace = self.indention = False
        elif style == "'" and text.quoted and len(text.quoted) <= room:
            self.write_indicator(text.quoted, True)
        else:
            self.best_width = width
            self.increase_indent(flow=True)
            try:
                if style == "":
                    self.write_plain(value, split)
                elif style == "'":
                    self.write_single_quoted(value, split)
                elif style == '"':
                    self.write_double_quoted(value, split)
                else:
                    self.write_literal(value)
            finally:
                self.indent = self.indents.pop()
                self.best_width = WIDTH

    def text(self, value: str) -> _Text:
        """How PyYAML's emitter writes a text (Emitter.choose_scalar_style for the block context), once."""
        known = self.texts.get(value)
        if known is None:
            known = self.texts[value] = _simple_text(value) or self.analyzed_text(value)
        return known

    def analyzed_text(self, value: str) -> _Text:
        analysis = self.analyze_scalar(value)
        plain = _RESOLVER.resolve(ScalarNode, value, (True, False)) == _STR
        hint = "|" if "\n" in value else None  # yamlout's representer of str
        # A key is simple (not `? key`) when its text and its tag (`!!str`, counted though not written)
        # are under 128 characters long, on one line (Emitter.check_simple_key).
        simple = len(value) + len("!!str") < 128 and not analysis.multiline and not analysis.empty
        style = _style(analysis, plain, hint, key=False)
        # Quoted in one piece only without line breaks, which single quotes write as folds.
        return _Text(style, _style(analysis, plain, hint, key=True) if simple else None,
                     "'" + value.replace("'", "''") + "'" if style == "'" and not analysis.multiline else "")

    # -- writing -------------------------------------------------------------------------------

    def write_piece(self, data: str) -> None:
        self.column += len(data)
        self.chunks.write(data)

    def write_comment(self, text: str) -> None:
        # A comment ends at the line's end: a line break or control character in a task name must not end it.
        if not text.isprintable():
            text = "".join(char if char.isprintable() else " " for char in text)
        self.write_piece(text)
        self.whitespace = self.indention = False

    def write_line_break(self, data: str | None = None) -> None:
        if self.end_of_line is not None:
            text, self.end_of_line = self.end_of_line, None
            self.write_comment(f"  # {text}")
        super().write_line_break(data)

    def write_indent(self) -> None:
        """Emitter.write_indent, the step before every key and list item, with its line break and the spaces
        after it written as one piece."""
        indent = self.indent or 0
        if not self.indention or self.column > indent or (self.column == indent and not self.whitespace):
            if self.end_of_line is not None:  # as write_line_break
                text, self.end_of_line = self.end_of_line, None
                self.write_comment(f"  # {text}")
            self.chunks.write("\n" + " " * indent)
            self.line += 1
            self.column = indent
            self.whitespace = self.indention = True
        elif self.column < indent:
            self.chunks.write(" " * (indent - self.column))
            self.column = indent
            self.whitespace = True


def _simple_text(value: str) -> _Text | None:
    """The styles of a text of a usual kind, as PyYAML's analysis finds them without its loop over the characters:
    one that opens with a Jinja expression (single quotes), or a name, a path or a command without YAML's
    indicators, which allows every style (plain unless YAML would read it as something else)."""
    if _OPENS_WITH_BRACE.match(value):
        quoted = "'" + value.replace("'", "''") + "'"
        return _Text("'", "'" if len(value) + len("!!str") < 128 else None, quoted)
    if not _SIMPLE.match(value):
        return None
    if _RESOLVER.resolve(ScalarNode, value, (True, False)) == _STR:
        style, quoted = "", ""
    else:
        style, quoted = "'", f"'{value}'"  # no quote in such a text to double
    return _Text(style, style if len(value) + len("!!str") < 128 else None, quoted)


def _style(analysis, plain: bool, hint: str | None, key: bool) -> str:
    """Emitter.choose_scalar_style outside flow collections, for a str scalar (never canonical)."""
    if not hint and plain and not (key and (analysis.empty or analysis.multiline)) and analysis.allow_block_plain:
        return ""
    if hint == "|" and not key and analysis.allow_block:
        return "|"
    if not hint and analysis.allow_single_quoted and not (key and analysis.multiline):
        return "'"
    return '"'
