"""Admitting a claim: DOMAIN.md §5's format and the policy in force, checked once.

A :class:`ClaimValidator` is built once per policy version, with everything it
looks up (identities, lines, declared fields, the bounds of upstream lines)
prepared, because it runs on every claim of a batch.
"""

from __future__ import annotations

import datetime
import difflib
import functools
import re
from decimal import Decimal
from typing import Any, Callable

from yibao.compiler.claims import (
    MAX_COUNT, MAX_IDENTITIES_PER_CLAIM, OPTIONAL, REQUIRED, Claim, ClaimError, _json_words,
    _text, parse_money,
)
from yibao.compiler.conditions import holds
from yibao.dsl.model import SCHEMES, VISITS, LineDef, Policy

# The common spelling of money in a claim, read without the general checks.
_PLAIN_MONEY = re.compile(r"[0-9]{1,12}(\.[0-9]{1,2})?")  # below MAX_AMOUNT
_REQUIRED_KEYS = frozenset(REQUIRED)
ZERO = Decimal(0)


def _money(value: Any, claim_id: str, field: str) -> Decimal:
    if type(value) is str and _PLAIN_MONEY.fullmatch(value):
        return Decimal(value)
    return parse_money(value, claim_id, field)


class ClaimValidator:
    """Validates decoded claim records against one policy version."""

    def __init__(self, policy: Policy):
        self.policy = policy
        self.identities = {i.name for i in policy.identities}
        self.identity_list = [i.name for i in policy.identities]
        self.effective = {i.name: policy.effective_identity(i.name) for i in policy.identities}
        self.upstream = tuple(line.name for line in policy.upstream_lines)
        self.upstream_names = frozenset(self.upstream)
        self._paid_fields = tuple((name, f"paid.{name}") for name in self.upstream)
        self.computed = frozenset(line.name for line in policy.computed_lines)
        self._field_plan = tuple((field.name, field.default, field.type)
                                 for field in policy.fields)
        self.known_keys = frozenset(REQUIRED) | frozenset(OPTIONAL) | {f.name for f in policy.fields}
        self.schemes = frozenset(policy.schemes)
        self.bounds = tuple(self._bound_plan(policy))

    # ---- the record ---------------------------------------------------------------
    def validate(self, record: dict, version_of: Callable | None = None) -> Claim:
        claim_id = record.get("claim_id")
        claim_id = claim_id if isinstance(claim_id, str) and claim_id else None
        if not _REQUIRED_KEYS <= record.keys():
            field = next(field for field in REQUIRED if field not in record)
            raise ClaimError("C301", claim_id, field, f"missing required field {field}",
                             "DOMAIN.md §5 lists the required fields")
        claim_id = _text(record, "claim_id", None)
        person_id = _text(record, "person_id", claim_id)
        date = _date(record, claim_id)
        if version_of is not None:
            policy = version_of(date, claim_id)
            if policy is not self.policy:
                return validator_for(policy).validate(record)
        identities = self._identities(record, claim_id)
        scheme = _choice(record, "scheme", SCHEMES, claim_id)
        if scheme not in self.schemes:
            raise ClaimError("C314", claim_id, "scheme",
                             f"{self.policy.policy_id} does not cover {scheme}",
                             "covered: " + ", ".join(self.policy.schemes))
        visit = _choice(record, "visit", VISITS, claim_id)
        total = _money(record["total_cost"], claim_id, "total_cost")
        in_scope = _money(record["in_scope_cost"], claim_id, "in_scope_cost")
        if in_scope > total:
            raise ClaimError("C304", claim_id, "in_scope_cost",
                             f"in_scope_cost {in_scope} exceeds total_cost {total}",
                             "the in-scope part of a bill cannot exceed the bill")
        fields = self._declared_fields(record, claim_id)
        paid = self._paid(record, claim_id)
        claim = Claim(claim_id, person_id, date, identities, scheme, visit, total, in_scope,
                      paid, fields, record)
        self._check_upstream_bounds(claim)
        return claim

    def _identities(self, record: dict, claim_id: str) -> tuple[str, ...]:
        value = record["identities"]
        if value == [] and type(value) is list:   # most people hold no identity
            return ()
        if type(value) is not list or not all(type(v) is str for v in value):
            raise ClaimError("C302", claim_id, "identities", "expected a list of identity names",
                             'e.g. ["低保对象"] or []')
        if len(value) > MAX_IDENTITIES_PER_CLAIM:
            raise ClaimError("C302", claim_id, "identities", "too many identities")
        for name in value:
            if name not in self.identities:
                close = difflib.get_close_matches(name, self.identity_list, n=1, cutoff=0.4)
                raise ClaimError("C305", claim_id, "identities",
                                 f"{self.policy.policy_id} does not know the identity {name}",
                                 f"did you mean {close[0]}?" if close else
                                 "known: " + ", ".join(self.identity_list))
        return tuple(dict.fromkeys(value)) if len(value) > 1 else tuple(value)

    def _paid(self, record: dict, claim_id: str) -> tuple[tuple[str, Decimal], ...]:
        paid_raw = record.get("paid", {})
        if type(paid_raw) is not dict:
            raise ClaimError("C302", claim_id, "paid", "expected an object of line → amount")
        if paid_raw.keys() != self.upstream_names:   # else: every upstream line, once
            self._check_paid_lines(paid_raw, claim_id)
        return tuple([(name, _money(paid_raw[name], claim_id, field))
                      for name, field in self._paid_fields])

    def _check_paid_lines(self, paid_raw: dict, claim_id: str) -> None:
        for name in paid_raw:
            if name in self.computed:
                raise ClaimError("C309", claim_id, f"paid.{name}",
                                 f"{name} is computed by {self.policy.policy_id}, not settled "
                                 "upstream", f"remove paid.{name}; yibao computes it")
            if name not in self.upstream_names:
                raise ClaimError("C306", claim_id, f"paid.{name}", f"unknown line {name}",
                                 "upstream lines: " + ", ".join(self.upstream))
        for name in self.upstream:
            if name not in paid_raw:
                raise ClaimError("C307", claim_id, f"paid.{name}",
                                 f"missing the upstream payout of {name}",
                                 f"a missing payout is never taken as 0: give paid.{name} "
                                 "(\"0.00\" if it paid nothing)")

    def _declared_fields(self, record: dict, claim_id: str) -> dict[str, Any]:
        values: dict[str, Any] = {}
        get = record.get
        for name, default, kind in self._field_plan:
            value = get(name)
            if value is None:
                values[name] = default
            elif kind == "bool":
                if type(value) is not bool:
                    raise ClaimError("C302", claim_id, name,
                                     f"expected true or false, found {_json_words(value)}"[:200])
                values[name] = value
            elif kind == "count":
                if type(value) is int:   # a record built in Python, not decoded from JSON
                    value = Decimal(value)
                if (type(value) is not Decimal or value != value.to_integral_value()
                        or value < 0 or value > MAX_COUNT):
                    raise ClaimError("C302", claim_id, name,
                                     f"expected a whole number from 0 to {MAX_COUNT}, "
                                     f"found {_json_words(value)}"[:200])
                values[name] = int(value)
            else:
                values[name] = parse_money(value, claim_id, name)
        if record.keys() <= self.known_keys:
            return values
        for name in record:
            if name not in self.known_keys:
                close = difflib.get_close_matches(name, sorted(self.known_keys), n=1, cutoff=0.6)
                raise ClaimError("C306", claim_id, name, f"unknown field {name}"[:200],
                                 f"did you mean {close[0]}?" if close else
                                 f"{self.policy.policy_id} does not declare it")
        return values

    # ---- what upstream lines may pay (C308) ----------------------------------------
    def _bound_plan(self, policy: Policy):
        """Per upstream line: its bases (conditional first) and who it may pay.

        By default a line pays within the in-scope cost less the earlier lines
        (out-of-catalogue costs are never paid, Jilin §二(一)); a line may declare
        another base, chosen by a condition (Jilin 2020: out-of-province claims).
        """
        earlier: list[str] = []
        for line in policy.lines:
            if line.upstream:
                bases = [(condition, terms if terms is None else terms or
                          self._default_terms(earlier), rule)
                         for condition, terms, rule in line.conditional_bases]
                bases.append((None, line.base_terms or self._default_terms(earlier),
                              line.base_rule))
                # Each base's first term is a claim field, the rest earlier lines' payouts.
                # An unspecified base (terms None) has no start: the claim is refused.
                yield line, tuple((condition, terms[0] if terms else None, terms[1:] if terms
                                   else (), terms, rule) for condition, terms, rule in bases)
            earlier.append(line.name)

    @staticmethod
    def _default_terms(earlier: list[str]) -> tuple[str, ...]:
        return ("in_scope_cost", *earlier)

    def _check_upstream_bounds(self, claim: Claim) -> None:
        paid = dict(claim.paid)
        for line, bases in self.bounds:
            amount = paid[line.name]
            if not amount:   # paid nothing: within any bound, whoever the person is
                continue
            if len(bases) == 1:   # most lines: one base, no condition
                _, start, minus, terms, rule = bases[0]
            else:
                start, minus, terms, rule = next(
                    (start, minus, terms, rule) for condition, start, minus, terms, rule in bases
                    if condition is None or holds(condition, claim.field))
            if start is None:
                raise self._unbounded(claim, line, amount, rule)
            bound = getattr(claim, start)
            for term in minus:
                bound -= paid.get(term, ZERO)
            if amount > bound:
                raise self._beyond(claim, line, amount, terms, bound, rule)
            if line.members is not None and not self._holds_member(claim, line):
                raise ClaimError(
                    "C308", claim.claim_id, f"paid.{line.name}",
                    f"{line.name} pays only {', '.join(line.members)}, but paid {amount}",
                    "check the person's identities or the upstream settlement")

    def _holds_member(self, claim: Claim, line: LineDef) -> bool:
        held = set(claim.identities) | {self.effective[name] for name in claim.identities}
        return bool(held & set(line.members))

    @staticmethod
    def _unbounded(claim: Claim, line: LineDef, amount, rule) -> ClaimError:
        """The notice gives no bound for this claim (Jilin §二(一): out of province, care
        that is not 符合规范就医): what the line paid cannot be checked, so it is refused."""
        clause = f" §{rule.citation.clause}" if rule.citation else ""
        note = f" ({rule.note})" if rule.note else ""
        return ClaimError(
            "C311", claim.claim_id, f"paid.{line.name}",
            f"{line.name} paid {amount}, but what it may pay for this claim is unspecified in "
            f"{rule.version}{clause}{note}; this claim needs it",
            "the notice leaves the value to another document: supply it in a revision "
            "or a base policy; yibao never invents it")

    @staticmethod
    def _beyond(claim: Claim, line: LineDef, amount, terms, bound, rule) -> ClaimError:
        citation = rule.citation if rule and rule.citation else line.citation
        clause = f" (§{citation.clause})" if citation else ""
        return ClaimError(
            "C308", claim.claim_id, f"paid.{line.name}",
            f"{line.name} paid {amount}, more than it may pay: {' − '.join(terms)} = "
            f"{bound}{clause}",
            "upstream payouts are checked against the notice: costs outside the catalogue are "
            "never paid, and the lines together never exceed the bill")


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _date(record: dict, claim_id: str) -> datetime.date:
    value = _text(record, "date", claim_id)
    date = _iso_date(value)
    if date is None:
        raise ClaimError("C302", claim_id, "date", f"'{value}' is not a date",
                         "write dates as YYYY-MM-DD")
    return date


@functools.lru_cache(maxsize=4096)
def _iso_date(value: str) -> datetime.date | None:
    """YYYY-MM-DD as a date, or None; read once per text (a batch has a few hundred)."""
    if not _ISO_DATE.fullmatch(value):  # fromisoformat also takes 20230210 and week dates
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


def _choice(record: dict, field: str, choices: tuple[str, ...], claim_id: str) -> str:
    value = record[field]
    if type(value) is str and value in choices:   # one of the words: printable, not blank
        return value
    value = _text(record, field, claim_id)
    if value not in choices:
        close = difflib.get_close_matches(value, choices, n=1, cutoff=0.3)
        raise ClaimError("C313", claim_id, field, f"unknown {field} {value}",
                         f"did you mean {close[0]}?" if close else "one of " + ", ".join(choices))
    return value


_VALIDATORS: dict[int, tuple[Policy, ClaimValidator]] = {}


def validator_for(policy: Policy) -> ClaimValidator:
    """The validator of a policy version, built once (keyed by the object itself)."""
    entry = _VALIDATORS.get(id(policy))
    if entry is None or entry[0] is not policy:
        if len(_VALIDATORS) > 256:
            _VALIDATORS.clear()
        entry = _VALIDATORS[id(policy)] = (policy, ClaimValidator(policy))
    return entry[1]
