"""Which -e values are held back from a written directory because their names look secret."""

from __future__ import annotations

import time
from pathlib import Path

from translator.secret_vars import split_secrets

VAULTED = "$ANSIBLE_VAULT;1.1;AES256\n3132\n"


def test_names_anywhere_in_a_value_decide_and_plain_names_pass(tmp_path: Path):
    values = {"db_password": "x", "API_TOKEN": "y", "settings": {"nested": [{"private_key": "z"}]},
              "greeting": "hello", "count": 3}

    split = split_secrets(values, (), keep_secrets=False)

    assert split.values == {"greeting": "hello", "count": 3}
    assert sorted(split.withheld_values) == ["API_TOKEN", "db_password", "settings"]
    assert split_secrets(values, (), keep_secrets=True).values == values


def test_files_plain_with_secret_names_are_held_back_vaulted_ones_are_not(tmp_path: Path):
    plain, harmless, vaulted, inline, broken = (tmp_path / name for name in
                                                ("plain.yml", "harmless.yml", "vaulted.yml", "inline.yml", "bad.yml"))
    plain.write_text("service:\n  client_secret: s\n")
    harmless.write_text("colour: blue\n")
    vaulted.write_text(VAULTED)
    inline.write_text("api_key: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  3132\n")
    broken.write_text("a: [unclosed\n")

    split = split_secrets({}, (plain, harmless, vaulted, inline, broken), keep_secrets=False)

    assert split.files == (harmless, vaulted, inline)
    assert split.withheld_files == (plain, broken)
    assert split.withheld_names == ["@plain.yml", "@bad.yml"]


def test_an_alias_bomb_is_walked_once_per_node(tmp_path: Path):
    bomb = tmp_path / "bomb.yml"
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 9)]
    bomb.write_text("\n".join(levels) + "\n")

    started = time.monotonic()
    split = split_secrets({}, (bomb,), keep_secrets=False)

    assert split.files == (bomb,)
    assert time.monotonic() - started < 5  # 10**9 leaves if each alias were walked again
