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

import orjson

FORMAT = "yibao-audit/1"        # an ``eval --record`` outcome with its trace (no ``kind``)
BOOK_FORMAT = "yibao-audit/2"   # a settlement book entry with its trace: ``kind`` says which
# What both wrote next: the same records without the trace.  A trace is some ten kB
# against one of two kB of figures; it is derived again from the claim, the policy and
# the claims before it, all in the store (audit/rederive.py), when it is shown.
UNTRACED_FORMAT = "yibao-audit/3"
# What both write since: /3 without a settlement's ``year_to_date_from``.  That list (the
# claims behind 本次前, each with the base and payout it added) is the prefix, up to the
# claim, of the ``claims`` of the ``ledger_after`` its event's first entry carries, so a
# settlement listed every earlier claim of its person-year twice, a third of its bytes;
# book.year_to_date_from derives it from that entry.  An ``eval --record`` body is the
# same in /3 and /4 (it never held the list).
RECORD_FORMAT = "yibao-audit/4"
UNTRACED_FORMATS = (UNTRACED_FORMAT, RECORD_FORMAT)   # records whose trace is derived
FORMATS = (FORMAT, BOOK_FORMAT, *UNTRACED_FORMATS)  # what verify, replay and show read
# The store's schema (meta.format): /1 without the book's index, /2 with it.  Records of
# any format live in a /2 store.
STORE_FORMATS = (FORMAT, BOOK_FORMAT)
# A SQLite book whose person-years are listed in book_years rather than found through an
# index of book_index by person-year (audit/sqlite_store.py, docs/book.md "The
# person-year table").  Its own name, so that a yibao that does not keep the lists
# refuses to write (and read) the book rather than append entries no list names.
LISTED_FORMAT = "yibao-store/3"
SQLITE_STORE_FORMATS = (*STORE_FORMATS, LISTED_FORMAT)
GENESIS = "0" * 64


# orjson writes the same bytes as ``json.dumps(ensure_ascii=False, sort_keys=True,
# separators=(",", ":"))`` for the values a body is made of (str, int within 64 bits,
# bool, None, dict with str keys, list, tuple): keys sorted by code point, only '"', '\\'
# and the control characters escaped, with the same short forms (tests/audit/
# test_chain.py checks it byte for byte, on generated values and on real records).  It
# is some six times faster, and the chain's hashes must not change, so anything else
# (a subclass, a non-string key, an integer past 64 bits, a lone surrogate) goes to the
# json module as before, which writes it, or refuses it, as it always did.
_ORJSON_OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS
                   | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS)


def canonical_bytes(data: Any, checked: bool = False) -> bytes:
    """The one encoding of a body that is hashed and stored, as UTF-8.

    ``checked``: ``data`` is known to hold only plain JSON values and no float (part of
    a body already encoded, or read back from one), so it is not walked again.
    """
    fast = _orjson(data, checked)
    return fast if fast is not None else _json_dumps(data).encode("utf-8")


def canonical_json(data: Any, checked: bool = False) -> str:
    """:func:`canonical_bytes` as text (a lone surrogate is written, as json writes it)."""
    fast = _orjson(data, checked)
    return fast.decode("utf-8") if fast is not None else _json_dumps(data)


def _orjson(data: Any, checked: bool) -> bytes | None:
    if checked or _plain(data):
        try:
            return orjson.dumps(data, default=_refuse, option=_ORJSON_OPTIONS)
        except orjson.JSONEncodeError:
            pass    # an integer past 64 bits, a lone surrogate: json writes it
    return None


def _json_dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      default=_refuse)


def _refuse(value: Any):
    # Money is a two-decimal string in records; a Decimal here is a bug.
    raise TypeError(f"{type(value).__name__} is not part of a record's canonical JSON")


def refuse_floats(data: Any) -> None:
    """Raise TypeError if ``data`` holds a float anywhere (see :func:`_plain`)."""
    _plain(data)


def _plain(data: Any) -> bool:
    """Whether ``data`` holds only exact str, int, bool, None, dict, list and tuple values
    (what orjson writes as json does); a float anywhere is refused.

    json writes floats itself (never calling ``default``), in a form that depends
    on how the number was computed: a body holds only strings, integers, booleans.
    A loop over exact types, not recursion: walked once per record written.
    """
    plain = True
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
        else:
            plain = False   # a subclass or another type: json decides, as before
            if isinstance(value, dict):
                pending.extend(value.values())
            elif isinstance(value, (list, tuple)):
                pending.extend(value)
    return plain


def parse_body(text: str | bytes) -> Any:
    """A body (or index entry) read back: orjson where it reads the text, else json (which
    also reads what orjson refuses, e.g. NaN or an integer past 64 bits, as it always did)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def body_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def link(fields: dict, seq: int, prev: str, format: str = RECORD_FORMAT, checked: bool = False
         ) -> tuple[str, str]:
    """(canonical body, hash) of a record holding ``fields`` at ``seq`` after ``prev``;
    ``checked`` as for :func:`canonical_bytes`."""
    body = canonical_bytes({**fields, "format": format, "seq": seq, "prev": prev}, checked)
    return body.decode("utf-8"), hashlib.sha256(body).hexdigest()
