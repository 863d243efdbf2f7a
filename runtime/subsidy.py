"""Premium subsidies (资助参保, docs/specification.md §11): what part of a person's
individual contribution the assistance fund pays, by identity, take highest.

Full pays the whole contribution; a fixed amount pays up to the contribution
(and, with ``at most``, no more than another identity's fixed amount); a share
pays that share of the contribution, rounded half up to the fen.  Where the
policy restricts zero contributions (Jilin §一(三)), a subsidy that leaves any
other identity paying nothing is over-subsidy (过度资助) and an error.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Sequence

import attrs

from yibao.runtime.claims import ClaimError
from yibao.core.money import ZERO, round_fen, to_money
from yibao.dsl.model import (
    NO_IDENTITY, FixedSubsidyValue, FullSubsidyValue, Policy, ShareSubsidyValue, Sourced,
)

CONTRIBUTION_PARAM = "个人缴费标准"


@attrs.frozen
class SubsidyCandidate:
    """One identity's subsidy and the rule that gave it, as figures (explain/ words it)."""

    identity: str | None
    subsidy: Decimal
    kind: str                        # none | full | share | fixed
    clause: str
    share: Decimal | None = None     # a share's rate
    amount: Decimal | None = None    # a fixed amount, before the contribution bounds it
    at_most: str | None = None       # a fixed amount no higher than this identity's


@attrs.frozen
class SubsidyResult:
    identity: str | None
    contribution: Decimal
    subsidy: Decimal
    personal_contribution: Decimal
    candidates: tuple[SubsidyCandidate, ...]

    def to_json(self) -> dict:
        return {
            "identity": self.identity,
            "contribution": f"{self.contribution:.2f}",
            "subsidy": f"{self.subsidy:.2f}",
            "personal_contribution": f"{self.personal_contribution:.2f}",
            "candidates": [
                {"identity": c.identity or NO_IDENTITY, "subsidy": f"{c.subsidy:.2f}",
                 "kind": c.kind, "clause": c.clause}
                | ({"share": str(c.share)} if c.share is not None else {})
                | ({"amount": f"{c.amount:.2f}"} if c.amount is not None else {})
                | ({"at_most": c.at_most} if c.at_most is not None else {})
                for c in self.candidates
            ],
        }


def default_contribution(policy: Policy) -> Decimal | None:
    """The policy's own individual contribution parameter, if it states one."""
    param = policy.param(CONTRIBUTION_PARAM)
    if param is None:
        return None
    sourced = param.for_identity(None)
    return sourced.value if sourced is not None and isinstance(sourced.value, Decimal) else None


def settle_subsidy(policy: Policy, identities: Sequence[str], contribution: Decimal) -> SubsidyResult:
    known = {i.name for i in policy.identities}
    for name in identities:
        if name not in known:
            raise ClaimError("C305", None, "identities",
                             f"{policy.policy_id} does not know the identity {name}")
    effective = sorted({policy.effective_identity(n) for n in identities},
                       key=policy.identity_order) or [None]
    candidates = tuple(_candidate(policy, identity, contribution) for identity in effective)
    best = max(candidates, key=lambda c: (c.subsidy, -candidates.index(c)))
    left = contribution - best.subsidy
    allowed = policy.zero_contribution
    if left == 0 and contribution > 0 and allowed is not None and best.identity not in allowed:
        raise ClaimError(
            "C316", None, "identities",
            f"the subsidy for {best.identity or NO_IDENTITY} leaves a zero contribution "
            f"(过度资助); only {', '.join(allowed)} may pay nothing",
            "the notice forbids 零缴费 for anyone else: the fixed amount must be below the "
            "contribution")
    return SubsidyResult(best.identity, to_money(contribution), to_money(best.subsidy),
                         to_money(left), candidates)


def _candidate(policy: Policy, identity: str | None, contribution: Decimal) -> SubsidyCandidate:
    table = policy.subsidy
    sourced = table.for_identity(identity) if table is not None else None
    if sourced is None:
        return SubsidyCandidate(identity, ZERO, "none", "")
    clause = f"§{sourced.clause}" if sourced.clause else ""
    value = sourced.value
    if isinstance(value, FullSubsidyValue):
        return SubsidyCandidate(identity, contribution, "full", clause)
    if isinstance(value, ShareSubsidyValue):
        amount = round_fen(value.share * contribution)
        return SubsidyCandidate(identity, amount, "share", clause, share=value.share)
    assert isinstance(value, FixedSubsidyValue)
    amount = _fixed_amount(policy, identity, sourced)
    return SubsidyCandidate(identity, min(amount, contribution), "fixed", clause,
                            amount=amount, at_most=value.at_most)


def _fixed_amount(policy: Policy, identity: str | None, sourced: Sourced) -> Decimal:
    value = sourced.value
    if sourced.is_unspecified:
        clause = f"§{sourced.clause}" if sourced.clause else "its clause"
        note = f" ({sourced.note})" if sourced.note else ""
        raise ClaimError(
            "C311", None, "identities",
            f"the fixed subsidy for {identity or NO_IDENTITY} is unspecified in "
            f"{sourced.version or policy.policy_id} {clause}{note}",
            "the notice leaves the amount to the local fund; yibao never invents it")
    amount = value.amount
    if value.at_most is not None:
        bound = policy.subsidy.for_identity(value.at_most)
        amount = min(amount, _fixed_amount(policy, value.at_most, bound))
    return amount
