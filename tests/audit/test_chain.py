"""The chain format: canonical JSON, SHA-256 of its UTF-8 bytes, each body naming its predecessor."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest

from yibao.audit.chain import GENESIS, canonical_json, link


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
    # Records are written in the third format (no trace), whatever they hold.
    assert body == ('{"claim_id":"a","format":"yibao-audit/3","prev":"%s","seq":1}' % GENESIS)
    assert digest == hashlib.sha256(body.encode("utf-8")).hexdigest()
    second, _ = link({"claim_id": "b"}, 2, digest)
    assert f'"prev":"{digest}"' in second
