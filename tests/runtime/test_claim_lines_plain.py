"""Claim lines read by orjson (runtime/claims.py ``_plain_object``) against the json
module's reading: the same object, or the same refusal.

The fast reading is taken only where both read the same: no backslash, no number, as
many keys as ``":`` in the text.  Every other line goes the json module's way.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from yibao.runtime.claims import ClaimError, _plain_object, decode_claim_line

PLAIN = ('{"claim_id": "bx-1", "person_id": "p-1", "date": "2023-12-28", '
         '"identities": ["低保对象"], "paid": {"基本医保": "1590.00", "大病保险": "0.00"}, '
         '"note": null, "flag": true}')


def reference(text: str) -> dict:
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


@pytest.mark.parametrize("text", [PLAIN, PLAIN.encode("utf-8")])
def test_a_plain_line_is_read_fast_and_as_the_json_module_reads_it(text):
    assert _plain_object(text) is not None
    decoded = decode_claim_line(text, 1)
    assert decoded == reference(PLAIN)
    assert list(decoded) == list(reference(PLAIN))     # keys in the line's order


@pytest.mark.parametrize("text", [
    PLAIN.replace('"1590.00"', "1590.10"),              # a number: a Decimal, not a float
    PLAIN.replace('"bx-1"', '"bx-\\u0031"'),            # an escape
    PLAIN.replace('"claim_id":', '"claim_id" :'),       # a key not followed by '":'
    PLAIN.replace('"note": null', '"note": "a \\":"'),  # '":' inside a string
])
def test_other_lines_are_read_by_the_json_module(text):
    assert _plain_object(text) is None
    decoded = decode_claim_line(text, 1)
    assert decoded == reference(text)
    if "1590.10" in text:
        assert decoded["paid"]["基本医保"] == Decimal("1590.10")


def test_a_key_given_twice_is_refused_as_before():
    text = PLAIN.replace('"flag": true', '"flag": true, "claim_id": "bx-2"')
    assert _plain_object(text) is None
    with pytest.raises(ClaimError) as refused:
        decode_claim_line(text, 3)
    assert (refused.value.code, refused.value.line_number) == ("C300", 3)
    assert "given twice" in refused.value.message
