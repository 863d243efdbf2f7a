"""The policy grammar's LALR tables kept between runs (dsl/parser.py, core/cache.py):
a parser loaded from the file parses as one built afresh, and a damaged file is
built again, never an error."""

from __future__ import annotations

import pytest

from helpers import POLICIES
from yibao.dsl import parser


@pytest.fixture
def fresh_parser(tmp_path, monkeypatch):
    monkeypatch.setenv("YIBAO_CACHE_DIR", str(tmp_path))
    parser._lark.cache_clear()
    yield tmp_path / "grammar" / "policy-lalr.pickle"
    parser._lark.cache_clear()   # the next test builds its own, from its own cache


def _parsed(text: str):
    parser._lark.cache_clear()
    return parser.parse_policy(text, "benxi-2023.policy")


def test_tables_from_the_file_parse_as_tables_built_afresh(fresh_parser, monkeypatch):
    text = (POLICIES / "benxi-2023.policy").read_text(encoding="utf-8")
    built = _parsed(text)                      # builds the tables and writes the file
    assert fresh_parser.stat().st_size > 10_000
    assert _parsed(text) == built              # read back from the file
    monkeypatch.setenv("YIBAO_CACHE_DIR", "off")
    assert parser._tables_file() is False
    assert _parsed(text) == built              # no cache at all


@pytest.mark.parametrize("damage", [b"", b"not a digest\n", None])
def test_a_damaged_file_is_built_again(fresh_parser, damage):
    text = (POLICIES / "benxi-2023.policy").read_text(encoding="utf-8")
    built = _parsed(text)
    data = fresh_parser.read_bytes()
    fresh_parser.write_bytes(data[: len(data) // 2] if damage is None else damage)
    assert _parsed(text) == built
    # and written whole again (a pickle's bytes vary between processes: not compared)
    assert fresh_parser.read_bytes().split(b"\n")[0] == data.split(b"\n")[0]
    assert _parsed(text) == built
