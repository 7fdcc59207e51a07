"""The export's own YAML writer gives PyYAML's bytes for every shape the export holds, awkward texts included,
and the lines of the list items it writes are those a YAML reader finds."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from translator import yamlout
from translator.model import VaultText
from translator.yamlwriter import Commented, Unsupported, Writer

# Texts YAML reads as something else unquoted, or that need care in some place of a line.
AWKWARD = ["", " ", "yes", "no", "on", "off", "y", "n", "null", "Null", "~", "true", "False", "1", "-1", "0o17",
           "017", "0x1F", "1_000", "1e3", ".5", ".inf", ".nan", "12:30:00", "2026-11-22", "-", "- a", "a: b", "a:b",
           "#x", "a #b", "'q'", '"q"', "? x", "!tag", "&a", "*a", "|", ">", "%x", "@x", "`x", "[a]", "{a: 1}", ",",
           "a\nb", "a\n", "\n", " lead", "trail ", "two  spaces", "tab\there", "é ü 中文 😀", "\x85", "\u2028",
           "\ufeff", "\x07bell", "=", "<<", "'", "''", "\\", "a' b", "x" * 130, "word " * 40, "w" * 200 + " end"]
_CHARACTERS = st.sampled_from(list(" :#'\"-?!&*|>%@`[]{},\n\t\\=.~0123456789abcxyzé中😀\x85\u2028\x07"))
texts = st.one_of(
    st.sampled_from(AWKWARD),
    st.text(_CHARACTERS, max_size=20),
    st.lists(st.sampled_from(["word", "a:", "#b", "'c'", "ü", "-", "x" * 30, "yes"]), min_size=10, max_size=40)
    .map(" ".join),
    st.text(max_size=12),  # anything unicode holds, surrogates and controls included
)
scalars = st.one_of(texts, st.integers(-10**12, 10**12), st.booleans(), st.none())
comments = st.one_of(st.none(), st.sampled_from(["noqa: no-changed-when", "run.yml:3 shell 'a > b'", "x\ny"]))


def _commented(mapping: dict, above: str | None, after_keys: list[str], comment: str | None) -> Commented:
    return Commented(mapping, above, {key: comment for key in after_keys if key in mapping} if comment else {})


def mappings(children):
    plain = st.dictionaries(texts, children, max_size=5)
    commented = st.builds(lambda mapping, above, comment, picks: _commented(mapping, above, picks, comment),
                          plain, comments, comments, st.lists(texts, max_size=3))
    with_kept_keys = plain.flatmap(lambda mapping: st.builds(
        lambda above, comment: _commented(mapping, above, list(mapping)[:2], comment), comments, comments))
    return st.one_of(plain, commented, with_kept_keys)


values = st.recursive(scalars, lambda children: st.one_of(st.lists(children, max_size=4), mappings(children)),
                      max_leaves=25)
documents = st.one_of(st.lists(values, min_size=1, max_size=4), mappings(values))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_the_writer_gives_pyyamls_bytes(data):
    expected = yamlout.pyyaml_dump(data)
    try:
        written = Writer().document(data)
    except Unsupported:
        # Only what the writer says it leaves to PyYAML: long or multi-line keys, empty roots.
        assert _has_complex_key(data) or not data
        return
    assert written == expected


def _has_complex_key(data) -> bool:
    if isinstance(data, dict):
        return any(len(key) >= 123 or "\n" in key or key == "" or any(mark in key for mark in "\x85\u2028\u2029")
                   or _has_complex_key(value) for key, value in data.items())
    if isinstance(data, list):
        return any(_has_complex_key(item) for item in data)
    return False


def test_a_literal_that_keeps_its_final_line_breaks_ends_the_document_as_pyyaml_ends_it():
    for data in (["\n"], {"a": "x\n\n"}, [{"a": "x\n\n"}, "y"], {"a": "x\n\n", "b": 1}):
        assert Writer().document(data) == yamlout.pyyaml_dump(data)


def test_what_the_writer_leaves_to_pyyaml_is_dumped_by_pyyaml():
    for data in ({"rate": 0.5}, {"secret": VaultText("$ANSIBLE_VAULT;1.1;AES256\n6162\n")}, {"k" * 200: 1},
                 {1: "one"}, [], {}):
        assert yamlout.dump(data) == yamlout.pyyaml_dump(data)
    assert "!vault |" in yamlout.dump({"secret": VaultText("$ANSIBLE_VAULT;1.1;AES256\n6162\n")})


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(mappings(values), comments, st.lists(mappings(values), max_size=3)), min_size=1,
                max_size=5))
def test_each_list_item_is_told_the_line_a_yaml_reader_finds_it_on(tasks):
    items = []
    for number, (fields, above, children) in enumerate(tasks):
        item = Commented({"name": f"task {number}", **fields}, above, origin=("task", number))
        if children:
            item["block"] = [Commented({"name": f"child {number}.{index}", **child}, above,
                                       origin=("child", number, index)) for index, child in enumerate(children)]
        items.append(item)
    writer = Writer()
    try:
        text = writer.document(items)
    except Unsupported:
        return
    found = {}
    for number, node in enumerate(yaml.compose(text, Loader=yaml.CSafeLoader).value):
        found[("task", number)] = node.start_mark.line
        block = next((value for key, value in node.value if key.value == "block"), None)
        for index, child in enumerate(block.value if block is not None and items[number].get("block") else []):
            found[("child", number, index)] = child.start_mark.line
    assert dict(writer.lines) == found


def test_texts_that_end_near_the_lines_width_fold_where_pyyaml_folds_them():
    # Where a text reaches column 120 decides whether PyYAML folds it: every end column near it, plain and quoted.
    for length in range(100, 126):
        for start in ("a", "'a", "yes", "a\tb", "{{ a }}", "{'b'"):
            value = (start + " " + "bc " * 50)[:length].rstrip()
            for key in ("k", "key" * 3):
                for data in ({key: value}, [{key: value}], {"a": {key: [value, {key: value}]}}):
                    assert Writer().document(data) == yamlout.pyyaml_dump(data), (length, start, key, data)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(st.sampled_from(list("aZ09_/.$(){}=+ -yesnoNULLtrue:#'\"é\n")), max_size=16),
                 # opening with a Jinja expression, as many values of an export do
                 st.text(st.sampled_from(list("{}a: #'\"-é\t\n\x85")), max_size=16).map(lambda text: "{" + text),
                 st.sampled_from(AWKWARD)))
def test_usual_texts_take_the_styles_pyyamls_analysis_gives(value):
    writer = Writer()
    written, analyzed = writer.text(value), writer.analyzed_text(value)
    assert (written.value_style, written.key_style, written.quoted) == (
        analyzed.value_style, analyzed.key_style, analyzed.quoted)
