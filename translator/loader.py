"""Reads user YAML into PyYAML node trees that keep every value's line and column, refusing hostile YAML.

Composing (not constructing) keeps the marks and keeps `!vault` values as data. On the way the
loader refuses what would otherwise crash or hang a later stage: tags other than the standard
ones and `!vault` (so no Python object is ever built), scalars their tag cannot read (a bad
date, `!!binary` junk), characters YAML does not allow in a file, collections nested deeper than
every later stage can follow, and aliases that expand to more values than a runbook could mean
(a "billion laughs"). Each refusal is a located diagnostic.

The events come from libyaml (PyYAML's C parser) when it is there, and go through one composer of
our own, PyYAML's step for step with the refusals on the way; its nodes are PyYAML's node classes
with their attributes in slots and their marks packed (half the memory). A document libyaml rejects
is read again from the pure-Python parser's events, so a syntax error reads exactly as it always has.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

try:
    from yaml.cyaml import CParser
except ImportError:  # PyYAML built without libyaml: the pure-Python parser alone
    CParser = None

from .errors import Diagnostic, Location, RunbookInvalid

# Collections inside collections, counting through aliases. Runbooks nest a few levels; this
# leaves every later stage (build, schedule, emit, the YAML dumper) far from Python's recursion limit.
MAX_DEPTH = 100
# Values that aliases add once expanded: a runbook reuses blocks, it does not multiply them, and
# every value costs time in each later stage (a `vars` mapping is dumped into the export whole).
MAX_ALIAS_EXPANSION = 10_000

_CORE = "tag:yaml.org,2002:"
STR_TAG = _CORE + "str"  # a text's tag
_INT = _CORE + "int"
_TEXT_TAGS = (_CORE + "merge", _CORE + "value")
SCALAR_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp", "merge", "value")}
ALLOWED_TAGS = {
    yaml.ScalarNode: SCALAR_TAGS | {"!vault"},
    yaml.SequenceNode: {_CORE + "seq"},
    yaml.MappingNode: {_CORE + "map"},
}
RESOLVER = Resolver()  # YAML's implicit tags, made once
_ScalarEvent = yaml.ScalarEvent
# The first characters of the texts an implicit tag other than str may resolve (digits, `~`, `n`, `t`, `.`...).
# A plain text starting with any other character, and every quoted one, is a str without asking the resolver
# (most texts of a runbook: names, commands, paths), as Resolver.resolve would find after trying each pattern.
_IMPLICIT_FIRST = frozenset(Resolver.yaml_implicit_resolvers)
_SURROGATE = re.compile("[\ud800-\udfff]")
# What YAML allows in a file (YAML 1.1, section 5.1), so an escape cannot smuggle in the rest.
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class _Refused(yaml.MarkedYAMLError):
    """A well-formed document rb2ansible will not read; its message stands on its own."""


def location_of(node: yaml.Node, path: Path) -> Location:
    line, column = node.start_position()
    return Location(path, line + 1, column + 1)


def load_node(path: Path) -> yaml.Node | None:
    """Compose one YAML document; a syntax error or a refusal becomes a located diagnostic."""
    return _compose(read_text(path), path)


def load_data(text: str, origin: str) -> Any:
    """YAML given as text (an `-e` value) as plain data, with the same refusals; `origin` names it in errors."""
    node = _compose(text, Path(origin))
    try:
        return yaml.SafeLoader("").construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:  # a key that is a list or a mapping, or a !vault value
        raise RunbookInvalid([Diagnostic(_where(Path(origin), exc.problem_mark), exc.problem)]) from None


def _compose(text: str, path: Path) -> yaml.Node | None:
    try:
        return _read(text, path)
    except _Refused as exc:
        raise RunbookInvalid([Diagnostic(_where(path, exc.problem_mark), exc.problem)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise RunbookInvalid([Diagnostic(_where(path, mark), f"invalid YAML: {exc.problem}")]) from None
    except yaml.reader.ReaderError as exc:
        where = _position(path, text, exc.position)
        raise RunbookInvalid([Diagnostic(where, f"character U+{exc.character:04X} is not allowed in YAML")]) from None


def read_text(path: Path) -> str:
    """A user's file as text; anything but a readable UTF-8 regular file is a located error."""
    try:
        if not path.is_file():  # a FIFO or a device would block or never end
            raise RunbookInvalid([Diagnostic(Location(path, 1, 1),
                                             "not a regular file" if path.exists() else "file not found")])
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RunbookInvalid([Diagnostic(Location(path, 1, 1), f"cannot read: not UTF-8 text ({exc.reason} "
                                                               f"at byte {exc.start})")]) from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise RunbookInvalid([Diagnostic(Location(path, 1, 1), f"cannot read: {reason}")]) from None


def is_file(path: Path) -> bool:
    """Whether a path a runbook names is a file; a name the system refuses (too long, say) is not one."""
    return _asking(path.is_file)


def is_dir(path: Path) -> bool:
    return _asking(path.is_dir)


def exists(path: Path) -> bool:
    return _asking(path.exists)


def _asking(test) -> bool:
    try:
        return test()
    except (OSError, ValueError):
        return False


def scalar_value(node: yaml.ScalarNode) -> Any:
    """The Python value YAML 1.1 gives a scalar (int, bool, str, null, float, date...).

    Only for nodes `load_node` composed: it has already checked that each one constructs.
    """
    tag = node.tag
    if tag == STR_TAG:
        value = node.value  # what the constructor gives, without the cost: most scalars are strings
    elif tag in _TEXT_TAGS:  # `<<` and `=` are plain text to a runbook
        return node.value
    elif tag == _INT and node.value.isascii() and node.value.isdigit() and node.value[0] != "0":
        return int(node.value)  # what SafeConstructor gives a plain decimal, without its machinery
    else:
        try:
            value = _scalars.construct_object(node, deep=True)
        finally:  # the constructor remembers each node it built: that would keep every runbook alive
            _scalars.constructed_objects.clear()
            _scalars.recursive_objects.clear()
    if isinstance(value, str) and _SURROGATE.search(value):
        # "\ud83d\ude00" is how JSON writes one character beyond U+FFFF; YAML keeps the two halves apart.
        value = value.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")
    return value


_scalars = yaml.SafeLoader("")


def _read(text: str, path: Path) -> yaml.Node | None:
    """The document's node tree, refusals raised; libyaml's syntax errors are left to the pure-Python parser."""
    source = _Source(str(path), text)
    if CParser is not None:
        try:
            return _Composer(CParser(text), source).single_node()
        except _Refused:
            raise
        except (yaml.YAMLError, UnicodeEncodeError):  # a syntax error, or text libyaml cannot be given
            pass
    return _Composer(_PythonParser(text), source).single_node()


class _PythonParser(Reader, Scanner, Parser):
    """PyYAML's pure-Python events: the reference, and the reader of whatever libyaml rejects."""

    def __init__(self, text: str):
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)


class _Composer:
    """PyYAML's composer (yaml.composer.Composer, step for step, same errors) over either parser's events,
    with the refusals above, making the compact nodes below."""

    def __init__(self, events, source: _Source):
        self.events, self.source = events, source
        self.anchors: dict[str, yaml.Node] = {}
        self.extents: dict[str, tuple[int, int]] = {}  # anchor -> (values, depth) with aliases expanded
        self.alias_values = 0
        self.open_collections = 0

    def single_node(self) -> yaml.Node | None:
        events = self.events
        events.get_event()  # the stream's start
        document = None
        if not events.check_event(yaml.StreamEndEvent):
            events.get_event()  # the document's start
            document, _, _ = self.node()
            events.get_event()  # the document's end
        if not events.check_event(yaml.StreamEndEvent):
            event = events.get_event()
            raise ComposerError("expected a single document in the stream", document.start_mark,
                                "but found another document", event.start_mark)
        return document

    def node(self) -> tuple[yaml.Node, int, int]:
        """The next node, with how many values it holds and how deep it nests once aliases are expanded."""
        return self.node_from(self.events.get_event())

    def node_from(self, event: yaml.Event) -> tuple[yaml.Node, int, int]:
        """The node that starts with `event`."""
        if type(event) is _ScalarEvent and event.anchor is None:  # most nodes: checked first, the rest skipped
            return self.scalar(event), 1, 0
        if type(event) is yaml.AliasEvent:
            return self.alias(event)
        if type(event) is not yaml.ScalarEvent:
            self.open_collections += 1
            if self.open_collections > MAX_DEPTH:
                raise _Refused(None, None, f"nested more than {MAX_DEPTH} levels deep; flatten the structure",
                               event.start_mark)
        anchor = event.anchor
        if anchor is not None and anchor in self.anchors:
            raise ComposerError(f"found duplicate anchor {anchor!r}; first occurrence",
                                self.anchors[anchor].start_mark, "second occurrence", event.start_mark)
        if type(event) is yaml.ScalarEvent:
            node, values, depth = self.scalar(event), 1, 0
        else:
            node, values, depth = self.collection(event)
        if anchor is not None:
            self.extents[anchor] = (values, depth)
        return node, values, depth

    def alias(self, event: yaml.AliasEvent) -> tuple[yaml.Node, int, int]:
        target = self.anchors.get(event.anchor)
        if target is None:
            raise ComposerError(None, None, f"found undefined alias {event.anchor!r}", event.start_mark)
        if event.anchor not in self.extents:  # still being composed: the alias is inside its own anchor
            raise _Refused(None, None, f"alias *{event.anchor} refers to a collection that contains it",
                           event.start_mark)
        values, depth = self.extents[event.anchor]
        self.alias_values += values
        if self.alias_values > MAX_ALIAS_EXPANSION:
            raise _Refused(None, None, f"aliases expand to more than {MAX_ALIAS_EXPANSION:,} values here "
                                       f"(*{event.anchor} repeats {values:,}); write the data out instead",
                           event.start_mark)
        if self.open_collections + depth > MAX_DEPTH:
            raise _Refused(None, None, f"alias *{event.anchor} nests the data more than {MAX_DEPTH} levels deep",
                           event.start_mark)
        return target, values, depth

    def scalar(self, event: yaml.ScalarEvent) -> yaml.ScalarNode:
        tag, implicit = event.tag, event.implicit
        if tag == "!" and not event.value:  # a lone `!`: PyYAML reads it as untagged (null), libyaml
            implicit = (True, False)        # as a string; PyYAML's reading is the reference here
        if tag is None or tag == "!":
            if implicit[0] and event.value[:1] in _IMPLICIT_FIRST:
                tag = RESOLVER.resolve(yaml.ScalarNode, event.value, implicit)
            else:
                tag = STR_TAG
        node = _Scalar(tag, event.value, event.style, _span(event.start_mark, event.end_mark), self.source)
        if event.anchor is not None:
            self.anchors[event.anchor] = node
        if tag != STR_TAG or _NOT_PRINTABLE.search(node.value):  # not for a usual text: both checks pass it
            _check_tag(node)
            _check_scalar(node)
        return node

    def collection(self, start: yaml.CollectionStartEvent) -> tuple[yaml.Node, int, int]:
        is_sequence = type(start) is yaml.SequenceStartEvent
        kind = yaml.SequenceNode if is_sequence else yaml.MappingNode
        tag = start.tag
        if tag is None or tag == "!":
            tag = RESOLVER.resolve(kind, None, start.implicit)
        items: list = []
        node = (_Sequence if is_sequence else _Mapping)(tag, items, start.flow_style, start.start_mark, self.source)
        if start.anchor is not None:
            self.anchors[start.anchor] = node
        values, depth = 1, 0
        end = yaml.SequenceEndEvent if is_sequence else yaml.MappingEndEvent
        get_event = self.events.get_event
        # Each event taken once, and looked at here: peeking at it first (check_event) costs a second call
        # into the parser for every node, the most frequent step of composing.
        event = get_event()
        while type(event) is not end:
            item, item_values, item_depth = self.node_from(event)
            values += item_values
            depth = max(depth, item_depth)
            if not is_sequence:
                value, item_values, item_depth = self.node()
                values += item_values
                depth = max(depth, item_depth)
                item = (item, value)
            items.append(item)
            event = get_event()
        node.ends_at(event.end_mark)
        _check_tag(node)
        self.open_collections -= 1
        return node, values, depth + 1


def _check_tag(node: yaml.Node) -> None:
    if node.tag in ALLOWED_TAGS[node.kind]:
        return
    shown = "!!" + node.tag[len(_CORE):] if node.tag.startswith(_CORE) else node.tag
    if node.tag == "!vault":
        message = "'!vault' marks an encrypted text value, not a list or a mapping"
    else:
        message = (f"unsupported YAML tag '{shown}' (rb2ansible reads strings, numbers, booleans, null, dates, "
                   "lists, mappings and !vault)")
    raise _Refused(None, None, message, node.start_mark)


def _check_scalar(node: yaml.ScalarNode) -> None:
    if node.tag == STR_TAG and not _NOT_PRINTABLE.search(node.value):
        return  # most scalars; surrogates, which scalar_value would join, are among the unprintable
    if node.tag == "!vault":
        value = node.value
    else:
        try:
            value = scalar_value(node)
        except Exception as exc:  # PyYAML raises what the value's parser raises (ValueError, KeyError...)
            kind = node.tag[len(_CORE):]
            reason = exc.problem if isinstance(exc, yaml.MarkedYAMLError) else str(exc)
            raise _Refused(None, None, f"cannot read {node.value[:40]!r} as {kind}: {reason}",
                           node.start_mark) from None
    if isinstance(value, str):
        bad = _NOT_PRINTABLE.search(value)
        if bad:
            raise _Refused(None, None, f"character U+{ord(bad.group()):04X} is not allowed in a value "
                                       "(YAML allows only printable characters)", node.start_mark)


# -- compact nodes ------------------------------------------------------------------------------
# A runbook of 30,000 tasks has some 260,000 nodes, all alive while the model is built: PyYAML's nodes
# (an attribute dict each) with two marks each took 134 MiB. These keep the same attributes in slots and
# both marks packed in one integer, made into marks only when asked (for a diagnostic, mostly).

_FIELD = 1 << 32  # index, line and column each fit in 32 bits: a runbook is far smaller than 4 GiB
_MARK = _FIELD ** 3  # one packed mark (index, line, column): the start is the span // _MARK, the end % _MARK


def _span(start, end) -> int:
    return ((((start.index * _FIELD + start.line) * _FIELD + start.column) * _FIELD + end.index) * _FIELD
            + end.line) * _FIELD + end.column


class _Source:
    """The file a node comes from: its name and text, which a mark shows a line of."""

    __slots__ = ("name", "text")

    def __init__(self, name: str, text: str):
        self.name, self.text = name, text

    def mark(self, packed: int) -> _Mark:
        packed, column = divmod(packed, _FIELD)
        index, line = divmod(packed, _FIELD)
        return _Mark(self.name, index, line, column, self.text, index)


class _Located:
    __slots__ = ()

    @property
    def start_mark(self) -> _Mark:
        return self._source.mark(self._span // _MARK)

    @property
    def end_mark(self) -> _Mark:
        return self._source.mark(self._span % _MARK)

    def start_position(self) -> tuple[int, int]:
        """The start mark's line and column, counted from 0, without making the mark (every task's location)."""
        line, column = divmod(self._span // _MARK % (_FIELD * _FIELD), _FIELD)
        return line, column


class _Scalar(_Located, yaml.ScalarNode):
    __slots__ = ("_source", "_span", "style", "tag", "value")
    kind = yaml.ScalarNode

    def __init__(self, tag: str, value: str, style: str | None, span: int, source: _Source):
        self.tag, self.value, self.style, self._span, self._source = tag, value, style, span, source


class _Collection(_Located):
    __slots__ = ()

    def __init__(self, tag: str, value: list, flow_style: bool | None, start, source: _Source):
        self.tag, self.value, self.flow_style, self._source = tag, value, flow_style, source
        self._span = ((start.index * _FIELD + start.line) * _FIELD + start.column) * _MARK  # its end: ends_at

    def ends_at(self, end) -> None:
        self._span += (end.index * _FIELD + end.line) * _FIELD + end.column


class _Sequence(_Collection, yaml.SequenceNode):
    __slots__ = ("_source", "_span", "flow_style", "tag", "value")
    kind = yaml.SequenceNode


class _Mapping(_Collection, yaml.MappingNode):
    __slots__ = ("_source", "_span", "flow_style", "tag", "value")
    kind = yaml.MappingNode


class _Mark:
    """PyYAML's Mark without a dict per instance."""

    __slots__ = ("buffer", "column", "index", "line", "name", "pointer")

    def __init__(self, name: str, index: int, line: int, column: int, buffer: str, pointer: int):
        self.name, self.index, self.line, self.column, self.buffer, self.pointer = (
            name, index, line, column, buffer, pointer)

    get_snippet = yaml.Mark.get_snippet
    __str__ = yaml.Mark.__str__


def _where(path: Path, mark: yaml.Mark | None) -> Location:
    return Location(path, mark.line + 1, mark.column + 1) if mark else Location(path, 1, 1)


def _position(path: Path, text: str, offset: int) -> Location:
    """Line and column of a character offset, counting line breaks as YAML does."""
    before = text[:offset]
    lines = re.split("\r\n|[\r\n\x85\u2028\u2029]", before)
    return Location(path, len(lines), len(lines[-1]) + 1)
