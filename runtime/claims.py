"""Claims in the exchange format of docs/claims.md: reading, validation, errors.

A claim is read exactly: money from JSON strings or numbers without ever
passing through a float.  Every problem becomes a :class:`ClaimError` with a
stable ``C3xx`` code, the claim id and the field, and a hint; one bad claim
never stops a batch.
"""

from __future__ import annotations

import collections
import datetime
import json
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from yibao.core.money import FEN, MAX_AMOUNT

REQUIRED = ("claim_id", "person_id", "date", "identities", "scheme", "visit", "total_cost",
            "in_scope_cost")
OPTIONAL = ("paid",)
MAX_COUNT = 100_000
MAX_TEXT = 200
MAX_IDENTITIES_PER_CLAIM = 50


@attrs.frozen
class ClaimError(Exception):
    """Why a claim is refused.  A claim with several bad fields is refused once, with
    all of them (``problems``, each a ClaimError of its own code, field, message and
    hint, in the order the validator checks them); the error's code, field and hint
    are then the first problem's, and its message names every problem."""

    code: str
    claim_id: str | None
    field: str | None
    message: str
    hint: str = ""
    line_number: int | None = None
    problems: tuple["ClaimError", ...] = ()

    def __str__(self) -> str:
        where = f"claim {self.claim_id}" if self.claim_id else "claim"
        if self.field:
            where += f", field {self.field}"
        return f"{where}: {self.code} {self.message}"

    def to_json(self) -> dict:
        data: dict[str, Any] = {"claim_id": self.claim_id, "error": self.code,
                                "field": self.field, "message": self.message}
        if self.hint:
            data["hint"] = self.hint
        if self.line_number is not None:
            data["line"] = self.line_number
        if self.problems:
            data["problems"] = [problem.problem_json() for problem in self.problems]
        return data

    def problem_json(self) -> dict:
        """One problem of a claim refused for several: its code, field, message, hint."""
        data: dict[str, Any] = {"error": self.code, "field": self.field,
                                "message": self.message}
        if self.hint:
            data["hint"] = self.hint
        return data


def every_problem(problems: list[ClaimError], claim_id: str | None) -> ClaimError:
    """One error for a claim's problems (issue 21: all of them at once, not one per run).

    The first problem gives the code, the field and the hint, as when it was the only
    one, so a tool that reads ``error`` sees the same code as before; the message
    lists each problem with its own code and field, and ``problems`` keeps them apart.
    """
    if len(problems) == 1:
        return problems[0]
    problems = [attrs.evolve(p, claim_id=claim_id, line_number=None) for p in problems]
    first = problems[0]
    others = "; ".join(f"{p.code} {p.field or 'claim'}: {p.message}" for p in problems[1:])
    return ClaimError(first.code, claim_id, first.field,
                      f"{first.message}; also {others}", first.hint, None, tuple(problems))


@attrs.frozen
class Claim:
    claim_id: str
    person_id: str
    date: datetime.date
    identities: tuple[str, ...]
    scheme: str
    visit: str
    total_cost: Decimal
    in_scope_cost: Decimal
    paid: tuple[tuple[str, Decimal], ...]
    fields: dict[str, Any] = attrs.field(factory=dict, hash=False)
    raw: dict = attrs.field(factory=dict, eq=False, repr=False)

    def paid_amount(self, line: str) -> Decimal | None:
        for name, amount in self.paid:
            if name == line:
                return amount
        return None

    def field(self, name: str) -> Any:
        return self.fields[name]


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number")


class _KeyTwice(ValueError):
    """A JSON object names a key twice: readers disagree on which value counts."""


def _object_once(pairs: list) -> dict:
    record = dict(pairs)
    if len(record) != len(pairs):
        counts = collections.Counter(key for key, _ in pairs)
        raise _KeyTwice(next(key for key, count in counts.items() if count > 1))
    return record


# One decoder for every line: json.loads would build a new one per call.  Numbers
# stay exact (Decimal); NaN and Infinity are refused; so is a key given twice,
# which Python would read as its last value and other engines as their first.
_DECODER = json.JSONDecoder(parse_float=Decimal, parse_int=Decimal,
                            parse_constant=_reject_constant, object_pairs_hook=_object_once)


def decode_claim_line(text: str | bytes, line_number: int | None = None) -> dict:
    """One JSON Lines record → dict, numbers kept exact; raise ClaimError."""
    fast = _plain_object(text)
    if fast is not None:
        return fast
    from_bytes = isinstance(text, bytes)
    if from_bytes:
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ClaimError("C300", None, None, f"not UTF-8 (byte {error.start})",
                             not_utf8_hint(text), line_number) from None
    if line_number == 1 and text.startswith("\ufeff"):
        text = text[1:]  # a byte-order mark some editors write at the start of a file
    try:
        record = _DECODER.decode(text)
    except _KeyTwice as error:
        raise ClaimError("C300", _guess_claim_id(text), None,
                         f"the key {str(error)[:100]!r} is given twice in one object",
                         "give each field once: which value was meant is ambiguous",
                         line_number) from None
    except (ValueError, RecursionError) as error:
        raise ClaimError("C300", _guess_claim_id(text), None, f"not valid JSON: {error}",
                         "each line holds one complete JSON object", line_number) from None
    except ArithmeticError:
        raise ClaimError("C300", _guess_claim_id(text), None,
                         "not valid JSON: a number's exponent is out of range",
                         "write money as a string such as \"1234.50\"", line_number) from None
    if not isinstance(record, dict):
        raise ClaimError("C300", None, None, "a claim must be a JSON object",
                         "each line holds one JSON object {…}", line_number)
    # Half a character can only arrive as a \\u escape or already in a str (decoded
    # with surrogateescape; strict UTF-8 never yields one); most lines have neither,
    # so skip the walk.
    if (("\\u" in text or (not from_bytes and _SURROGATE.search(text)))
            and _has_lone_surrogate(record)):
        raise ClaimError("C300", None, None,
                         "a string holds a lone UTF-16 surrogate escape (\\ud800–\\udfff)",
                         "escape only whole characters; the writer produced broken text",
                         line_number)
    return record


_SURROGATE = re.compile("[\ud800-\udfff]")


def _plain_object(text: str | bytes) -> dict | None:
    """The line read by orjson where it reads what the json module reads, else None.

    That is a line with no backslash and no number, whose every ``":`` ends a key: no
    escape (so no surrogate half, no quote inside a string, hence no ``":`` but after a
    key), no number (orjson would make a float of it, not a Decimal), and as many keys
    as ``":`` in the text (so no key given twice, which the json module refuses).  Such
    a line is read in a tenth of the time (a daily run's claims are: money as strings);
    anything else, a byte-order mark, bad UTF-8 and bad JSON among it, goes the json
    module's way, with its errors.
    """
    import orjson   # (here: a batch run that never reads a line this way never imports it)

    if isinstance(text, bytes):
        if b"\\" in text:
            return None
        colons = text.count(b'":')
    else:
        if "\\" in text:
            return None
        colons = text.count('":')
    try:
        record = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if type(record) is not dict or _plain_keys(record) != colons:
        return None
    return record


def _plain_keys(value) -> int:
    """How many keys the value's objects hold, or -1 if it holds a number."""
    keys, pending = 0, [value]
    while pending:
        value = pending.pop()
        kind = type(value)
        if kind is dict:
            keys += len(value)
            pending.extend(value.values())
        elif kind is list:
            pending.extend(value)
        elif kind is int or kind is float:
            return -1
    return keys


def _has_lone_surrogate(record: dict) -> bool:
    """Whether any key or string in the record holds half a character (never printable)."""
    pending: list = [record]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def _guess_claim_id(text: str) -> str | None:
    """Salvage the claim id from a truncated line, so the error says which claim."""
    marker = '"claim_id"'
    start = text.find(marker)
    if start < 0:
        return None
    rest = text[start + len(marker):].lstrip(" :")
    if rest.startswith('"'):
        end = rest.find('"', 1)
        if end > 0:
            return rest[1:end][:MAX_TEXT]
    return None


def not_utf8_hint(data: bytes) -> str:
    """What to do about bytes that are not UTF-8: most such claims files were saved by
    Excel or another Windows program on a Chinese system, in GBK or GB18030."""
    try:
        data.decode("gb18030")
    except UnicodeDecodeError:
        return ("claims files are UTF-8 unless --encoding names another "
                "(utf-8, utf-8-sig, gbk, gb18030)")
    return ("the text reads as GBK/GB18030 (as Excel saves files on Chinese Windows): "
            "pass --encoding gbk (or gb18030), or save the file as UTF-8")


def parse_money(value: Any, claim_id: str | None, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, Decimal, int)):
        raise ClaimError("C302", claim_id, field, f"expected an amount, found {type(value).__name__}",
                         'write money as a string such as "1234.50"')
    if isinstance(value, str) and not _MONEY_TEXT.fullmatch(value):
        infinite = value.strip().lstrip("+-").lower() in ("nan", "snan", "inf", "infinity")
        raise ClaimError("C303", claim_id, field,
                         f"'{value}' is not a finite amount"[:200] if infinite
                         else f"'{value}' is not an amount"[:200],
                         'write money as a string of ASCII digits such as "1234.50"')
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError):
        raise ClaimError("C303", claim_id, field, f"'{value}' is not an amount",
                         'write money as a string such as "1234.50"') from None
    if not amount.is_finite():
        raise ClaimError("C303", claim_id, field, f"'{value}' is not a finite amount",
                         "NaN and Infinity are not amounts")
    if amount < 0:
        raise ClaimError("C303", claim_id, field, f"negative amount {value}",
                         "amounts are ≥ 0")
    if amount > MAX_AMOUNT:
        raise ClaimError("C303", claim_id, field, f"amount {value} is beyond any medical bill",
                         f"amounts are at most {MAX_AMOUNT}")
    if amount.as_tuple().exponent < -2 and amount != amount.quantize(FEN):
        raise ClaimError("C303", claim_id, field, f"{value} has more than 2 decimals",
                         "money is yuan with at most 2 decimals (fen)")
    return abs(amount).quantize(FEN)  # abs: "-0" is zero, written 0.00


# Money as text: ASCII digits with an optional point; no exponent, no grouping.
_MONEY_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _text(record: dict, field: str, claim_id: str | None) -> str:
    value = record[field]
    # The common case in one test: printable text has no control character, and its
    # only whitespace is the plain space, so it is blank only if it is all spaces.
    if (type(value) is str and 0 < len(value) <= MAX_TEXT and value.isprintable()
            and not value.isspace()):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ClaimError("C302", claim_id, field,
                         f"expected a non-empty string, found {_json_words(value)}"[:200],
                         f'write it as a JSON string, e.g. "{field}": "…"')
    if len(value) > MAX_TEXT:
        raise ClaimError("C302", claim_id, field, f"longer than {MAX_TEXT} characters")
    if _CONTROL.search(value):
        raise ClaimError("C302", claim_id, field, "holds a control character",
                         "ids and codes are printable text")
    return value


# An id made of these alone is taken as it stands: printable ASCII but the space.
_PLAIN_ID = re.compile(r"[!-~]+")
# Unicode general categories an id may not hold: controls, format characters (U+200B,
# U+202E, U+FEFF, U+2060, U+00AD …) and separators of every kind (spaces, U+2028).
_INVISIBLE = {"Cc": "a control character", "Cf": "an invisible format character",
              "Zs": "a space", "Zl": "a line separator", "Zp": "a paragraph separator"}


def _id(record: dict, field: str, claim_id: str | None) -> str:
    """A claim or person id: text that reads as exactly one id (issue 21).

    Ids are compared character by character, for the repeated-claim check (C312)
    and to add a person's claims up against the yearly caps.  An id with an
    invisible character (a zero-width space, a bidi override, a byte-order mark,
    a soft hyphen, U+0085, a trailing space) or a compatibility form that NFKC
    folds into another (full-width ``ｃ-1``, a non-breaking space) looks like an
    id already seen but is another: a fresh claim and a fresh cap.  Such ids are
    refused, never normalised: which person was meant is not ours to guess.
    backends/admission.py sends every id outside a safe repertoire to this check.
    """
    value = _text(record, field, claim_id)
    if _PLAIN_ID.fullmatch(value):   # most ids: nothing to look at
        return value
    for character in value:
        kind = _INVISIBLE.get(unicodedata.category(character))
        if kind:
            raise ClaimError("C302", claim_id, field,
                             f"holds {kind} ({_code_point(character)})",
                             "ids are compared character by character: with this character "
                             "it is another id than the one it looks like; remove it")
    if not unicodedata.is_normalized("NFKC", value):
        plain = unicodedata.normalize("NFKC", value)
        odd = next((c for c in value if unicodedata.normalize("NFKC", c) != c), None)
        which = f" ({_code_point(odd)})" if odd else ""
        raise ClaimError("C302", claim_id, field,
                         f"'{value}' is not in Unicode NFKC form{which}: it reads as "
                         f"'{plain}' but is another id"[:200],
                         f"write the id in plain characters, e.g. '{plain}'"[:200])
    return value


def _code_point(character: str) -> str:
    name = unicodedata.name(character, "")
    return f"U+{ord(character):04X} {name}" if name else f"U+{ord(character):04X}"


def _json_words(value: Any) -> str:
    """A decoded JSON value as the claim wrote it (numbers are Decimals here)."""
    if isinstance(value, Decimal):
        return f"the number {value}"
    return json.dumps(value, ensure_ascii=False, default=str)
