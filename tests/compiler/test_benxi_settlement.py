"""Benxi 2023 medical assistance, settled claim by claim and checked against hand figures.

Every expected figure below is worked out by hand from the notice
(policies/notices/benxi-2023.txt) and docs/specification.md, never copied from the engine:

基本救助 §(五): annual cap 2万 for everyone; no deductible for 低保对象, 特困人员,
孤儿 (rate 70%); 低保边缘家庭成员 2,000 at 60%; 因病致贫重病患者 5,000 at 50%.
倾斜救助 §(五): no cap for 特困人员, 孤儿, 低保对象, 低保边缘家庭成员, 2万 for
因病致贫重病患者; deductibles 0 / 0 / 3,000 / 3,000 / 10,000; rates 100% / 100% /
70% / 60% / 50%.  Its base is what 基本救助 left (docs/specification.md §5).

Year to date (docs/specification.md §6): a claim pays round(G(C_after)) − round(G(C_before)),
limited to what is left of the cap.  "B" below is the in-scope burden after the
upstream lines (in-scope cost − 基本医保 − 大病保险).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from helpers import claim, settle
from yibao.runtime.claims import ClaimError

D = Decimal
UPSTREAM_PAID = D("10000.00")   # 基本医保 8,000 + 大病保险 2,000 in every burden_claim


def burden_claim(claim_id, person, date, identities, burden, visit="住院", scheme="居民医保",
                 out_of_scope="0.00", **extra):
    """A claim whose in-scope burden after 基本医保 and 大病保险 is ``burden``."""
    in_scope = D(burden) + UPSTREAM_PAID
    total = in_scope + D(out_of_scope)
    return claim(claim_id, person, date, identities, f"{in_scope:.2f}",
                 {"基本医保": "8000.00", "大病保险": "2000.00"}, visit=visit, scheme=scheme,
                 total=f"{total:.2f}", **extra)


def assistance(result):
    """(基本救助, 倾斜救助) of a settled claim."""
    return result.payout("基本救助"), result.payout("倾斜救助")


def candidate_gaps(result, winner):
    """How much less than ``winner`` each candidate would be paid (docs/specification.md §8).

    Gaps, not totals: upstream payouts are the same for every candidate, so the gap
    is the difference of the computed lines whether or not a total includes them.
    """
    totals = dict(result.candidates)
    return {name: totals[winner] - total for name, total in totals.items()}


def settled(outcomes):
    for outcome in outcomes:
        assert not isinstance(outcome, ClaimError), outcome
    return outcomes


# ---- docs/specification.md §6's two worked examples ---------------------------------------------

def test_domain_worked_example_three_claims_reach_the_cap(benxi_engine):
    """docs/specification.md §6 / Benxi §(五): 低保边缘家庭成员, 基本救助 2,000 deductible, 60%, cap 2万.

    Burdens 15,000, 10,000, 20,000 → C = 15,000, 25,000, 45,000.
    基本救助: G = 60% × (C − 2,000) = 7,800, 13,800, 25,800 → slices 7,800, 6,000, then
    12,000 limited to the cap room 20,000 − 13,800 = 6,200.
    倾斜救助 (3,000, 60%, no cap) on what is left: 7,200, 4,000, 13,800 → C = 7,200,
    11,200, 25,000 → G = 2,520, 4,920, 13,200 → 2,520, 2,400, 8,280.
    """
    results = settled(settle(
        benxi_engine,
        burden_claim("a", "p", "2023-01-10", ["低保边缘家庭成员"], "15000"),
        burden_claim("b", "p", "2023-02-10", ["低保边缘家庭成员"], "10000"),
        burden_claim("c", "p", "2023-03-10", ["低保边缘家庭成员"], "20000"),
    ))
    assert [assistance(r) for r in results] == [
        (D("7800.00"), D("2520.00")), (D("6000.00"), D("2400.00")), (D("6200.00"), D("8280.00"))]
    # 基本救助 adds up to min(cap, G(45,000)) = 20,000 (docs/specification.md §6).
    assert sum(r.payout("基本救助") for r in results) == D("20000.00")
    # total paid = upstream 10,000 + assistance; no out-of-scope cost, so burden = B − assistance.
    assert [r.total_paid for r in results] == [D("20320.00"), D("18400.00"), D("24480.00")]
    assert [r.personal_burden for r in results] == [D("4680.00"), D("1600.00"), D("5520.00")]


def test_domain_identity_change_applies_from_that_claim_on(benxi_engine):
    """docs/specification.md §6's change of identity (Benxi §(五), 基本救助 and 倾斜救助).

    As 因病致贫重病患者, burden 15,000: 基本救助 50% × (15,000 − 5,000) = 5,000;
    倾斜救助 base 10,000 is not above its 10,000 deductible → 0.
    Later, as 低保对象, burden 15,000: 基本救助 C 15,000 → 30,000, G = 70% × C:
    21,000 − 10,500 = 10,500 (cap room 20,000 − 5,000 = 15,000, not reached); nothing is
    paid back for the first claim.  倾斜救助 base 15,000 − 10,500 = 4,500, C 10,000 →
    14,500, G = 70% × (C − 3,000): 8,050 − 4,900 = 3,150.
    """
    first, later = settled(settle(
        benxi_engine,
        burden_claim("ill", "p", "2023-02-01", ["因病致贫重病患者"], "15000"),
        burden_claim("dibao", "p", "2023-06-01", ["低保对象"], "15000"),
    ))
    assert assistance(first) == (D("5000.00"), D("0.00"))
    assert assistance(later) == (D("10500.00"), D("3150.00"))
    assert later.identity == "低保对象"


# ---- each identity's deductible, rate and cap (§(五)) -------------------------------------

@pytest.mark.parametrize("identity, basic, tilted", [
    # B = 20,000.  基本救助 = rate × (B − deductible); 倾斜救助 on R = B − 基本救助.
    ("特困人员", "14000.00", "6000.00"),           # 70% × 20,000; R 6,000 × 100%
    ("孤儿", "14000.00", "6000.00"),               # as 特困人员
    ("低保对象", "14000.00", "2100.00"),           # 70% × 20,000; 70% × (6,000 − 3,000)
    ("低保边缘家庭成员", "10800.00", "3720.00"),   # 60% × 18,000; 60% × (9,200 − 3,000)
    ("因病致贫重病患者", "7500.00", "1250.00"),    # 50% × 15,000; 50% × (12,500 − 10,000)
])
def test_rates_and_deductibles_by_identity(benxi_engine, identity, basic, tilted):
    """Benxi §(五): each identity's deductible and rate for 基本救助 and 倾斜救助 (B = 20,000)."""
    [result] = settled(settle(benxi_engine, burden_claim("c", "p", "2023-04-01", [identity],
                                                         "20000")))
    assert result.identity == identity
    assert assistance(result) == (D(basic), D(tilted))


@pytest.mark.parametrize("identity, burden, basic", [
    ("低保边缘家庭成员", "2000.00", "0.00"),       # at the 2,000 deductible: nothing
    ("低保边缘家庭成员", "2010.00", "6.00"),       # 60% of the 10 above it
    ("因病致贫重病患者", "5000.00", "0.00"),       # at the 5,000 deductible: nothing
    ("因病致贫重病患者", "5010.00", "5.00"),       # 50% of the 10 above it
    ("低保对象", "10.00", "7.00"),                 # no deductible: 70% from the first yuan
    ("特困人员", "10.00", "7.00"),
    ("孤儿", "10.00", "7.00"),
])
def test_basic_assistance_deductible_boundaries(benxi_engine, identity, burden, basic):
    """Benxi §(五) 基本救助 deductibles: 低保边缘家庭成员 2,000, 因病致贫重病患者 5,000, others none."""
    [result] = settled(settle(benxi_engine, burden_claim("c", "p", "2023-04-01", [identity],
                                                         burden)))
    assert result.payout("基本救助") == D(basic)


@pytest.mark.parametrize("identity, burden, basic, tilted", [
    # 倾斜救助 deductibles §(五): 低保对象 3,000, 低保边缘家庭成员 3,000, 因病致贫 10,000.
    ("低保对象", "10000.00", "7000.00", "0.00"),            # R = 3,000: at the deductible
    ("低保对象", "10010.00", "7007.00", "2.10"),            # R = 3,003: 70% × 3
    ("低保边缘家庭成员", "4500.00", "1500.00", "0.00"),     # R = 3,000
    ("低保边缘家庭成员", "4510.00", "1506.00", "2.40"),     # R = 3,004: 60% × 4
    ("因病致贫重病患者", "15000.00", "5000.00", "0.00"),    # R = 10,000
    ("因病致贫重病患者", "15010.00", "5005.00", "2.50"),    # R = 10,005: 50% × 5
    ("特困人员", "10.00", "7.00", "3.00"),                  # no deductible, 100% of R = 3
])
def test_tilted_assistance_deductible_boundaries(benxi_engine, identity, burden, basic, tilted):
    """Benxi §(五) 倾斜救助: its deductible applies to what 基本救助 left, R = B − 基本救助."""
    [result] = settled(settle(benxi_engine, burden_claim("c", "p", "2023-04-01", [identity],
                                                         burden)))
    assert assistance(result) == (D(basic), D(tilted))


# ---- annual caps (§(五)) -------------------------------------------------------------

@pytest.mark.parametrize("identity, basic, tilted", [
    # B = 100,000.  基本救助 is capped at 2万 for everyone; R = 80,000.
    ("特困人员", "20000.00", "80000.00"),          # 100% × 80,000, no cap
    ("孤儿", "20000.00", "80000.00"),
    ("低保对象", "20000.00", "53900.00"),          # 70% × 77,000, no cap
    ("低保边缘家庭成员", "20000.00", "46200.00"),  # 60% × 77,000, no cap
    ("因病致贫重病患者", "20000.00", "20000.00"),  # 50% × 70,000 = 35,000, capped at 2万
])
def test_annual_caps_by_identity(benxi_engine, identity, basic, tilted):
    """Benxi §(五): 基本救助 cap 2万; 倾斜救助 cap 2万 for 因病致贫重病患者 only, none for others."""
    [result] = settled(settle(benxi_engine, burden_claim("c", "p", "2023-04-01", [identity],
                                                         "100000")))
    assert assistance(result) == (D(basic), D(tilted))


def test_tilted_cap_of_major_illness_patient_crossed_over_several_claims(benxi_engine):
    """Benxi §(五): 倾斜救助 cap 2万 for 因病致贫重病患者, reached on the second claim.

    Burdens 40,000, 40,000, 10,000.
    基本救助 (5,000, 50%, cap 2万): C 40,000 → G 17,500; C 80,000 → G 37,500, slice 20,000
    limited to 2,500; then nothing is left.
    倾斜救助 (10,000, 50%, cap 2万) on R = 22,500, 37,500, 10,000: C = 22,500, 60,000,
    70,000 → G = 6,250, 25,000, 30,000 → 6,250; 18,750 limited to 13,750; 5,000 limited to 0.
    """
    results = settled(settle(
        benxi_engine,
        burden_claim("a", "p", "2023-01-05", ["因病致贫重病患者"], "40000"),
        burden_claim("b", "p", "2023-05-05", ["因病致贫重病患者"], "40000"),
        burden_claim("c", "p", "2023-09-05", ["因病致贫重病患者"], "10000"),
    ))
    assert [assistance(r) for r in results] == [
        (D("17500.00"), D("6250.00")), (D("2500.00"), D("13750.00")), (D("0.00"), D("0.00"))]


@pytest.mark.parametrize("identity, burden, first, second", [
    # 低保对象, B = 60,000 twice: 基本救助 capped on the first claim (42,000 → 20,000), 0 after;
    # 倾斜救助 R = 40,000 then 60,000: C 40,000 → 100,000, G = 70% × (C − 3,000) = 25,900,
    # 67,900 → 25,900 then 42,000: together far beyond 2万, as no cap applies.
    ("低保对象", "60000", ("20000.00", "25900.00"), ("0.00", "42000.00")),
    # 特困人员, B = 30,000 twice: 基本救助 21,000 → 20,000, then 0; 倾斜救助 100% of
    # R = 10,000 then 30,000.
    ("特困人员", "30000", ("20000.00", "10000.00"), ("0.00", "30000.00")),
])
def test_tilted_assistance_has_no_cap_for_the_other_identities(benxi_engine, identity, burden,
                                                               first, second):
    """Benxi §(五): 倾斜救助对特困人员、孤儿、低保对象、低保边缘家庭成员不设年度救助限额."""
    results = settled(settle(
        benxi_engine,
        burden_claim("a", "p", "2023-02-01", [identity], burden),
        burden_claim("b", "p", "2023-08-01", [identity], burden),
    ))
    assert [assistance(r) for r in results] == [
        tuple(D(x) for x in first), tuple(D(x) for x in second)]


# ---- 参照执行 and identities without assistance (§(六)) -------------------------------------

@pytest.mark.parametrize("identity, treated_as", [
    ("返贫致贫人口", "低保对象"),
    ("监测帮扶对象", "低保对象"),
    ("其他监测范围内人口", "低保边缘家庭成员"),
])
@pytest.mark.parametrize("burden, expected", [
    # (burden, {treatment: (基本救助, 倾斜救助)}), worked out in the tests above.
    ("20000", {"低保对象": ("14000.00", "2100.00"), "低保边缘家庭成员": ("10800.00", "3720.00")}),
    ("100000", {"低保对象": ("20000.00", "53900.00"), "低保边缘家庭成员": ("20000.00", "46200.00")}),
])
def test_treated_as_identities_get_exactly_the_mapped_treatment(benxi_engine, identity, treated_as,
                                                                burden, expected):
    """Benxi §(六): 返贫致贫人口和监测帮扶对象参照执行低保对象; 其他监测范围内人口参照执行低保边缘家庭成员."""
    [result] = settled(settle(benxi_engine, burden_claim("c", "p", "2023-04-01", [identity],
                                                         burden)))
    assert result.identity == treated_as
    assert assistance(result) == tuple(D(x) for x in expected[treated_as])


def test_treated_as_identity_held_with_its_target_is_one_treatment(benxi_engine):
    """Benxi §(六) 不得重复享受: 返贫致贫人口 and 低保对象 are one treatment, paid once (B = 20,000)."""
    [result] = settled(settle(benxi_engine, burden_claim(
        "c", "p", "2023-04-01", ["返贫致贫人口", "低保对象"], "20000")))
    assert result.identity == "低保对象"
    assert assistance(result) == (D("14000.00"), D("2100.00"))
    assert [name for name, _ in result.candidates] == ["低保对象"]


@pytest.mark.parametrize("identities", [["脱贫人口"], []])
def test_no_assistance_without_an_assisted_identity(benxi_engine, identities):
    """Benxi §(六) 脱贫人口不再享受医疗救助待遇; docs/specification.md §17: such claims add nothing to the year.

    B = 20,000 pays no assistance (total paid = the upstream 10,000).  A later claim as
    低保边缘家庭成员 with B = 15,000 then starts 基本救助's year from zero: 7,800, and
    倾斜救助 60% × (7,200 − 3,000) = 2,520.
    """
    first, later = settled(settle(
        benxi_engine,
        burden_claim("a", "p", "2023-03-01", identities, "20000"),
        burden_claim("b", "p", "2023-07-01", ["低保边缘家庭成员"], "15000"),
    ))
    assert assistance(first) == (D("0.00"), D("0.00"))
    assert first.total_paid == D("10000.00")
    assert first.personal_burden == D("20000.00")
    assert assistance(later) == (D("7800.00"), D("2520.00"))


# ---- take highest, never the sum (§(六)) -------------------------------------------------

@pytest.mark.parametrize("burden, margin, ill", [
    # 低保边缘家庭成员: 60% × (B − 2,000), then 60% × (R − 3,000).
    # 因病致贫重病患者: 50% × (B − 5,000), then 50% × (R − 10,000).
    # B = 12,000: margin 6,000 + 60% × (6,000 − 3,000) = 1,800; ill 3,500 + 0 (R 8,500).
    ("12000", ("6000.00", "1800.00"), ("3500.00", "0.00")),
    # B = 40,000: margin 22,800 → cap 20,000, R 20,000 → 10,200; ill 17,500, R 22,500 → 6,250.
    ("40000", ("20000.00", "10200.00"), ("17500.00", "6250.00")),
])
def test_take_highest_margin_family_against_major_illness(benxi_engine, burden, margin, ill):
    """Benxi §(六) 执行可享受的最高医疗救助待遇，不得重复享受; docs/specification.md §8.

    Both candidates are worked out; 低保边缘家庭成员's table beats 因病致贫重病患者's at
    every burden (lower deductibles, higher rates), so it wins, and is paid alone.
    """
    [result] = settled(settle(benxi_engine, burden_claim(
        "c", "p", "2023-04-01", ["因病致贫重病患者", "低保边缘家庭成员"], burden)))
    margin_total = sum(D(x) for x in margin)
    ill_total = sum(D(x) for x in ill)
    assert candidate_gaps(result, "低保边缘家庭成员") == {
        "低保边缘家庭成员": 0, "因病致贫重病患者": margin_total - ill_total}
    assert result.identity == "低保边缘家庭成员"
    assert assistance(result) == tuple(D(x) for x in margin)
    assert result.total_paid == UPSTREAM_PAID + margin_total


def test_take_highest_tie_goes_to_the_identity_declared_first(benxi_engine):
    """docs/specification.md §8/§17: ties go to the identity declared first in the policy, not in the claim.

    B = 1,500 is below both 基本救助 deductibles (2,000 and 5,000): both candidates pay 0,
    and 低保边缘家庭成员 is declared before 因病致贫重病患者 in the policy.
    """
    [result] = settled(settle(benxi_engine, burden_claim(
        "c", "p", "2023-04-01", ["因病致贫重病患者", "低保边缘家庭成员"], "1500"), trace=True))
    assert candidate_gaps(result, "低保边缘家庭成员") == {"低保边缘家庭成员": 0, "因病致贫重病患者": 0}
    assert result.identity == "低保边缘家庭成员"
    chosen = next(step for step in result.trace if step.op == "take_highest")
    assert chosen.facts.tied and chosen.facts.winner == "低保边缘家庭成员"


def test_take_highest_major_illness_wins_over_an_identity_without_assistance(benxi_engine):
    """Benxi §(六): 因病致贫重病患者 (B = 12,000: 3,500 + 0) beats 脱贫人口 (no assistance)."""
    [result] = settled(settle(benxi_engine, burden_claim(
        "c", "p", "2023-04-01", ["脱贫人口", "因病致贫重病患者"], "12000")))
    assert candidate_gaps(result, "因病致贫重病患者") == {"因病致贫重病患者": 0, "脱贫人口": D("3500.00")}
    assert result.identity == "因病致贫重病患者"
    assert assistance(result) == (D("3500.00"), D("0.00"))


def test_take_highest_destitute_over_minimum_living(benxi_engine):
    """Benxi §(六), §(五): B = 20,000: 特困人员 14,000 + 6,000 beats 低保对象 14,000 + 2,100."""
    [result] = settled(settle(benxi_engine, burden_claim(
        "c", "p", "2023-04-01", ["低保对象", "特困人员"], "20000")))
    assert candidate_gaps(result, "特困人员") == {"特困人员": 0, "低保对象": D("3900.00")}
    assert result.identity == "特困人员"
    assert result.total_paid == D("30000.00")


# ---- what the assistance lines cover (§(四), §(十三)) --------------------------------------

@pytest.mark.parametrize("visit", ["普通门诊", "高值药品"])
def test_uncovered_visits_pay_nothing_and_add_nothing_to_the_year(benxi_engine, visit):
    """Benxi §(四) (不含门诊统筹…及普通门诊费用); docs/specification.md §5: 高值药品 is not covered either.

    An uncovered claim with B = 15,000 pays 0 and adds nothing to the year-to-date base,
    so a later 住院 claim with B = 15,000 is paid as the year's first: 基本救助 60% ×
    13,000 = 7,800; 倾斜救助 60% × (7,200 − 3,000) = 2,520.
    """
    uncovered, inpatient = settled(settle(
        benxi_engine,
        burden_claim("a", "p", "2023-03-01", ["低保边缘家庭成员"], "15000", visit=visit),
        burden_claim("b", "p", "2023-04-01", ["低保边缘家庭成员"], "15000"),
    ))
    assert assistance(uncovered) == (D("0.00"), D("0.00"))
    assert uncovered.total_paid == UPSTREAM_PAID
    assert assistance(inpatient) == (D("7800.00"), D("2520.00"))


def test_chronic_outpatient_claims_are_covered(benxi_engine):
    """Benxi §(四) 因慢性病长期服药或患重特大疾病需长期门诊治疗的费用: 门诊慢特病 is covered.

    低保对象, B = 6,000: 基本救助 70% = 4,200; 倾斜救助 R = 1,800 < 3,000 → 0.
    """
    [result] = settled(settle(benxi_engine, burden_claim(
        "c", "p", "2023-04-01", ["低保对象"], "6000", visit="门诊慢特病")))
    assert assistance(result) == (D("4200.00"), D("0.00"))


def test_out_of_province_without_referral_is_not_covered(benxi_engine):
    """Benxi §(十三) 未按规定外出就医…不纳入医疗救助范围 (`when in_province or referred`).

    Out of province and not referred, B = 15,000: nothing, and nothing added to the year;
    the person's next in-province claim (B = 15,000) pays 7,800 and 2,520 as a first claim.
    Out of province but referred: paid as in the province, 7,800 and 2,520.
    """
    unreferred, at_home, referred = settled(settle(
        benxi_engine,
        burden_claim("a", "p", "2023-03-01", ["低保边缘家庭成员"], "15000", in_province=False),
        burden_claim("b", "p", "2023-04-01", ["低保边缘家庭成员"], "15000"),
        burden_claim("c", "q", "2023-03-01", ["低保边缘家庭成员"], "15000", in_province=False,
                     referred=True),
    ))
    assert assistance(unreferred) == (D("0.00"), D("0.00"))
    assert assistance(at_home) == (D("7800.00"), D("2520.00"))
    assert assistance(referred) == (D("7800.00"), D("2520.00"))


# ---- a missing upstream payout (docs/specification.md §7) ----------------------------------------------

def test_missing_upstream_payout_is_rejected_and_the_batch_goes_on(benxi_engine):
    """docs/specification.md §7: a claim without paid.大病保险 is rejected (C307), never taken as 0.

    The other claims of the batch are settled, and the rejected claim adds nothing to the
    person's year: B = 15,000 then (rejected) then B = 10,000 pay 7,800 then 6,000.
    """
    broken = burden_claim("b", "p", "2023-02-01", ["低保边缘家庭成员"], "30000")
    del broken["paid"]["大病保险"]
    first, error, third = settle(
        benxi_engine,
        burden_claim("a", "p", "2023-01-01", ["低保边缘家庭成员"], "15000"),
        broken,
        burden_claim("c", "p", "2023-03-01", ["低保边缘家庭成员"], "10000"),
    )
    assert isinstance(error, ClaimError)
    assert (error.code, error.claim_id, error.field) == ("C307", "b", "paid.大病保险")
    assert first.payout("基本救助") == D("7800.00")
    assert third.payout("基本救助") == D("6000.00")


# ---- alerts (§(八)) ------------------------------------------------------------------------

def drug_claim(claim_id, person, date, identities, burden, scheme="居民医保"):
    """A 高值药品 claim: counted by the alerts, paid by no assistance line (docs/specification.md §5),
    so its personal burden is total − 基本医保 = ``burden``."""
    total = D(burden) + D("3000.00")
    return claim(claim_id, person, date, identities, f"{total:.2f}",
                 {"基本医保": "3000.00", "大病保险": "0.00"}, visit="高值药品", scheme=scheme)


RETURN_TO_POVERTY_GROUP = [
    ["特困人员"], ["孤儿"], ["低保对象"], ["低保边缘家庭成员"], ["脱贫人口"],
    ["返贫致贫人口"], ["监测帮扶对象"], ["其他监测范围内人口"],   # treated as 低保对象 / 低保边缘
    ["因病致贫重病患者", "脱贫人口"],                               # any identity of the group
]


@pytest.mark.parametrize("identities", RETURN_TO_POVERTY_GROUP)
@pytest.mark.parametrize("burden, alerts", [("5000.00", ["因病返贫风险"]), ("4999.99", [])])
def test_return_to_poverty_alert_at_5000(benxi_engine, identities, burden, alerts):
    """Benxi §(八): 因病返贫风险监测范围为全部医疗救助对象（不包括因病致贫重病患者）和…脱贫人口;
    预警标准为5000元, firing when the year's burden reaches it (≥, docs/specification.md §10)."""
    [result] = settled(settle(benxi_engine, drug_claim("c", "p", "2023-05-01", identities, burden)))
    assert result.personal_burden == D(burden)
    assert assistance(result) == (D("0.00"), D("0.00"))
    assert list(result.alerts) == alerts


@pytest.mark.parametrize("identities", [[], ["因病致贫重病患者"]])
@pytest.mark.parametrize("scheme, burden, alerts", [
    ("居民医保", "20000.00", ["因病致贫风险"]),
    ("居民医保", "19999.99", []),
    ("职工医保", "50000.00", ["因病致贫风险"]),
    ("职工医保", "49999.99", []),
    ("职工医保", "20000.00", []),
])
def test_impoverishment_alert_thresholds_by_scheme(benxi_engine, identities, scheme, burden, alerts):
    """Benxi §(八): 因病致贫风险 covers everyone outside the 因病返贫 group (因病致贫重病患者
    included); thresholds 2万 for 居民医保 and 5万 for 职工医保, firing at ≥."""
    [result] = settled(settle(benxi_engine, drug_claim("c", "p", "2023-05-01", identities, burden,
                                                       scheme=scheme)))
    assert list(result.alerts) == alerts


def test_alert_accumulates_fires_at_threshold_sticks_and_resets_each_year(benxi_engine):
    """Benxi §(八) 年度内个人累计负担; docs/specification.md §10: ≥, listed on every later claim that year.

    低保对象, 住院:
    1. in-scope 20,000, 基本医保 12,000, total 21,000: B = 8,000 → 基本救助 5,600,
       倾斜救助 R 2,400 < 3,000 → 0; burden 21,000 − 17,600 = 3,400 (year: 3,400).
    2. in-scope 5,000, 基本医保 3,000, total 6,000: B = 2,000 → 基本救助 1,400, 倾斜救助 C
       2,400 → 3,000 → 0; burden 6,000 − 4,400 = 1,600 (year: 5,000 ≥ 5,000: fires).
    3. 普通门诊 (not counted): still listed.
    4. next year, as claim 2: burden 1,600 (year 2024: 1,600): no alert.
    """
    results = settled(settle(
        benxi_engine,
        claim("1", "p", "2023-02-01", ["低保对象"], "20000.00",
              {"基本医保": "12000.00", "大病保险": "0.00"}, total="21000.00"),
        claim("2", "p", "2023-03-01", ["低保对象"], "5000.00",
              {"基本医保": "3000.00", "大病保险": "0.00"}, total="6000.00"),
        claim("3", "p", "2023-04-01", ["低保对象"], "100.00",
              {"基本医保": "50.00", "大病保险": "0.00"}, visit="普通门诊"),
        claim("4", "p", "2024-01-15", ["低保对象"], "5000.00",
              {"基本医保": "3000.00", "大病保险": "0.00"}, total="6000.00"),
    ))
    assert [r.payout("基本救助") for r in results] == [
        D("5600.00"), D("1400.00"), D("0.00"), D("1400.00")]
    assert [r.personal_burden for r in results] == [
        D("3400.00"), D("1600.00"), D("50.00"), D("1600.00")]
    assert [list(r.alerts) for r in results] == [[], ["因病返贫风险"], ["因病返贫风险"], []]


def test_alert_does_not_fire_a_fen_below_the_threshold(benxi_engine):
    """Benxi §(八) 5,000: the same two claims with the second's total 0.01 lower: 4,999.99 in all."""
    results = settled(settle(
        benxi_engine,
        claim("1", "p", "2023-02-01", ["低保对象"], "20000.00",
              {"基本医保": "12000.00", "大病保险": "0.00"}, total="21000.00"),
        claim("2", "p", "2023-03-01", ["低保对象"], "5000.00",
              {"基本医保": "3000.00", "大病保险": "0.00"}, total="5999.99"),
    ))
    assert [list(r.alerts) for r in results] == [[], []]


def test_general_outpatient_burden_is_not_counted_by_the_alerts(benxi_engine):
    """Benxi §(八) counts 住院、门诊慢特病及高值药品 only.

    低保对象: a 普通门诊 burden of 5,000 is not counted; a 住院 claim (in-scope 1,000,
    基本医保 900: B = 100, 基本救助 70, burden 30) brings the year to 30: no alert.
    """
    results = settled(settle(
        benxi_engine,
        claim("1", "p", "2023-02-01", ["低保对象"], "8000.00",
              {"基本医保": "3000.00", "大病保险": "0.00"}, visit="普通门诊"),
        claim("2", "p", "2023-03-01", ["低保对象"], "1000.00",
              {"基本医保": "900.00", "大病保险": "0.00"}),
    ))
    assert [r.personal_burden for r in results] == [D("5000.00"), D("30.00")]
    assert [list(r.alerts) for r in results] == [[], []]


def test_alert_group_is_decided_per_claim_by_its_own_identities(benxi_engine):
    """docs/specification.md §17: the year's burden is compared with the threshold of the group the
    claim's own identities put the person in.

    1. no identity, burden 6,000: 因病致贫风险 group, 6,000 < 2万: no alert.
    2. now 低保对象 (in-scope 1,000, 基本医保 900: 基本救助 70, burden 30): year 6,030 ≥ 5,000
       in the 因病返贫 group: 因病返贫风险 fires on this claim.
    3. no identity again, burden 100: year 6,130 < 2万, but 因病返贫风险 stays listed.
    """
    results = settled(settle(
        benxi_engine,
        claim("1", "p", "2023-02-01", [], "6000.00", {"基本医保": "0.00", "大病保险": "0.00"}),
        claim("2", "p", "2023-03-01", ["低保对象"], "1000.00",
              {"基本医保": "900.00", "大病保险": "0.00"}),
        claim("3", "p", "2023-04-01", [], "100.00", {"基本医保": "0.00", "大病保险": "0.00"}),
    ))
    assert [r.personal_burden for r in results] == [D("6000.00"), D("30.00"), D("100.00")]
    assert [list(r.alerts) for r in results] == [[], ["因病返贫风险"], ["因病返贫风险"]]


@pytest.mark.parametrize("identity, burden, alerts", [
    # in-scope 14,000, 基本医保 10,000 (B = 4,000), total 17,000.
    # 低保边缘家庭成员: 基本救助 60% × 2,000 = 1,200, R 2,800 < 3,000; burden 5,800 ≥ 5,000.
    ("低保边缘家庭成员", "5800.00", ["因病返贫风险"]),
    # 因病致贫重病患者: B < 5,000, nothing paid; burden 7,000, but its threshold is 2万.
    ("因病致贫重病患者", "7000.00", []),
])
def test_major_illness_patients_are_outside_the_return_to_poverty_group(benxi_engine, identity,
                                                                       burden, alerts):
    """Benxi §(八) 全部医疗救助对象（不包括因病致贫重病患者）."""
    [result] = settled(settle(benxi_engine, claim(
        "c", "p", "2023-05-01", [identity], "14000.00",
        {"基本医保": "10000.00", "大病保险": "0.00"}, total="17000.00")))
    assert result.personal_burden == D(burden)
    assert list(result.alerts) == alerts


# ---- mental illness per bed day (§(五)): the amount is not given --------------------------

@pytest.mark.parametrize("identity", ["特困人员", "孤儿", "低保对象", "返贫致贫人口"])
def test_mental_illness_inpatient_claim_needs_the_unspecified_per_bed_day_amount(
        benxi_engine, identity):
    """Benxi §(五): 特困人员、孤儿、低保对象等…严重精神障碍患者…按住院床日给予定额救助, with no
    amount given: docs/specification.md §12, the claim fails (C311) naming the value and the clause,
    and the rest of the batch is settled (B = 15,000 for 低保边缘家庭成员: 7,800 and 2,520)."""
    mental, other = settle(
        benxi_engine,
        burden_claim("m", "p", "2023-05-01", [identity], "15000", mental_disorder=True,
                     bed_days=30),
        burden_claim("o", "q", "2023-05-01", ["低保边缘家庭成员"], "15000"),
    )
    assert isinstance(mental, ClaimError)
    assert (mental.code, mental.claim_id) == ("C311", "m")
    assert "定额标准" in mental.message and "§(五)" in mental.message
    assert assistance(other) == (D("7800.00"), D("2520.00"))


def test_mental_illness_claim_of_margin_family_settles_normally(benxi_engine):
    """Benxi §(五) 低保边缘家庭成员等其他困难群众因精神疾病发生的医疗费用，按规定给予医疗救助:
    no per-bed-day line for them; B = 15,000 pays 7,800 and 2,520 as any 住院 claim."""
    [result] = settled(settle(benxi_engine, burden_claim(
        "m", "p", "2023-05-01", ["低保边缘家庭成员"], "15000", mental_disorder=True, bed_days=30)))
    assert result.payout("精神障碍床日定额救助") == D("0.00")
    assert assistance(result) == (D("7800.00"), D("2520.00"))


def test_per_bed_day_quota_is_for_inpatient_stays_only(benxi_engine):
    """Benxi §(五) 在定点医疗机构住院治疗: a 门诊慢特病 claim of a 特困人员 with a mental
    disorder is settled by the ordinary lines: B = 10,000 → 7,000, then 100% of 3,000."""
    [result] = settled(settle(benxi_engine, burden_claim(
        "m", "p", "2023-05-01", ["特困人员"], "10000", visit="门诊慢特病", mental_disorder=True)))
    assert assistance(result) == (D("7000.00"), D("3000.00"))


# ---- whose year, and in which order (docs/specification.md §6) --------------------------------------

def test_persons_and_years_do_not_share_year_to_date_figures(benxi_engine):
    """docs/specification.md §6: caps and deductibles are per person per calendar year.

    低保边缘家庭成员: p reaches the 2万 cap in 2023 (B = 40,000: 60% × 38,000 = 22,800 →
    20,000); q's claim and p's 2024 claim (B = 15,000 each) are each a year's first: 7,800.
    """
    results = settled(settle(
        benxi_engine,
        burden_claim("p-2023", "p", "2023-12-31", ["低保边缘家庭成员"], "40000"),
        burden_claim("q-2023", "q", "2023-12-31", ["低保边缘家庭成员"], "15000"),
        burden_claim("p-2024", "p", "2024-01-01", ["低保边缘家庭成员"], "15000"),
    ))
    assert [r.payout("基本救助") for r in results] == [
        D("20000.00"), D("7800.00"), D("7800.00")]


def test_results_in_input_order_year_to_date_in_date_order(benxi_engine):
    """docs/specification.md §6: claims consume the year in date order; results come in input order.

    The worked example's claims given out of order (March, January, February): January
    (B = 15,000) pays 7,800, February (10,000) 6,000, March (20,000) the 6,200 left.
    """
    results = settled(settle(
        benxi_engine,
        burden_claim("mar", "p", "2023-03-10", ["低保边缘家庭成员"], "20000"),
        burden_claim("jan", "p", "2023-01-10", ["低保边缘家庭成员"], "15000"),
        burden_claim("feb", "p", "2023-02-10", ["低保边缘家庭成员"], "10000"),
    ))
    assert [r.claim_id for r in results] == ["mar", "jan", "feb"]
    assert [r.payout("基本救助") for r in results] == [
        D("6200.00"), D("7800.00"), D("6000.00")]


def test_claims_on_the_same_day_go_in_input_order(benxi_engine):
    """docs/specification.md §6 (ties: claim order in the input).

    低保边缘家庭成员, same date, B = 10,000 given before B = 15,000: the first pays 60% ×
    8,000 = 4,800; the second G(25,000) − G(10,000) = 13,800 − 4,800 = 9,000.
    """
    results = settled(settle(
        benxi_engine,
        burden_claim("x", "p", "2023-03-10", ["低保边缘家庭成员"], "10000"),
        burden_claim("y", "p", "2023-03-10", ["低保边缘家庭成员"], "15000"),
    ))
    assert [r.payout("基本救助") for r in results] == [D("4800.00"), D("9000.00")]


# ---- rounding (docs/specification.md §3, §3.2) ---------------------------------------------------------

def test_rounding_is_half_up_to_the_fen(benxi_engine):
    """docs/specification.md §3: half up.  低保对象, B = 0.15: 70% × 0.15 = 0.105 → 0.11 (half-even
    would give 0.10); 倾斜救助 R = 0.04 < 3,000 → 0."""
    [result] = settled(settle(benxi_engine, burden_claim("c", "p", "2023-04-01", ["低保对象"],
                                                         "0.15")))
    assert assistance(result) == (D("0.11"), D("0.00"))


def test_slices_round_the_annual_function_not_each_claim(benxi_engine):
    """docs/specification.md §6: slice = round(G(C_after)) − round(G(C_before)).

    因病致贫重病患者 (5,000, 50%): B = 5,000.01, 0.01, 0.01 → C = 5,000.01, 5,000.02,
    5,000.03 → G = 0.005, 0.01, 0.015 → rounded 0.01, 0.01, 0.02 → slices 0.01, 0.00,
    0.01: they add up to round(G(5,000.03)) = 0.02.
    """
    results = settled(settle(
        benxi_engine,
        burden_claim("a", "p", "2023-01-01", ["因病致贫重病患者"], "5000.01"),
        burden_claim("b", "p", "2023-02-01", ["因病致贫重病患者"], "0.01"),
        burden_claim("c", "p", "2023-03-01", ["因病致贫重病患者"], "0.01"),
    ))
    assert [r.payout("基本救助") for r in results] == [D("0.01"), D("0.00"), D("0.01")]
