"""Reads user YAML into PyYAML node trees that keep every value's line and column, refusing hostile YAML.

Composing (not constructing) keeps the marks and keeps `!vault` values as data. On the way the
loader refuses what would otherwise crash or hang a later stage: tags other than the standard
ones and `!vault` (so no Python object is ever built), scalars their tag cannot read (a bad
date, `!!binary` junk), characters YAML does not allow in a file, collections nested deeper than
every later stage can follow, and aliases that expand to more values than a runbook could mean
(a "billion laughs"). Each refusal is a located diagnostic.

The events come from libyaml (PyYAML's C parser) when it is there: the refusals, the nodes and
their marks are the same, three times faster. A document libyaml rejects is read again by the
pure-Python parser, so a syntax error reads exactly as it always has.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

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
_STR = _CORE + "str"
SCALAR_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp", "merge", "value")}
ALLOWED_TAGS = {
    yaml.ScalarNode: SCALAR_TAGS | {"!vault"},
    yaml.SequenceNode: {_CORE + "seq"},
    yaml.MappingNode: {_CORE + "map"},
}
_SURROGATE = re.compile("[\ud800-\udfff]")
# What YAML allows in a file (YAML 1.1, section 5.1), so an escape cannot smuggle in the rest.
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class _Refused(yaml.MarkedYAMLError):
    """A well-formed document rb2ansible will not read; its message stands on its own."""


def location_of(node: yaml.Node, path: Path) -> Location:
    mark = node.start_mark
    return Location(path, mark.line + 1, mark.column + 1)


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
    if node.tag in (_CORE + "merge", _CORE + "value"):  # `<<` and `=` are plain text to a runbook
        return node.value
    if node.tag == _STR:
        value = node.value  # what the constructor gives, without the cost: most scalars are strings
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
    if CParser is not None:
        try:
            return _FastLoader(text, path).get_single_node()
        except _Refused:
            raise
        except (yaml.YAMLError, UnicodeEncodeError):  # a syntax error, or text libyaml cannot be given
            pass
    return _Loader(text, path).get_single_node()


class _Refusals(Composer):
    """PyYAML's composer with the refusals above, whichever parser gives it events; the constructor is used
    for scalars only."""

    def start_counting(self) -> None:
        self.open_collections = 0
        self.expanded: dict[int, tuple[int, int]] = {}  # id(node) -> (values, depth) with aliases expanded
        self.alias_values = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.check_alias(self.peek_event())
            return super().compose_node(parent, index)
        start = self.peek_event()
        is_collection = isinstance(start, yaml.CollectionStartEvent)
        if is_collection:
            self.open_collections += 1
            if self.open_collections > MAX_DEPTH:
                raise _Refused(None, None, f"nested more than {MAX_DEPTH} levels deep; flatten the structure",
                               start.start_mark)
        node = super().compose_node(parent, index)
        self.check_tag(node)
        if is_collection:
            self.open_collections -= 1
            children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else node.value
            extents = [self.expanded[id(child)] for child in children]
            self.expanded[id(node)] = (1 + sum(e[0] for e in extents), 1 + max((e[1] for e in extents), default=0))
        else:
            self.check_scalar(node)
            self.expanded[id(node)] = (1, 0)
        return node

    def check_alias(self, event: yaml.AliasEvent) -> None:
        target = self.anchors.get(event.anchor)
        if target is None:
            return  # PyYAML reports the undefined alias
        if id(target) not in self.expanded:  # still being composed: the alias is inside its own anchor
            raise _Refused(None, None, f"alias *{event.anchor} refers to a collection that contains it",
                           event.start_mark)
        values, depth = self.expanded[id(target)]
        self.alias_values += values
        if self.alias_values > MAX_ALIAS_EXPANSION:
            raise _Refused(None, None, f"aliases expand to more than {MAX_ALIAS_EXPANSION:,} values here "
                                       f"(*{event.anchor} repeats {values:,}); write the data out instead",
                           event.start_mark)
        if self.open_collections + depth > MAX_DEPTH:
            raise _Refused(None, None, f"alias *{event.anchor} nests the data more than {MAX_DEPTH} levels deep",
                           event.start_mark)

    def check_tag(self, node: yaml.Node) -> None:
        if node.tag in ALLOWED_TAGS[type(node)]:
            return
        shown = "!!" + node.tag[len(_CORE):] if node.tag.startswith(_CORE) else node.tag
        if node.tag == "!vault":
            message = "'!vault' marks an encrypted text value, not a list or a mapping"
        else:
            message = (f"unsupported YAML tag '{shown}' (rb2ansible reads strings, numbers, booleans, null, dates, "
                       "lists, mappings and !vault)")
        raise _Refused(None, None, message, node.start_mark)

    def check_scalar(self, node: yaml.ScalarNode) -> None:
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


class _Loader(_Refusals, yaml.SafeLoader):
    """Pure Python: the reference, and the reader of whatever libyaml rejects."""

    def __init__(self, text: str, path: Path):
        yaml.SafeLoader.__init__(self, text)
        self.name = str(path)
        self.start_counting()


if CParser is not None:
    class _FastLoader(_Refusals, CParser, SafeConstructor, Resolver):
        """libyaml's events, composed and checked in Python as above."""

        def __init__(self, text: str, path: Path):
            CParser.__init__(self, text)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self.text, self.name = text, str(path)
            self.start_counting()

        def compose_node(self, parent, index):
            node = super().compose_node(parent, index)
            if node.start_mark.buffer is None:  # not an alias's node, already given its marks
                # libyaml's marks hold no text; a diagnostic shows the line it points into (nodes.py).
                node.start_mark, node.end_mark = self.mark(node.start_mark), self.mark(node.end_mark)
            return node

        def compose_scalar_node(self, anchor):
            event = self.peek_event()
            if event.tag == "!" and not event.value:  # a lone `!`: PyYAML reads it as untagged (null), libyaml
                event.implicit = (True, False)        # as a string; PyYAML's reading is the reference here
            return super().compose_scalar_node(anchor)

        def mark(self, mark) -> _Mark:
            return _Mark(self.name, mark.index, mark.line, mark.column, self.text, mark.index)


class _Mark:
    """PyYAML's Mark without a dict per instance (120 bytes, not 168): two of them for every value of a runbook."""

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
