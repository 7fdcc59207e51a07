"""Hypothesis strategies for hostile runbook projects: random nesting, wrong types, tags, aliases, junk.

A project is drawn as a small YAML node tree per file, rendered to text in a random mix of block
and flow style, and sometimes corrupted with junk bytes afterwards. Most of what is drawn is a
plausible runbook, so that a good share validates and the "what validates also exports" half of
the property is exercised too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from hypothesis import strategies as st

# -- a YAML node tree that renders to text -----------------------------------------------------------


@dataclass
class Scalar:
    text: str  # already valid as a YAML scalar in flow and block context (plain or double-quoted)


@dataclass
class Seq:
    items: list
    flow: bool = False
    anchor: str | None = None
    tag: str | None = None


@dataclass
class Map:
    pairs: list = field(default_factory=list)
    flow: bool = False
    anchor: str | None = None
    tag: str | None = None


@dataclass
class Alias:
    name: str


def render(node) -> str:
    return "\n".join(_block(node, 0)) + "\n"


def _properties(node) -> str:
    parts = [f"&{node.anchor}" if node.anchor else "", node.tag or ""]
    return " ".join(p for p in parts if p)


def _flow(node) -> str:
    if isinstance(node, Scalar):
        return node.text
    if isinstance(node, Alias):
        return f"*{node.name}"
    prefix = _properties(node)
    prefix = prefix + " " if prefix else ""
    if isinstance(node, Seq):
        return prefix + "[" + ", ".join(_flow(item) for item in node.items) + "]"
    return prefix + "{" + ", ".join(f"{_flow(k)}: {_flow(v)}" for k, v in node.pairs) + "}"


def _is_block(node) -> bool:
    return isinstance(node, (Seq, Map)) and not node.flow and bool(node.items if isinstance(node, Seq) else node.pairs)


def _block(node, indent: int) -> list[str]:
    pad = " " * indent
    if not _is_block(node):
        return [pad + _flow(node)]
    lines = []
    if isinstance(node, Seq):
        for item in node.items:
            if _is_block(item):
                lines.append(pad + ("- " + _properties(item)).rstrip())
                lines += _block(item, indent + 2)
            else:
                lines.append(f"{pad}- {_flow(item)}")
        return lines
    for key, value in node.pairs:
        if _is_block(value):
            lines.append(f"{pad}{_flow(key)}: {_properties(value)}".rstrip())
            lines += _block(value, indent + 2)
        else:
            lines.append(f"{pad}{_flow(key)}: {_flow(value)}")
    return lines


# -- scalars ----------------------------------------------------------------------------------------

PLAIN = ["hi", "yes", "no", "on", "off", "~", "null", "1", "-1", "0x1F", "0o17", "017", "644", "0644", "1e3",
         "1_000", ".inf", "-.nan", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "<<", "=", "true", "False", "x",
         "web1", "/tmp/rb2a-fuzz", "echo hi", "'single'", "'it''s'", "'${x}'", "\"${x} and ${y}\"", "\"30%\"",
         "\"\"", "ünïcödé", "日本語", "😀", "\"\\t\"", "\"a\\nb\"", "\"\\u2028\"", "\"\\U0001F600\"",
         "!!str 1", "! 12", "!!float 1e999", "9" * 30]
HOSTILE = ["!!binary aGVsbG8=", "!!binary \"not base64 !!!\"", "!!python/object:os.system {}",
           "!!python/name:os.system ''", "!!python/object/apply:os.system [true]", "!!int abc", "!!int 0x",
           "!!float x", "!!bool maybe", "!!null x", "!!timestamp 2001-02-30", "2001-13-45", "!unsafe x", "!foo x",
           "!<tag:yaml.org,2002:python/object> x", "!!set {a, b}", "!!omap [{a: 1}]", "!!pairs [{a: 1}]",
           "!!merge x", "!vault \"$ANSIBLE_VAULT;1.1;AES256\\n6162\"", "!vault [1]", "\"\\x00\"", "\"\\ud800\"",
           "\"\\e[31m\"", "\"\\x85\"", "1" * 5000, "\"" + "a" * 300 + "\""]
EXPRESSION_PARTS = ["${", "}", "$${", "{", "{{", "}}", "x", "y", " ", "'", "\"", "\\", "|", "default(1)", "%",
                    "item", "x == 'y'", "+", "(", ")", "[", "]", ":", "is changed", "${x}", "$", "#", "\n"]


def mostly(good, bad):
    """`good` four times in five."""
    return st.one_of(good, good, good, good, bad)


def _quoted(text: str, ascii_only: bool = True) -> Scalar:
    return Scalar(json.dumps(text, ensure_ascii=ascii_only))


expressions = st.lists(st.sampled_from(EXPRESSION_PARTS), min_size=1, max_size=8).map("".join).map(_quoted)
free_text = st.builds(_quoted, st.text(st.characters(blacklist_categories=("Cs",)), max_size=20), st.booleans())
scalars = mostly(
    st.sampled_from(PLAIN).map(Scalar) | expressions | st.integers(-(2**70), 2**70).map(lambda n: Scalar(str(n))),
    free_text | st.sampled_from(HOSTILE).map(Scalar),
)
anchors = st.sampled_from(["a", "b", "c"])


def _collections(children):
    flow = st.booleans()
    anchor = mostly(st.none(), anchors)
    tag = mostly(st.none(), st.sampled_from(["!!map", "!!seq", "!!set", "!!str", "!vault", "!x"]))
    return st.one_of(
        st.builds(Seq, st.lists(children, max_size=4), flow, anchor, tag),
        st.builds(Map, st.lists(st.tuples(keys, children), max_size=4), flow, anchor, tag),
    )


keys = mostly(st.sampled_from(["a", "b", "x_1", "name", "item"]).map(Scalar),
              st.sampled_from(["no", "on", "1", "<<", "${x}", "\"a b\"", "[1]", "{a: 1}", "\"\\x00\"",
                               "!!python/object:os.system {}"]).map(Scalar) | anchors.map(Alias))
values = st.recursive(mostly(scalars, anchors.map(Alias)), _collections, max_leaves=6)


@st.composite
def laughs(draw) -> Map:
    """A "billion laughs": each level repeats the previous one `width` times."""
    width, depth = draw(st.integers(2, 10)), draw(st.integers(1, 9))
    pairs = [(Scalar("l0"), Seq([Scalar("lol")] * width, flow=True, anchor="l0"))]
    for level in range(1, depth + 1):
        pairs.append((Scalar(f"l{level}"), Seq([Alias(f"l{level - 1}")] * width, flow=True, anchor=f"l{level}")))
    return Map(pairs)


def nested(value, depth: int, flow: bool):
    for _ in range(depth):
        value = Seq([value], flow=flow)
    return value


deep_values = st.builds(nested, values, st.integers(90, 110), st.booleans())  # around the loader's limit

# -- runbooks ---------------------------------------------------------------------------------------

GOOD_MODULE_KEYS = ["echo", "shell", "file", "template", "serial", "parallel", "include", "debug",
                    "ansible.builtin.command"]
BAD_MODULE_KEYS = ["lineinfile", "nosuchmodule", "systemd-helper/create", "echoo", "role"]
# Ansible's keywords that are valid anywhere a generated task may sit (parallel children too): not notify,
# run_once, any_errors_fatal or throttle, which a parallel block's children cannot carry.
OPTIONS = ["when", "sudo", "sudo_user", "ignore_errors", "timeout", "retries", "delay", "until", "tags", "vars",
           "register", "no_log", "delegate_to", "environment", "become_method", "check_mode", "diff",
           "changed_when", "failed_when", "loop"]
GOOD_OPTION_VALUES = {
    "when": ["\"${x} == 'y'\"", "true"], "sudo": ["true", "false"], "sudo_user": ["root"], "ignore_errors": ["true"],
    "timeout": ["5"], "retries": ["2"], "delay": ["1"], "until": ["\"${r}\""], "tags": ["t", "[t, u]"],
    "vars": ["{x: 1}"], "register": ["r"], "no_log": ["true"],
    "delegate_to": ["localhost", "\"${x}\""], "environment": ["{A: \"${x}\"}"], "become_method": ["su"],
    "check_mode": ["false", "\"${x}\""], "diff": ["true"], "changed_when": ["false", "\"${x} == 1\""],
    "failed_when": ["\"${x} != 1\""], "loop": ["[1, 2]", "\"${x}\""],
}
BAD_OPTIONS = {"when": "\"${x\"", "timeout": "0", "register": "\"not a name\"", "wehn": "x", "loop": "[1, 2]"}


@st.composite
def module_arguments(draw, key: str, depth: int):
    if key in ("serial", "parallel"):
        return draw(mostly(task_lists(depth + 1), values))
    choices = {
        "echo": [Scalar("hi"), Scalar("\"${x}\"")],
        "shell": [Scalar("\"echo ${x}\""), Map([(Scalar("cmd"), Scalar("true"))])],
        "file": [Map([(Scalar("source"), Scalar("f.txt")), (Scalar("destination"), Scalar("/tmp/rb2a-fuzz/f"))])],
        "template": [Map([(Scalar("source"), Scalar("t.j2")), (Scalar("destination"), Scalar("/tmp/rb2a-fuzz/t")),
                          (Scalar("variables"), Map([(Scalar("v"), Scalar("1"))]))])],
        "include": [Map([(Scalar("runbook"), Scalar("inc.yml")), (Scalar("vars"), Map([(Scalar("z"), Scalar("1"))]))])],
        "debug": [Map([(Scalar("msg"), Scalar("\"${x}\""))])],
        "ansible.builtin.command": [Scalar("echo hi")],
    }
    wrong = [Map([(Scalar("source"), Scalar("missing.txt")), (Scalar("destination"), Scalar("/tmp/x")),
                  (Scalar("mode"), Scalar("644")), (Scalar("owner"), Seq([Scalar("root"), Scalar("daemon")]))]),
             Map([(Scalar("runbook"), Scalar("run.yml"))]), Map([(Scalar("runbook"), Scalar("nope.yml"))]),
             Map([(Scalar("runbook"), Scalar("n" * 300))]), Map([(Scalar("runbook"), Scalar("/"))]),
             Map([(Scalar("source"), Scalar("n" * 300)), (Scalar("destination"), Scalar("/tmp/x"))]),
             Map([(Scalar("bogusarg"), Scalar("1"))]), Map([(Scalar("name"), Scalar("nosuchrole"))])]
    return draw(mostly(st.sampled_from(choices.get(key, [Scalar("x")])), st.sampled_from(wrong) | values))


@st.composite
def tasks(draw, depth: int = 0):
    pairs = []
    if draw(st.integers(0, 19)) > 0:
        number = draw(st.integers(0, 10**6)) if draw(st.integers(0, 9)) else draw(st.integers(0, 3))
        pairs.append((Scalar("name"), draw(mostly(st.sampled_from([Scalar(f"task {number}"), Scalar(f"t{number} ✓")]),
                                                  scalars))))
    module_count = draw(st.sampled_from([1] * 18 + [0, 2]))
    keys_here = GOOD_MODULE_KEYS if depth < 6 else GOOD_MODULE_KEYS[:4]
    for key in draw(st.lists(mostly(st.sampled_from(keys_here), st.sampled_from(BAD_MODULE_KEYS)),
                             min_size=module_count, max_size=module_count)):
        pairs.append((Scalar(key), draw(module_arguments(key, depth))))
    for option in draw(st.lists(st.sampled_from(OPTIONS + list(BAD_OPTIONS)), max_size=2, unique=True)):
        good = st.sampled_from(GOOD_OPTION_VALUES.get(option, [BAD_OPTIONS.get(option, "x")]))
        pairs.append((Scalar(option), draw(mostly(good.map(Scalar), values))))
    task = Map(draw(st.permutations(pairs)), flow=draw(st.booleans()) and draw(st.booleans()))
    if draw(st.integers(0, 49)) == 0:
        return draw(values)  # not a mapping at all
    return task


@st.composite
def task_lists(draw, depth: int = 0):
    if depth > 8:
        return Seq([Map([(Scalar("name"), Scalar(f"leaf {depth}")), (Scalar("echo"), Scalar("hi"))])])
    items = draw(st.lists(tasks(depth), min_size=1, max_size=3 if depth < 3 else 2))
    return Seq(items, flow=draw(st.booleans()) and draw(st.booleans()))


def deeply_nested_task(depth: int, flow: bool, kinds: list[str]):
    """`depth` levels of serial/parallel blocks around one leaf (when deep, as flow text: no recursion, no indent)."""
    if depth > 60:
        opening = "".join(f"[{{name: 'level {level}', {kinds[level % len(kinds)]}: " for level in range(depth))
        return Scalar(opening + "[{name: leaf, echo: hi}]" + "}]" * depth)
    tasks_ = Seq([Map([(Scalar("name"), Scalar("leaf")), (Scalar("echo"), Scalar("hi"))], flow=flow)], flow=flow)
    for level in range(depth):
        kind = kinds[level % len(kinds)]
        tasks_ = Seq([Map([(Scalar("name"), Scalar(f"level {level}")), (Scalar(kind), tasks_)], flow=flow)], flow=flow)
    return tasks_


deep_task_lists = st.builds(deeply_nested_task, st.integers(30, 60) | st.integers(1, 5000),
                            st.booleans(), st.lists(st.sampled_from(["serial", "parallel"]), min_size=1, max_size=3))

RUNBOOK_OPTIONS = {
    "description": [Scalar("fuzz")], "hosts": [Scalar("localhost"), Scalar("\"${host}\""), Seq([Scalar("a")])],
    "sudo": [Scalar("false")], "vars": [Map([(Scalar("x"), Scalar("1"))])],
    "vars_files": [Seq([Scalar("more.yml")])], "flow": [Scalar("parallel")], "facts": [Scalar("false")],
    "strategy": [Scalar("free")], "rolling": [Scalar("2"), Scalar("\"30%\"")],
}
LONG = "n" * 300  # longer than a file name may be
WRONG_RUNBOOK_OPTIONS = [("vars_files", Seq([Scalar("missing.yml")])), ("vars_files", Seq([Scalar(LONG)])),
                         ("handlers", Seq([])), ("taks", Scalar("x")), ("rolling", Scalar("\"²%\"")),
                         ("rolling", Scalar("\"٣%\"")), ("hosts", Scalar("\"\\t\""))]


@st.composite
def runbooks(draw):
    pairs = [(Scalar("name"), draw(mostly(st.sampled_from([Scalar("fuzz"), Scalar("fuzz ✓")]), scalars)))]
    choice = draw(st.integers(0, 29))
    task_list = draw(deep_task_lists) if choice == 0 else draw(task_lists())
    pairs.append((Scalar("tasks"), task_list if choice != 1 else draw(values)))
    for option in draw(st.lists(st.sampled_from(sorted(RUNBOOK_OPTIONS)), max_size=4, unique=True)):
        pairs.append((Scalar(option), draw(mostly(st.sampled_from(RUNBOOK_OPTIONS[option]), values))))
    if draw(st.integers(0, 9)) == 0:
        key, value = draw(st.sampled_from(WRONG_RUNBOOK_OPTIONS))
        pairs.append((Scalar(key), value))
    what_vars = draw(st.integers(0, 19))
    if what_vars == 0:
        pairs.append((Scalar("vars"), draw(laughs())))
    elif what_vars == 1:
        pairs.append((Scalar("vars"), Map([(Scalar("deep"), draw(deep_values))])))
    document = Map(draw(st.permutations(pairs)))
    if draw(st.integers(0, 49)) == 0:
        document = draw(values)
    return document


@st.composite
def junk(draw, text: str) -> bytes:
    """The rendered text as bytes, now and then with junk bytes inserted or the end cut off."""
    data = text.encode("utf-8")
    what = draw(st.integers(0, 19))
    if what == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    elif what == 1:
        data = data[: draw(st.integers(0, len(data)))]
    return data


INVENTORIES = ["web: [127.0.0.1]\n", "web: [{host: 127.0.0.1, port: 22, username: root}]\n", "127.0.0.1\n",
               "- {host: 127.0.0.1, port: 22, username: root}\n", "[]\n",
               "web: {a: 1}\n", "{}\n", "- 1\n", "web: [{name: w1, host: 127.0.0.1, keyfile: k}]\n"]


variable_files = mostly(st.builds(Map, st.lists(st.tuples(st.sampled_from(["x", "y", "z", "v"]).map(Scalar), values),
                                             max_size=4, unique_by=lambda pair: pair[0].text)),
                        values | laughs())


@st.composite
def hostile_projects(draw) -> dict[str, bytes]:
    """An AutomateJS-layout project (file name -> content) where anything may be wrong."""
    files = {"run.yml": draw(junk(render(draw(runbooks())))),
             "files/f.txt": b"hello\n",
             "templates/t.j2": draw(st.sampled_from([b"{{ x }}\n", b"{% if %}\n", b"${x}\n"])),
             "inc.yml": b"name: inc\ntasks: [{name: i, echo: hi}]\n"}
    if draw(st.integers(0, 3)) == 0:
        included = Map([(Scalar("name"), Scalar("inc")), (Scalar("tasks"), draw(task_lists(5)))])
        files["inc.yml"] = draw(junk(render(included)))
    if draw(st.integers(0, 3)) == 0:
        files["var.yml"] = draw(junk(render(draw(variable_files))))
    files["more.yml"] = draw(junk(render(draw(variable_files))))
    if draw(st.integers(0, 4)) == 0:
        files["inventory.yml"] = draw(mostly(st.sampled_from(INVENTORIES).map(str.encode),
                                             st.builds(render, values).map(str.encode)))
    return files


# -- runbooks that should validate: deep nesting, aliases, unicode, every kind of task --------------

words = st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=8)
clean_scalars = st.sampled_from(PLAIN).map(Scalar) | words.map(_quoted) | st.integers(-(2**40), 2**40).map(
    lambda n: Scalar(str(n)))
variable_names = st.sampled_from(["x", "y", "z", "v", "w", "ünï", "'no'", "'on'", "'True'", "'null'", "v" * 200]).map(
    Scalar)


def _variables(children):
    return st.builds(Map, st.lists(st.tuples(variable_names, children), max_size=3, unique_by=lambda p: p[0].text),
                     st.booleans())


clean_values = st.recursive(clean_scalars, lambda children: st.builds(Seq, st.lists(children, max_size=3),
                                                                      st.booleans()) | _variables(children),
                            max_leaves=8)
LEAF_KINDS = ["echo", "shell", "file", "template", "debug", "ansible.builtin.command", "include"]
CLEAN_ARGUMENTS = {
    "echo": Scalar("\"${x | default('hi')}\""),
    "shell": Scalar("\"echo ${x | default(1)}\""),
    "file": Map([(Scalar("source"), Scalar("f.txt")), (Scalar("destination"), Scalar("/tmp/rb2a-fuzz/f")),
                 (Scalar("mode"), Scalar("'0644'"))]),
    "template": Map([(Scalar("source"), Scalar("t.j2")), (Scalar("destination"), Scalar("/tmp/rb2a-fuzz/t"))]),
    "debug": Map([(Scalar("msg"), Scalar("\"${x | default(1)}\""))]),
    "ansible.builtin.command": Scalar("echo hi"),
    "include": Map([(Scalar("runbook"), Scalar("inc.yml"))]),
}
LEAF_OPTIONS = ["timeout", "retries", "delay", "until", "register", "changed_when", "failed_when", "loop"]


@st.composite
def clean_task(draw, names: list, depth: int, max_depth: int, alias: bool):
    names.append(draw(words))
    pairs = [(Scalar("name"), _quoted(f"{len(names)} {names[-1]}"))]
    block = depth < max_depth and draw(st.integers(0, 2)) == 0
    if block:
        children = draw(st.integers(1, 3 if depth < 4 else 1))
        kind = draw(st.sampled_from(["serial", "parallel"]))
        pairs.append((Scalar(kind), Seq([draw(clean_task(names, depth + 1, max_depth, alias))
                                         for _ in range(children)], flow=draw(st.booleans()))))
        options = [o for o in OPTIONS if o not in LEAF_OPTIONS]
    else:
        kind = draw(st.sampled_from(LEAF_KINDS))
        pairs.append((Scalar(kind), CLEAN_ARGUMENTS[kind]))
        options = [o for o in OPTIONS if o not in LEAF_OPTIONS] if kind == "include" else OPTIONS
    for option in draw(st.lists(st.sampled_from(options), max_size=2, unique=True)):
        value = draw(st.sampled_from(GOOD_OPTION_VALUES[option]).map(Scalar))
        if option == "vars":
            value = Map([(Scalar("y"), Alias("shared") if alias else draw(clean_values))])
        pairs.append((Scalar(option), value))
    return Map(draw(st.permutations(pairs)), flow=draw(st.booleans()) and draw(st.booleans()))


@st.composite
def clean_runbooks(draw):
    names: list[str] = []
    alias = draw(st.booleans())
    max_depth = draw(st.sampled_from([2, 3, 4, 8, 47]))
    pairs = [(Scalar("name"), _quoted(draw(mostly(words, st.sampled_from(["x" * 300, "é" * 200, "../..", "✓"])))))]
    if alias:  # before the tasks, so every alias comes after its anchor
        shared = draw(clean_values)
        shared = shared if isinstance(shared, (Seq, Map)) else Seq([shared])
        shared.anchor = "shared"
        pairs.append((Scalar("vars"), Map([(Scalar("x"), shared)])))
    for option in draw(st.lists(st.sampled_from(sorted(RUNBOOK_OPTIONS)), max_size=3, unique=True)):
        if option != "vars" or not alias:
            pairs.append((Scalar(option), draw(st.sampled_from(RUNBOOK_OPTIONS[option]))))
    tasks_ = [draw(clean_task(names, 0, max_depth, alias)) for _ in range(draw(st.integers(1, 4)))]
    pairs.append((Scalar("tasks"), Seq(tasks_)))
    return Map(pairs)


@st.composite
def clean_projects(draw) -> dict[str, bytes]:
    inc = Map([(Scalar("name"), Scalar("inc")), (Scalar("tasks"), Seq([Map([(Scalar("name"), Scalar("i")),
                                                                              (Scalar("echo"), Scalar("hi"))])]))])
    files = {"run.yml": render(draw(clean_runbooks())).encode(), "files/f.txt": b"hello\n",
             "templates/t.j2": b"{{ x | default(1) }}\n", "inc.yml": render(inc).encode(),
             "more.yml": render(draw(_variables(clean_values))).encode()}
    if draw(st.booleans()):
        files["var.yml"] = render(draw(_variables(clean_values))).encode()
    if draw(st.booleans()):
        files["inventory.yml"] = draw(st.sampled_from(INVENTORIES[:2])).encode()
    return files


projects = st.one_of(clean_projects(), hostile_projects())
