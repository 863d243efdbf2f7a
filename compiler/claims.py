"""Claims in the exchange format of DOMAIN.md §5: reading, validation, errors.

A claim is read exactly: money from JSON strings or numbers without ever
passing through a float.  Every problem becomes a :class:`ClaimError` with a
stable ``C3xx`` code, the claim id and the field, and a hint; one bad claim
never stops a batch.
"""

from __future__ import annotations

import datetime
import difflib
import json
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from yibao.core.money import FEN, MAX_AMOUNT
from yibao.dsl.model import SCHEMES, VISITS, Policy

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


def decode_claim_line(text: str | bytes, line_number: int | None = None) -> dict:
    """One JSON Lines record → dict, numbers kept exact; raise ClaimError."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ClaimError("C300", None, None, f"not UTF-8 (byte {error.start})",
                             "claims files are UTF-8 JSON Lines", line_number) from None
    try:
        record = json.loads(text, parse_float=Decimal, parse_int=Decimal,
                            parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise ClaimError("C300", _guess_claim_id(text), None, f"not valid JSON: {error}",
                         "each line holds one complete JSON object", line_number) from None
    if not isinstance(record, dict):
        raise ClaimError("C300", None, None, "a claim must be a JSON object",
                         "each line holds one JSON object {…}", line_number)
    return record


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
    try:
        amount = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
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
    return amount.quantize(FEN)


def _text(record: dict, field: str, claim_id: str | None) -> str:
    value = record[field]
    if not isinstance(value, str) or not value.strip():
        raise ClaimError("C302", claim_id, field,
                         f"expected a non-empty string, found {_json_words(value)}"[:200],
                         f'write it as a JSON string, e.g. "{field}": "…"')
    if len(value) > MAX_TEXT:
        raise ClaimError("C302", claim_id, field, f"longer than {MAX_TEXT} characters")
    return value


def _json_words(value: Any) -> str:
    """A decoded JSON value as the claim wrote it (numbers are Decimals here)."""
    if isinstance(value, Decimal):
        return f"the number {value}"
    return json.dumps(value, ensure_ascii=False, default=str)


def _choice(record: dict, field: str, choices: tuple[str, ...], claim_id: str) -> str:
    value = _text(record, field, claim_id)
    if value not in choices:
        close = difflib.get_close_matches(value, choices, n=1, cutoff=0.3)
        raise ClaimError("C313", claim_id, field, f"unknown {field} {value}",
                         f"did you mean {close[0]}?" if close else "one of " + ", ".join(choices))
    return value


def validate_claim(record: dict, policy: Policy, version_of=None) -> Claim:
    """Check a decoded record against DOMAIN.md §5 and the policy in force; raise ClaimError.

    ``version_of(date)`` picks the policy version in force on the claim's date;
    by default ``policy`` itself is used.
    """
    claim_id = record.get("claim_id")
    claim_id = claim_id if isinstance(claim_id, str) and claim_id else None
    for field in REQUIRED:
        if field not in record:
            raise ClaimError("C301", claim_id, field, f"missing required field {field}",
                             "DOMAIN.md §5 lists the required fields")
    claim_id = _text(record, "claim_id", None)
    person_id = _text(record, "person_id", claim_id)
    date = _date(record, claim_id)
    if version_of is not None:
        policy = version_of(date, claim_id)
    identities = _identities(record, policy, claim_id)
    scheme = _choice(record, "scheme", SCHEMES, claim_id)
    if scheme not in policy.schemes:
        raise ClaimError("C314", claim_id, "scheme", f"{policy.policy_id} does not cover {scheme}",
                         "covered: " + ", ".join(policy.schemes))
    visit = _choice(record, "visit", VISITS, claim_id)
    total = parse_money(record["total_cost"], claim_id, "total_cost")
    in_scope = parse_money(record["in_scope_cost"], claim_id, "in_scope_cost")
    if in_scope > total:
        raise ClaimError("C304", claim_id, "in_scope_cost",
                         f"in_scope_cost {in_scope} exceeds total_cost {total}",
                         "the in-scope part of a bill cannot exceed the bill")
    fields = _declared_fields(record, policy, claim_id)
    paid = _paid(record, policy, claim_id)
    claim = Claim(claim_id, person_id, date, identities, scheme, visit, total, in_scope, paid,
                  fields, record)
    check_upstream_bounds(claim, policy)
    return claim


def _date(record: dict, claim_id: str) -> datetime.date:
    value = _text(record, "date", claim_id)
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ClaimError("C302", claim_id, "date", f"'{value}' is not a date",
                         "write dates as YYYY-MM-DD") from None


def _identities(record: dict, policy: Policy, claim_id: str) -> tuple[str, ...]:
    value = record["identities"]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ClaimError("C302", claim_id, "identities", "expected a list of identity names",
                         'e.g. ["低保对象"] or []')
    if len(value) > MAX_IDENTITIES_PER_CLAIM:
        raise ClaimError("C302", claim_id, "identities", "too many identities")
    known = [identity.name for identity in policy.identities]
    for name in value:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.4)
            raise ClaimError("C305", claim_id, "identities",
                             f"{policy.policy_id} does not know the identity {name}",
                             f"did you mean {close[0]}?" if close else
                             "known: " + ", ".join(known))
    return tuple(dict.fromkeys(value))


def _paid(record: dict, policy: Policy, claim_id: str):
    paid_raw = record.get("paid", {})
    if not isinstance(paid_raw, dict):
        raise ClaimError("C302", claim_id, "paid", "expected an object of line → amount")
    computed = {line.name for line in policy.computed_lines}
    upstream = [line.name for line in policy.upstream_lines]
    for name in paid_raw:
        if name in computed:
            raise ClaimError("C309", claim_id, f"paid.{name}",
                             f"{name} is computed by {policy.policy_id}, not settled upstream",
                             f"remove paid.{name}; yibao computes it")
        if name not in upstream:
            raise ClaimError("C306", claim_id, f"paid.{name}", f"unknown line {name}",
                             "upstream lines: " + ", ".join(upstream))
    paid = []
    for name in upstream:
        if name not in paid_raw:
            raise ClaimError("C307", claim_id, f"paid.{name}",
                             f"missing the upstream payout of {name}",
                             f"a missing payout is never taken as 0: give paid.{name} (\"0.00\" if "
                             "it paid nothing)")
        paid.append((name, parse_money(paid_raw[name], claim_id, f"paid.{name}")))
    return tuple(paid)


def check_upstream_bounds(claim: Claim, policy: Policy) -> None:
    """What other systems paid must fit what the notice lets each line pay (C308).

    By default a line pays within the in-scope cost less the earlier lines
    (out-of-catalogue costs are never paid, Jilin §二(一)); a line may declare
    another base, chosen by a condition (Jilin 2020: out-of-province claims).
    """
    from yibao.compiler.conditions import holds

    paid = dict(claim.paid)
    earlier: list[str] = []
    held = {policy.effective_identity(name) for name in claim.identities} | set(claim.identities)
    for line in policy.lines:
        if line.upstream:
            amount = paid[line.name]
            terms, rule = line.base_terms, line.base_rule
            for condition, conditional_terms, conditional_rule in line.conditional_bases:
                if holds(condition, claim.field):
                    terms, rule = conditional_terms, conditional_rule
                    break
            if terms:
                start, *minus = terms
                bound = getattr(claim, start) - sum((paid.get(t, Decimal(0)) for t in minus),
                                                    Decimal(0))
                words = " − ".join(terms)
            else:
                bound = claim.in_scope_cost - sum((paid[t] for t in earlier if t in paid),
                                                  Decimal(0))
                words = "in_scope_cost − " + " − ".join(earlier) if earlier else "in_scope_cost"
            citation = rule.citation if rule and rule.citation else line.citation
            clause = f" (§{citation.clause})" if citation else ""
            if amount > max(bound, Decimal(0)):
                raise ClaimError(
                    "C308", claim.claim_id, f"paid.{line.name}",
                    f"{line.name} paid {amount}, more than it may pay: {words} = {bound}{clause}",
                    "upstream payouts are checked against the notice: costs outside the "
                    "catalogue are never paid, and the lines together never exceed the bill")
            if line.members is not None and amount > 0 and not held & set(line.members):
                raise ClaimError(
                    "C308", claim.claim_id, f"paid.{line.name}",
                    f"{line.name} pays only {', '.join(line.members)}, but paid {amount}",
                    "check the person's identities or the upstream settlement")
        earlier.append(line.name)


def _declared_fields(record: dict, policy: Policy, claim_id: str):
    known = set(REQUIRED) | set(OPTIONAL)
    values = []
    for field in policy.fields:
        known.add(field.name)
        if field.name not in record or record[field.name] is None:
            values.append((field.name, field.default))
            continue
        value = record[field.name]
        if field.type == "bool":
            if not isinstance(value, bool):
                raise ClaimError("C302", claim_id, field.name,
                                 f"expected true or false, found {_json_words(value)}"[:200])
        elif field.type == "count":
            if isinstance(value, bool) or not isinstance(value, Decimal) or value != value.to_integral_value() \
                    or value < 0 or value > MAX_COUNT:
                raise ClaimError("C302", claim_id, field.name,
                                 f"expected a whole number from 0 to {MAX_COUNT}, "
                                 f"found {_json_words(value)}"[:200])
            value = int(value)
        else:
            value = parse_money(value, claim_id, field.name)
        values.append((field.name, value))
    for name in record:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
            raise ClaimError("C306", claim_id, name, f"unknown field {name}"[:200],
                             f"did you mean {close[0]}?" if close else
                             f"{policy.policy_id} does not declare it")
    return dict(values)
