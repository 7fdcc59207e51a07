"""Which tasks --tags / --skip-tags leave out, by the rule of Ansible's own Taggable.evaluate_tags."""

from __future__ import annotations

import pytest

from translator.tag_selection import TagSelection

UNTAGGED = frozenset({"untagged"})


@pytest.mark.parametrize(("tags", "skip_tags", "task_tags", "selected"), [
    (None, None, UNTAGGED, True),
    (None, None, {"never"}, False),  # `never` runs only when asked for by name
    ("never", None, {"never"}, True),
    ("x", None, UNTAGGED, False),
    ("x", None, {"x", "y"}, True),
    ("x", None, {"always"}, True),
    ("untagged", None, UNTAGGED, True),
    ("tagged", None, {"y"}, True),
    ("tagged", None, UNTAGGED, False),
    (None, "x", {"x"}, False),
    (None, "all", {"always"}, True),
    (None, "all,always", {"always"}, False),
    (None, "tagged", {"y"}, False),
    ("x", "x", {"x"}, False),  # skipping wins
    ("x,y", None, {"${which}"}, True),  # known only on the host: assumed selected
])
def test_selection_follows_ansible(tags, skip_tags, task_tags, selected):
    assert TagSelection.from_options(tags, skip_tags).selects(frozenset(task_tags)) is selected


def test_the_reason_names_the_options_given():
    assert TagSelection.from_options("b,a", "c").describe() == "--tags a,b --skip-tags c"
    assert TagSelection.from_options(None, "c").describe() == "--skip-tags c"
