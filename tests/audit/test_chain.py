"""The chain format: canonical JSON, SHA-256 of its UTF-8 bytes, each body naming its predecessor."""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import sqlite3
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import EXAMPLES, POLICIES
from yibao.audit.chain import GENESIS, canonical_bytes, canonical_json, link
from yibao.cli.main import EXIT_CLAIMS_FAILED, main

FIXTURES = pathlib.Path(__file__).parent / "fixtures"


def test_canonical_json_sorts_keys_keeps_chinese_and_drops_white_space():
    assert canonical_json({"b": [1, "基本救助"], "a": {"z": None, "y": True}}) == \
        '{"a":{"y":true,"z":null},"b":[1,"基本救助"]}'


@pytest.mark.parametrize("number", [Decimal("7800.00"), 7800.0])
def test_money_must_already_be_a_string(number):
    # A float or Decimal in a body would make its bytes depend on how it is printed.
    with pytest.raises(TypeError):
        canonical_json({"amount": number})


def test_link_hashes_the_exact_body_with_seq_prev_and_format():
    body, digest = link({"claim_id": "a"}, 1, GENESIS)
    # Records are written in the fourth format (no trace, no year_to_date_from), whatever
    # they hold.
    assert body == ('{"claim_id":"a","format":"yibao-audit/4","prev":"%s","seq":1}' % GENESIS)
    assert digest == hashlib.sha256(body.encode("utf-8")).hexdigest()
    second, _ = link({"claim_id": "b"}, 2, digest)
    assert f'"prev":"{digest}"' in second


# ---- canonical JSON by orjson: the same bytes as the json module, or the hashes change ----
def _json_module(data) -> bytes:
    """The encoder every record before orjson was hashed with."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


# Every code point but the surrogates (not encodable as UTF-8), the control characters and
# the characters json and orjson could escape differently weighted in.
_TEXT = st.text(st.one_of(st.characters(blacklist_categories=("Cs",)),
                          st.sampled_from('"\\/\x00\x01\x08\t\n\x0b\x0c\r\x1f\x7f\x80'
                                          '\u2028\u2029\ufeff基本救助')))
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**64 - 1) | _TEXT,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_TEXT, inner, max_size=5),
    max_leaves=40)


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(_VALUES)
def test_canonical_bytes_equal_the_json_modules_on_any_plain_value(value):
    assert canonical_bytes(value) == _json_module(value)
    assert canonical_bytes(value, checked=True) == _json_module(value)
    assert canonical_json(value) == _json_module(value).decode()


@pytest.mark.parametrize("value", [
    {"big": 2**64, "small": -2**63 - 1},      # past orjson's 64 bits
    {2: "b", 1: "a"},                          # keys that are not strings
    {"lone": "\ud800"},                        # a lone surrogate: text, not UTF-8
    {"subclass": type("Str", (str,), {})("x")},
])
def test_what_orjson_does_not_write_the_json_module_writes_as_before(value):
    assert canonical_json(value) == json.dumps(value, ensure_ascii=False, sort_keys=True,
                                               separators=(",", ":"))


def test_real_records_encode_to_the_bytes_they_were_hashed_as(tmp_path):
    # A book written by an earlier yibao (json module), and the records of a run now:
    # every body, decoded and encoded again, is the same bytes, so every hash holds.
    old = sqlite3.connect(FIXTURES / "book-v2.db")
    bodies = [body for (body,) in old.execute("SELECT body FROM records ORDER BY seq")]
    old.close()
    assert len(bodies) == 9     # the fixture: settlements, adjustments, a withdrawal…
    book = str(tmp_path / "book.db")
    assert main(["settle", str(POLICIES / "benxi-2023.policy"),
                 str(EXAMPLES / "benxi-2023.jsonl"), "--book", book, "-o", os.devnull]) \
        == EXIT_CLAIMS_FAILED     # the example file holds refused claims too
    new = sqlite3.connect(book)
    bodies += [body for (body,) in new.execute("SELECT body FROM records ORDER BY seq")]
    new.close()
    for body in bodies:
        data = json.loads(body)
        assert canonical_bytes(data) == _json_module(data) == body.encode("utf-8")
        assert hashlib.sha256(canonical_bytes(data)).hexdigest() == \
            hashlib.sha256(body.encode("utf-8")).hexdigest()
