"""Admitting a claim: docs/claims.md's format and the policy in force, checked once.

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

from yibao.runtime.claims import (
    MAX_COUNT, MAX_IDENTITIES_PER_CLAIM, OPTIONAL, REQUIRED, Claim, ClaimError, _id,
    _json_words, _text, every_problem, parse_money,
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
        """The claim, or a ClaimError naming every problem of the record (issue 21)."""
        try:
            return self._validate(record, version_of)
        except ClaimError as first:
            # A good claim costs one pass; only a refused one is looked at again, whole.
            raise self._all_problems(record, version_of, first) from None

    def _validate(self, record: dict, version_of: Callable | None = None) -> Claim:
        """The claim, or the first problem found (the common, fast path)."""
        claim_id = record.get("claim_id")
        claim_id = claim_id if isinstance(claim_id, str) and claim_id else None
        if not _REQUIRED_KEYS <= record.keys():
            field = next(field for field in REQUIRED if field not in record)
            raise _missing(claim_id, field)
        claim_id = _id(record, "claim_id", None)
        person_id = _id(record, "person_id", claim_id)
        date = _date(record, claim_id)
        if version_of is not None:
            policy = version_of(date, claim_id)
            if policy is not self.policy:
                return validator_for(policy)._validate(record)
        identities = self._identities(record, claim_id)
        scheme = self._scheme(record, claim_id)
        visit = _choice(record, "visit", VISITS, claim_id)
        total = _money(record["total_cost"], claim_id, "total_cost")
        in_scope = _money(record["in_scope_cost"], claim_id, "in_scope_cost")
        if in_scope > total:
            raise _beyond_bill(claim_id, in_scope, total)
        fields = self._declared_fields(record, claim_id)
        paid = self._paid(record, claim_id)
        claim = Claim(claim_id, person_id, date, identities, scheme, visit, total, in_scope,
                      paid, fields, record)
        self._check_upstream_bounds(claim)
        return claim

    def _all_problems(self, record: dict, version_of: Callable | None,
                      first: ClaimError) -> ClaimError:
        """Every problem of a refused record, checked field by field in _validate's
        order, so the first is the one _validate found.

        The checks that need the policy in force (identities, scheme, declared and
        unknown fields, upstream payouts) are made only when the version is known: a
        claim whose date cannot be read is not checked against a guessed version.
        The upstream bounds (C308) need the whole claim: they are reported only when
        nothing else is wrong, as they are now.
        """
        problems: list[ClaimError] = []

        def check(step: Callable, *args):
            try:
                return step(*args)
            except ClaimError as error:
                problems.append(error)
                return None

        given = record.get("claim_id")
        claim_id = given if isinstance(given, str) and given else None
        problems += [_missing(claim_id, field) for field in REQUIRED if field not in record]
        if "claim_id" in record:
            claim_id = check(_id, record, "claim_id", None)
        if "person_id" in record:
            check(_id, record, "person_id", claim_id)
        date = check(_date, record, claim_id) if "date" in record else None
        validator: ClaimValidator | None = self
        if version_of is not None:
            policy = check(version_of, date, claim_id) if date is not None else None
            validator = validator_for(policy) if policy is not None else None
        if validator is not None and "identities" in record:
            check(validator._identities, record, claim_id)
        if "scheme" in record:
            if validator is not None:
                check(validator._scheme, record, claim_id)
            else:
                check(_choice, record, "scheme", SCHEMES, claim_id)
        if "visit" in record:
            check(_choice, record, "visit", VISITS, claim_id)
        amounts = [check(_money, record[field], claim_id, field) if field in record else None
                   for field in ("total_cost", "in_scope_cost")]
        if None not in amounts and amounts[1] > amounts[0]:
            problems.append(_beyond_bill(claim_id, amounts[1], amounts[0]))
        if validator is not None:
            validator._field_problems(record, claim_id, check)
            check(validator._paid_problems, record, claim_id, check)
        if not problems:   # the upstream bounds, or a problem this pass does not know
            return first
        # The fast path's problem leads (the code a claim is refused with stays the same
        # as when it was reported alone); the order of the rest is this pass's.
        rest = [p for p in problems if (p.code, p.field) != (first.code, first.field)]
        return every_problem([first, *rest], claim_id)

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

    def _scheme(self, record: dict, claim_id: str) -> str:
        scheme = _choice(record, "scheme", SCHEMES, claim_id)
        if scheme not in self.schemes:
            raise ClaimError("C314", claim_id, "scheme",
                             f"{self.policy.policy_id} does not cover {scheme}",
                             "covered: " + ", ".join(self.policy.schemes))
        return scheme

    def _paid(self, record: dict, claim_id: str) -> tuple[tuple[str, Decimal], ...]:
        paid_raw = record.get("paid", {})
        if type(paid_raw) is not dict:
            raise ClaimError("C302", claim_id, "paid", "expected an object of line → amount")
        if paid_raw.keys() != self.upstream_names:   # else: every upstream line, once
            self._check_paid_lines(paid_raw, claim_id)
        return tuple([(name, _money(paid_raw[name], claim_id, field))
                      for name, field in self._paid_fields])

    def _check_paid_lines(self, paid_raw: dict, claim_id: str, complete: bool = True) -> None:
        """Refuse a paid line the policy computes (C309) or does not know (C306), then
        (when ``complete``: ``paid_raw`` is the whole object) a missing one (C307)."""
        for name in paid_raw:
            if name in self.computed:
                raise ClaimError("C309", claim_id, f"paid.{name}",
                                 f"{name} is computed by {self.policy.policy_id}, not settled "
                                 "upstream", f"remove paid.{name}; yibao computes it")
            if name not in self.upstream_names:
                raise ClaimError("C306", claim_id, f"paid.{name}", f"unknown line {name}",
                                 "upstream lines: " + ", ".join(self.upstream))
        for name in self.upstream if complete else ():
            if name not in paid_raw:
                raise _missing_payout(claim_id, name)

    def _declared_fields(self, record: dict, claim_id: str) -> dict[str, Any]:
        values: dict[str, Any] = {}
        get = record.get
        for name, default, kind in self._field_plan:
            value = get(name)
            values[name] = default if value is None else _field_value(value, kind, claim_id, name)
        if record.keys() <= self.known_keys:
            return values
        for name in record:
            if name not in self.known_keys:
                raise self._unknown_field(claim_id, name)
        return values

    def _unknown_field(self, claim_id: str | None, name: str) -> ClaimError:
        close = difflib.get_close_matches(name, sorted(self.known_keys), n=1, cutoff=0.6)
        return ClaimError("C306", claim_id, name, f"unknown field {name}"[:200],
                          f"did you mean {close[0]}?" if close else
                          f"{self.policy.policy_id} does not declare it")

    def _field_problems(self, record: dict, claim_id: str | None, check: Callable) -> None:
        """Each declared field and each unknown key of the record, through ``check``."""
        for name, _, kind in self._field_plan:
            if record.get(name) is not None:
                check(_field_value, record[name], kind, claim_id, name)
        for name in record:
            if name not in self.known_keys:
                check(_raise, self._unknown_field(claim_id, name))

    def _paid_problems(self, record: dict, claim_id: str | None, check: Callable) -> None:
        """Each upstream payout of the record, through ``check``."""
        paid_raw = record.get("paid", {})
        if type(paid_raw) is not dict:
            self._paid(record, claim_id)   # raises: not an object
        for name in paid_raw:
            if name in self.computed or name not in self.upstream_names:
                check(self._check_paid_lines, {name: None}, claim_id, False)
        for name, field in self._paid_fields:
            if name in paid_raw:
                check(_money, paid_raw[name], claim_id, field)
            else:
                check(_raise, _missing_payout(claim_id, name))

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
                    if condition is None or holds(condition, claim.fields))
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


def _missing(claim_id: str | None, field: str) -> ClaimError:
    return ClaimError("C301", claim_id, field, f"missing required field {field}",
                      "docs/claims.md lists the required fields")


def _missing_payout(claim_id: str | None, name: str) -> ClaimError:
    return ClaimError("C307", claim_id, f"paid.{name}", f"missing the upstream payout of {name}",
                      f"a missing payout is never taken as 0: give paid.{name} "
                      "(\"0.00\" if it paid nothing)")


def _beyond_bill(claim_id: str | None, in_scope: Decimal, total: Decimal) -> ClaimError:
    return ClaimError("C304", claim_id, "in_scope_cost",
                      f"in_scope_cost {in_scope} exceeds total_cost {total}",
                      "the in-scope part of a bill cannot exceed the bill")


def _field_value(value: Any, kind: str, claim_id: str | None, name: str) -> Any:
    """A declared field's value (not None) as its type reads it; raise C302 or C303."""
    if kind == "bool":
        if type(value) is not bool:
            raise ClaimError("C302", claim_id, name,
                             f"expected true or false, found {_json_words(value)}"[:200])
        return value
    if kind == "count":
        if type(value) is int:   # a record built in Python, not decoded from JSON
            value = Decimal(value)
        if (type(value) is not Decimal or value != value.to_integral_value()
                or value < 0 or value > MAX_COUNT):
            raise ClaimError("C302", claim_id, name,
                             f"expected a whole number from 0 to {MAX_COUNT}, "
                             f"found {_json_words(value)}"[:200])
        return int(value)
    return parse_money(value, claim_id, name)


def _raise(error: ClaimError):
    raise error


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


def validate_claim(record: dict, policy: Policy, version_of=None) -> Claim:
    """Check a decoded record against docs/claims.md and the policy in force; raise ClaimError.

    ``version_of(date, claim_id)`` picks the policy version in force on the
    claim's date; by default ``policy`` itself is used.
    """
    return validator_for(policy).validate(record, version_of)
