"""The effect of a revision on a corpus of claims: every claim whose outcome changes.

The corpus is settled once under each side (a whole batch each, so year-to-date
figures build up as they would in production), and outcomes are paired by
their place in the input.  A claim is *changed* when both sides settle it and
any payout, its applied identity, alerts or referrals differ; a claim refused
under one side only (an unspecified value, C311, say) is its own category, as
is a claim refused under both.  Changed claims are settled a second time with
traces, to find the first step where the two evaluations diverge.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Sequence, Union

import attrs

from yibao.runtime.batch import Engine
from yibao.runtime.claims import ClaimError, decode_claim_line
from yibao.runtime.evaluate import ClaimResult
from yibao.diff.divergence import Divergence, first_divergence
from yibao.dsl.model import NO_IDENTITY

CHANGED = "changed"
UNCHANGED = "unchanged"
FAILED_OLD_ONLY = "failed_old_only"     # refused under the old side, settled under the new
FAILED_NEW_ONLY = "failed_new_only"     # settled under the old side, refused under the new
FAILED_BOTH = "failed_both"
CATEGORIES = (CHANGED, UNCHANGED, FAILED_OLD_ONLY, FAILED_NEW_ONLY, FAILED_BOTH)

Record = tuple[int, Union[str, bytes, dict]]


# One side's outcome of a claim: the engine's own result (settled the first time,
# without its trace) or its refusal.
Outcome = Union[ClaimResult, ClaimError]


@attrs.frozen
class ClaimInput:
    """The claim as the input gives it, for reports (never re-validated here)."""

    line: int
    claim_id: str | None
    person_id: str | None
    date: str | None
    identities: tuple[str, ...]
    visit: str | None


@attrs.frozen
class LineChange:
    line: str
    old: Decimal | None
    new: Decimal | None

    @property
    def change(self) -> Decimal:
        return (self.new or Decimal(0)) - (self.old or Decimal(0))


@attrs.frozen
class ClaimDiff:
    claim: ClaimInput
    category: str
    old: Outcome
    new: Outcome
    divergence: Divergence | None = None

    @property
    def change(self) -> Decimal:
        """New total paid − old total paid (0 unless both sides settled the claim)."""
        if isinstance(self.old, ClaimResult) and isinstance(self.new, ClaimResult):
            return self.new.total_paid - self.old.total_paid
        return Decimal("0.00")

    @property
    def identity(self) -> str:
        """The identity applied (new side first), for grouping."""
        for side in (self.new, self.old):
            if isinstance(side, ClaimResult):
                return side.identity or NO_IDENTITY
        return "、".join(self.claim.identities) or NO_IDENTITY

    def line_changes(self) -> tuple[LineChange, ...]:
        """Every line of either side, old and new payout (None where a side has no such line)."""
        old = dict(self.old.payouts) if isinstance(self.old, ClaimResult) else {}
        new = dict(self.new.payouts) if isinstance(self.new, ClaimResult) else {}
        names = list(old) + [name for name in new if name not in old]
        return tuple(LineChange(name, old.get(name), new.get(name)) for name in names)


@attrs.frozen
class CorpusDiff:
    claims: tuple[ClaimDiff, ...]          # every claim, in input order

    def of_category(self, category: str) -> tuple[ClaimDiff, ...]:
        return tuple(c for c in self.claims if c.category == category)


def diff_corpus(old: Engine, new: Engine, records: Sequence[Record]) -> CorpusDiff:
    records = list(records)
    old_outcomes = old.evaluate_records(records)
    new_outcomes = new.evaluate_records(records)
    categories = [_category(a, b) for a, b in zip(old_outcomes, new_outcomes)]
    traced = {o.claim_id for o, c in zip(old_outcomes, categories) if c == CHANGED}
    divergences: dict[int, Divergence | None] = {}
    if traced:
        old_traced = old.evaluate_records(records, trace=traced)
        new_traced = new.evaluate_records(records, trace=traced)
        for index, category in enumerate(categories):
            if category == CHANGED:
                divergences[index] = first_divergence(old_traced[index].trace,
                                                      new_traced[index].trace)
    claims = []
    for index, ((number, record), a, b) in enumerate(zip(records, old_outcomes, new_outcomes)):
        claims.append(ClaimDiff(_claim_input(number, record), categories[index],
                                a, b, divergences.get(index)))
    return CorpusDiff(tuple(claims))


def _category(old, new) -> str:
    old_failed, new_failed = isinstance(old, ClaimError), isinstance(new, ClaimError)
    if old_failed and new_failed:
        return FAILED_BOTH
    if old_failed:
        return FAILED_OLD_ONLY
    if new_failed:
        return FAILED_NEW_ONLY
    same = (old.payouts == new.payouts and old.identity == new.identity
            and old.alerts == new.alerts and old.referrals == new.referrals)
    return UNCHANGED if same else CHANGED


def _claim_input(number: int, record) -> ClaimInput:
    if not isinstance(record, dict):
        try:
            record = decode_claim_line(record, number)
        except ClaimError as error:
            return ClaimInput(number, error.claim_id, None, None, (), None)
    text = lambda key: record.get(key) if isinstance(record.get(key), str) else None
    identities = record.get("identities")
    identities = tuple(i for i in identities if isinstance(i, str)) if isinstance(
        identities, list) else ()
    date = record.get("date")
    if isinstance(date, datetime.date):
        date = date.isoformat()
    return ClaimInput(number, text("claim_id"), text("person_id"),
                      date if isinstance(date, str) else None, identities, text("visit"))
