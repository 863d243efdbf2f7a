"""Jiamusi 2021 notice (policies/notices/jiamusi-2021.txt §二.1): 大病保险 2021 and, from
2022-01-01, the bands; both versions settle in one run by claim date."""

from decimal import Decimal

import pytest

from helpers import EXAMPLES, POLICIES, claim, settle
from yibao.api import evaluate_claims, load_engine, read_claims_file
from yibao.runtime.claims import ClaimError


@pytest.fixture(scope="module")
def jiamusi():
    return load_engine(POLICIES / "jiamusi-2022.policy")


def paid(basic: str) -> dict:
    return {"基本医保": basic}


def test_version_chain_and_financing_parameters(jiamusi):
    """§一: 580 per capita (348/162.4/69.6 and 348/139.2/92.8), 310 → 350, 大病 85."""
    first, second = jiamusi.versions
    assert (first.policy_id, str(first.effective)) == ("jiamusi-2021", "2021-01-01")
    assert (second.policy_id, str(second.effective)) == ("jiamusi-2022", "2022-01-01")
    value = lambda policy, name, key=None: policy.param(name).for_identity(key).value
    assert value(first, "人均财政补助") == Decimal("580")
    shares = [value(first, "均衡性转移支付市县财政分担", k) for k in ("中央", "省级", "市县级")]
    assert shares == [Decimal("348"), Decimal("162.4"), Decimal("69.6")] and sum(shares) == 580
    shares = [value(first, "非均衡性转移支付市县财政分担", k) for k in ("中央", "省级", "市县级")]
    assert sum(shares) == 580
    assert value(first, "个人缴费标准") == Decimal("310")
    assert value(second, "个人缴费标准") == Decimal("350")
    assert value(second, "大病保险筹资标准") == Decimal("85")
    assert second.param("大病保险筹资标准").for_identity(None).inherited


def test_2021_general_rate_and_year_to_date(jiamusi):
    """2021: deductible 1.2万, 60%.  Burden 20,000 pays 60% × 8,000 = 4,800; a second
    burden of 50,000 brings C to 70,000: 60% × 58,000 − 4,800 = 30,000."""
    results = settle(
        jiamusi,
        claim("a", "p", "2021-03-10", [], "50000.00", paid("30000.00")),
        claim("b", "p", "2021-08-15", [], "100000.00", paid("50000.00")),
    )
    assert [r.payout("大病保险") for r in results] == [Decimal("4800.00"), Decimal("30000.00")]
    assert results[0].policy == "jiamusi-2021"


def test_2021_cap_of_500000(jiamusi):
    """2021 cap 50万: base 1,200,000 would pay 60% × 1,188,000 = 712,800; paid 500,000."""
    [result] = settle(jiamusi, claim("a", "p", "2021-06-01", [], "1500000.00", paid("300000.00")))
    assert result.payout("大病保险") == Decimal("500000.00")


def test_2021_poverty_alleviated_deductible_6000_rate_65_no_cap(jiamusi):
    """脱贫人口: 6,000, 65%, no cap. 12,000 → 3,900; then 8,000 more → 65% × 14,000 − 3,900."""
    results = settle(
        jiamusi,
        claim("a", "p", "2021-05-01", ["脱贫人口"], "30000.00", paid("18000.00")),
        claim("b", "p", "2021-11-20", ["脱贫人口"], "20000.00", paid("12000.00")),
        claim("c", "q", "2021-06-01", ["脱贫人口"], "1500000.00", paid("300000.00")),
    )
    assert [r.payout("大病保险") for r in results] == [
        Decimal("3900.00"), Decimal("5200.00"), Decimal("776100.00")]  # 65% × 1,194,000


def test_2022_bands_and_no_cap(jiamusi):
    """From 2022-01-01: 65% of the first 2万 above the deductible, 70% of 2万–5万,
    75% beyond; no cap.  Above-deductible 48,000: 13,000 + 19,600 = 32,600; then
    88,000: 13,000 + 21,000 + 75% × 38,000 = 62,500 → slice 29,900."""
    results = settle(
        jiamusi,
        claim("a", "p", "2022-02-01", [], "100000.00", paid("40000.00")),
        claim("b", "p", "2022-06-01", [], "60000.00", paid("20000.00"), visit="门诊慢特病"),
        claim("c", "q", "2022-01-01", [], "1500000.00", paid("300000.00")),
    )
    assert [r.payout("大病保险") for r in results] == [
        Decimal("32600.00"), Decimal("29900.00"), Decimal("887500.00")]
    assert {r.policy for r in results} == {"jiamusi-2022"}


def test_both_sides_of_2022_in_one_file(jiamusi):
    """The shipped example file mixes 2021 and 2022 claims: each settles under its version."""
    outcomes = evaluate_claims(jiamusi, read_claims_file(EXAMPLES / "jiamusi-2022.jsonl"))
    by_id = {o.claim_id: o for o in outcomes}
    assert by_id["jm-0001"].policy == "jiamusi-2021"
    assert by_id["jm-0005"].policy == "jiamusi-2022"
    assert by_id["jm-0002"].payout("大病保险") == Decimal("30000.00")
    assert by_id["jm-0005"].payout("大病保险") == Decimal("32600.00")
    assert by_id["jm-0010"].payout("大病保险") == Decimal("0.00")   # 普通门诊
    assert by_id["jm-0011"].payout("大病保险") == Decimal("887500.00")
    assert by_id["jm-0012"].payout("大病保险") == Decimal("5200.00")
    errors = {o.claim_id: o.code for o in outcomes if isinstance(o, ClaimError)}
    assert errors == {"jm-0007": "C311", "jm-0008": "C311", "jm-0009": "C314"}


def test_ambiguous_2022_poverty_alleviated_rate_is_reported_not_guessed(jiamusi):
    """§二.1 does not say whether 脱贫人口 keep 65% or take the bands from 2022."""
    [error] = settle(jiamusi, claim("a", "p", "2022-03-03", ["脱贫人口"], "28000.00",
                                    paid("15000.00")))
    assert isinstance(error, ClaimError) and error.code == "C311"
    assert "脱贫人口" in error.message and "§二.1" in error.message


def test_tilted_groups_without_figures_are_refused(jiamusi):
    """§二.1 continues a 倾斜性保障 for 特困人员, 低保对象, 返贫致贫人口 with no figure."""
    for identity in ("特困人员", "低保对象", "返贫致贫人口"):
        [error] = settle(jiamusi, claim("a", "p", "2021-09-09", [identity], "36000.00",
                                        paid("20000.00")))
        assert error.code == "C311" and identity in error.message


def test_employee_scheme_is_an_error(jiamusi):
    [error] = settle(jiamusi, claim("a", "p", "2021-09-09", [], "36000.00", paid("20000.00"),
                                    scheme="职工医保"))
    assert (error.code, error.field) == ("C314", "scheme")


def test_inherited_deductible_is_marked_in_the_trace(jiamusi):
    """2022 does not restate the deductible: the trace says it is carried over from 2021."""
    [result] = settle(jiamusi, claim("a", "p", "2022-02-01", [], "100000.00", paid("40000.00")),
                      trace=True)
    step = next(s for s in result.trace if s.node == "大病保险.deductible")
    assert (step.facts.value, step.inherited, step.version) == (Decimal("12000"), True,
                                                                "jiamusi-2021")
    rate = next(s for s in result.trace if s.node == "大病保险.rate")
    assert (rate.inherited, rate.version) == (False, "jiamusi-2022")
