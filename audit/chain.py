"""The hash chain: how a record's body is encoded and what its hash commits to.

A record's *body* is one JSON object in canonical form (keys sorted, no
insignificant white space, UTF-8, no floating-point numbers); its hash is the
SHA-256 of those bytes, written as 64 lower-case hex digits.  Every body
carries ``seq`` (1, 2, 3, … with no gaps) and ``prev``, the hash of record
``seq − 1`` (:data:`GENESIS` for the first), so altering, removing or
reordering any record breaks the chain from that record on.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

FORMAT = "yibao-audit/1"        # an ``eval --record`` outcome with its trace (no ``kind``)
BOOK_FORMAT = "yibao-audit/2"   # a settlement book entry with its trace: ``kind`` says which
# What both write since: the same records without the trace.  A trace is some ten kB
# against one of two kB of figures; it is derived again from the claim, the policy and
# the claims before it, all in the store (audit/rederive.py), when it is shown.
RECORD_FORMAT = "yibao-audit/3"
FORMATS = (FORMAT, BOOK_FORMAT, RECORD_FORMAT)  # what verify, replay and show read
# The store's schema (meta.format): /1 without the book's index, /2 with it.  Records of
# any format live in a /2 store.
STORE_FORMATS = (FORMAT, BOOK_FORMAT)
GENESIS = "0" * 64


def canonical_json(data: Any, checked: bool = False) -> str:
    """The one encoding of a body that is hashed and stored.

    ``checked``: ``data`` is known to hold no float (part of a body already encoded, or
    read back from one), so it is not walked again.
    """
    if not checked:
        _refuse_floats(data)
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      default=_refuse)


def _refuse(value: Any):
    # Money is a two-decimal string in records; a Decimal here is a bug.
    raise TypeError(f"{type(value).__name__} is not part of a record's canonical JSON")


def _refuse_floats(data: Any) -> None:
    # json writes floats itself (never calling ``default``), in a form that depends
    # on how the number was computed: a body holds only strings, integers, booleans.
    # A loop over exact types, not recursion: walked once per record written.
    pending = [data]
    while pending:
        value = pending.pop()
        kind = type(value)
        if kind is str or kind is int or kind is bool or value is None:
            continue
        if kind is dict:
            pending.extend(value.values())
        elif kind is list or kind is tuple:
            pending.extend(value)
        elif isinstance(value, float):
            _refuse(value)
        elif isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, (list, tuple)):
            pending.extend(value)


def body_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def link(fields: dict, seq: int, prev: str, format: str = RECORD_FORMAT) -> tuple[str, str]:
    """(canonical body, hash) of a record holding ``fields`` at ``seq`` after ``prev``."""
    body = canonical_json({**fields, "format": format, "seq": seq, "prev": prev})
    return body, body_hash(body)
