"""Claims in the exchange format of DOMAIN.md §5: reading, validation, errors.

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
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from yibao.core.money import FEN, MAX_AMOUNT
from yibao.dsl.model import Policy

REQUIRED = ("claim_id", "person_id", "date", "identities", "scheme", "visit", "total_cost",
            "in_scope_cost")
OPTIONAL = ("paid",)
MAX_COUNT = 100_000
MAX_TEXT = 200
MAX_IDENTITIES_PER_CLAIM = 50


@attrs.frozen
class ClaimError(Exception):
    code: str
    claim_id: str | None
    field: str | None
    message: str
    hint: str = ""
    line_number: int | None = None

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
        return data


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
    from_bytes = isinstance(text, bytes)
    if from_bytes:
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ClaimError("C300", None, None, f"not UTF-8 (byte {error.start})",
                             "claims files are UTF-8 JSON Lines", line_number) from None
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


def _json_words(value: Any) -> str:
    """A decoded JSON value as the claim wrote it (numbers are Decimals here)."""
    if isinstance(value, Decimal):
        return f"the number {value}"
    return json.dumps(value, ensure_ascii=False, default=str)


def validate_claim(record: dict, policy: Policy, version_of=None) -> Claim:
    """Check a decoded record against DOMAIN.md §5 and the policy in force; raise ClaimError.

    ``version_of(date, claim_id)`` picks the policy version in force on the
    claim's date; by default ``policy`` itself is used.
    """
    from yibao.compiler.admission import validator_for

    return validator_for(policy).validate(record, version_of)
