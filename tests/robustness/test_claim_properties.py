"""Properties of one claim's settlement, over every shipped policy that loads.

Random valid claims (see ``claim_space``) go through the public API; claims
that need a value the notice leaves unspecified are not computable and are
discarded.  What is asserted follows from docs/specification.md: each line pays a share
(rate ≤ 100%) of its base, rounded to the fen, within its cap; take highest
picks one identity's treatment, never a sum; the ratio ceiling only reduces.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from robustness.claim_space import (
    amounts, ceiling_binds, claims, computed_total, loadable_engines, record, settings_of, settled,
)
from robustness.profiles import ROBUSTNESS

ENGINES = loadable_engines()
POLICIES = pytest.mark.parametrize("name", sorted(ENGINES))


def _one_claim(name: str, data):
    """A random valid claim, its result, and the policy version in force on its date."""
    engine = ENGINES[name]
    claim = data.draw(claims(engine))
    (result,) = settled(engine, [claim])
    return claim, result, engine.version_for(datetime.date.fromisoformat(claim["date"]))


def _base(line, claim: dict, payouts: dict[str, Decimal], earlier: list[str]) -> Decimal:
    """docs/specification.md §5: a line's base is the in-scope cost less the lines before it,
    or the difference its policy names (``base total_cost - 基本医保 …``)."""
    if line.base_terms:
        start, *minus = line.base_terms
        base = Decimal(claim[start]) - sum((payouts[name] for name in minus), Decimal(0))
    else:
        base = Decimal(claim["in_scope_cost"]) - sum((payouts[n] for n in earlier), Decimal(0))
    return max(base, Decimal(0))


def test_every_shipped_policy_that_loads_is_exercised():
    """The properties run over the seeds' policies that settle claims on their own,
    and the crossing-schedules fixture."""
    assert {"benxi-2023", "jiamusi-2021", "jiamusi-2022", "xinjiang-2023",
            "crossing-2024"} <= set(ENGINES)


@POLICIES
@ROBUSTNESS
@given(data=st.data())
def test_no_line_pays_below_zero_or_more_than_its_base(name, data):
    claim, result, version = _one_claim(name, data)
    payouts = dict(result.payouts)
    assert [line.name for line in version.lines] == list(payouts)
    earlier: list[str] = []
    for line in version.lines:
        assert payouts[line.name] >= 0
        if line.upstream:
            # Given by another system; the ratio ceiling may only reduce it.
            assert payouts[line.name] <= Decimal(claim["paid"][line.name])
        else:
            assert payouts[line.name] <= _base(line, claim, payouts, earlier)
        earlier.append(line.name)


@POLICIES
@ROBUSTNESS
@given(data=st.data())
def test_totals_stay_within_the_in_scope_cost(name, data):
    """total paid = Σ payouts ≤ in-scope cost; personal burden = total − paid ≥ out-of-scope."""
    claim, result, _ = _one_claim(name, data)
    total, in_scope = Decimal(claim["total_cost"]), Decimal(claim["in_scope_cost"])
    assert result.total_paid == sum((amount for _, amount in result.payouts), Decimal(0))
    assert result.total_paid <= in_scope
    assert result.personal_burden == total - result.total_paid
    assert result.personal_burden >= total - in_scope
    for amount in (result.total_paid, result.personal_burden, *dict(result.payouts).values()):
        assert amount == amount.quantize(Decimal("0.01"))


@POLICIES
@ROBUSTNESS
@given(data=st.data())
def test_a_bigger_bill_never_pays_less_nor_leaves_less_to_the_person(name, data):
    """Raising a claim's in-scope (and total) cost by Δ, upstream payouts unchanged.

    Each line's base grows by at most Δ and pays a share ≤ 100% of it, rounded
    to the fen of a cumulative figure, so the total paid grows by 0…Δ: the
    payout and the personal burden are both non-decreasing.  Line by line this
    holds for one identity and no ratio ceiling (take highest may switch
    identity; the ceiling moves money between lines).
    """
    engine = ENGINES[name]
    setting = data.draw(settings_of(engine))
    total, in_scope, paid = data.draw(amounts(setting))
    delta = data.draw(st.integers(1, 5_000_000))
    smaller = record("small", "p-1", setting, total, in_scope, paid)
    bigger = record("big", "p-1", setting, total + delta, in_scope + delta, paid)
    (low,) = settled(engine, [smaller])
    (high,) = settled(engine, [bigger])
    assert low.total_paid <= high.total_paid <= low.total_paid + Decimal(delta) / 100
    assert high.personal_burden >= low.personal_burden
    if len(setting.effective()) <= 1 and not ceiling_binds(setting):
        for (line, before), (_, after) in zip(low.payouts, high.payouts):
            assert before <= after, line


@POLICIES
@ROBUSTNESS
@given(data=st.data())
def test_take_highest_is_the_best_single_identity_never_a_sum(name, data):
    """docs/specification.md §8: the claim gets exactly one identity's treatment, the best;
    ties go to the identity the policy declares first.

    Compared with the same claim made under each identity alone.  Upstream
    lines restricted to some identities are given 0, so that every alone claim
    is valid; claims the ratio ceiling binds are left out (holding a key-target
    identity changes every candidate's figures, Xinjiang §四).
    """
    engine = ENGINES[name]
    setting = data.draw(settings_of(engine, identities=(1, 3)))
    assume(not ceiling_binds(setting))
    total, in_scope, paid = data.draw(amounts(setting))
    restricted = {line.name for line in setting.version.upstream_lines if line.members is not None}
    paid = tuple((line, 0 if line in restricted else fen) for line, fen in paid)
    (together,) = settled(engine, [record("all", "p-1", setting, total, in_scope, paid)])
    alone = {}
    for identity in setting.identities:
        single = record(f"only-{identity}", "p-1", setting, total, in_scope, paid)
        single["identities"] = [identity]
        (alone[identity],) = settled(engine, [single])
    version = setting.version
    best = max(computed_total(result, version) for result in alone.values())
    assert computed_total(together, version) == best
    winners = [version.effective_identity(i) for i, r in alone.items()
               if computed_total(r, version) == best]
    assert together.identity == min(winners, key=version.identity_order)
    chosen = [r for i, r in alone.items() if version.effective_identity(i) == together.identity]
    assert together.payouts == chosen[0].payouts
    assert together.total_paid == chosen[0].total_paid
