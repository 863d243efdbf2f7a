"""Jilin 2019 notice (policies/notices/jilin-2019.txt): five lines of defence, costs outside
the catalogue never paid (§二(一)), out-of-province 兜底 from 2020, and no zero
contribution except 特困供养人员 and 孤儿 (§一(三))."""

from decimal import Decimal

import pytest

from helpers import POLICIES, claim, settle
from yibao.api import load_engine
from yibao.runtime.claims import ClaimError
from yibao.runtime.subsidy import settle_subsidy
from yibao.dsl.checker import check_policy
from yibao.dsl.parser import parse_policy


@pytest.fixture(scope="module")
def jilin():
    return load_engine(POLICIES / "jilin-2020.policy")


def paid(basic, major, assistance, backstop):
    return {"基本医保": basic, "大病保险": major, "医疗救助": assistance, "大病兜底": backstop}


def test_five_lines_in_order(jilin):
    assert [line.name for line in jilin.policy.lines] == ["基本医保", "大病保险", "医疗救助", "大病兜底"]


def test_out_of_catalogue_never_paid_by_the_first_three_lines(jilin):
    """§二(一): 30,000 + 8,000 + 5,000 on an in-scope cost of 40,000 reaches outside it."""
    [error] = settle(jilin, claim("a", "p", "2020-05-01", ["特困供养人员"], "40000.00",
                                  paid("30000.00", "8000.00", "5000.00", "0.00"), total="50000.00"))
    assert (error.code, error.field) == ("C308", "paid.医疗救助")
    assert "2000.00" in error.message


def test_backstop_in_province_may_reach_out_of_catalogue_costs(jilin):
    """In province, 大病兜底 follows 35号 and may pay up to the bill: 15,000 of the
    10,000 out-of-catalogue + 5,000 in-scope remainder leaves the person 0."""
    [result] = settle(jilin, claim("a", "p", "2020-06-01", ["孤儿"], "40000.00",
                                   paid("24000.00", "6000.00", "5000.00", "15000.00"),
                                   total="50000.00", in_province=True))
    assert (result.total_paid, result.personal_burden) == (Decimal("50000.00"), Decimal("0.00"))


def test_out_of_province_backstop_only_in_catalogue_from_2020(jilin):
    """From 2020-01-01, out of province: 兜底 at most in-scope 40,000 − 35,000 = 5,000."""
    outcomes = settle(
        jilin,
        claim("a", "p", "2020-03-01", ["建档立卡贫困人口"], "40000.00",
              paid("24000.00", "6000.00", "5000.00", "8000.00"), total="50000.00",
              in_province=False, standard_care=True),
        claim("b", "p", "2020-03-20", ["建档立卡贫困人口"], "40000.00",
              paid("24000.00", "6000.00", "5000.00", "5000.00"), total="50000.00",
              in_province=False, standard_care=True),
        claim("c", "q", "2019-12-20", ["建档立卡贫困人口"], "40000.00",
              paid("24000.00", "6000.00", "5000.00", "8000.00"), total="50000.00",
              in_province=False),
    )
    assert isinstance(outcomes[0], ClaimError) and outcomes[0].code == "C308"
    assert "§二(一)" in outcomes[0].message
    assert outcomes[1].personal_burden == Decimal("10000.00")
    # Before 2020 the out-of-province rule was not yet in force.
    assert outcomes[2].policy == "jilin-2019" and outcomes[2].total_paid == Decimal("43000.00")


def test_out_of_province_care_that_is_not_standard_has_no_bound(jilin):
    """§二(一) bounds 兜底 only for out-of-province care "符合规范就医的": for other care
    the notice gives no bound, so a claim on which 大病兜底 paid (3,000) is refused with
    C311 naming the clause, whether standard_care is false or not stated; paying 0 is
    settled (in-scope 40,000: 24,000 + 6,000 + 5,000 = 35,000 paid, 15,000 borne)."""
    not_standard, not_stated, nothing_paid = settle(
        jilin,
        claim("a", "p", "2020-04-01", ["建档立卡贫困人口"], "40000.00",
              paid("24000.00", "6000.00", "5000.00", "3000.00"), total="50000.00",
              in_province=False, standard_care=False),
        claim("b", "q", "2020-04-01", ["建档立卡贫困人口"], "40000.00",
              paid("24000.00", "6000.00", "5000.00", "3000.00"), total="50000.00",
              in_province=False),
        claim("c", "r", "2020-04-01", ["建档立卡贫困人口"], "40000.00",
              paid("24000.00", "6000.00", "5000.00", "0.00"), total="50000.00",
              in_province=False, standard_care=False))
    for error in (not_standard, not_stated):
        assert (error.code, error.field) == ("C311", "paid.大病兜底")
        assert error.message == (
            "大病兜底 paid 3000.00, but what it may pay for this claim is unspecified in "
            "jilin-2020 §二(一) (省外非规范就医的兜底范围本通知未规定); this claim needs it")
    assert (nothing_paid.total_paid, nothing_paid.personal_burden) == (
        Decimal("35000.00"), Decimal("15000.00"))


def test_out_of_province_bounds_are_the_same_on_duckdb(jilin):
    from yibao.backends.run import settle_records
    from yibao.runtime.results import outcome_to_json

    claims = [claim(f"c{i}", f"p{i}", "2020-04-01", ["建档立卡贫困人口"], "40000.00",
                    paid("24000.00", "6000.00", "5000.00", backstop), total="50000.00",
                    in_province=False, **care)
              for i, (backstop, care) in enumerate([
                  ("3000.00", {"standard_care": False}), ("3000.00", {}),
                  ("0.00", {"standard_care": False}), ("5000.00", {"standard_care": True}),
                  ("6000.00", {"standard_care": True})])]
    scalar = [outcome_to_json(o, trace=False)
              for o in jilin.evaluate_records(enumerate(claims, start=1))]
    assert [o.get("error") for o in scalar] == ["C311", "C311", None, None, "C308"]
    assert settle_records(jilin, claims, "duckdb") == scalar


def test_backstop_pays_only_the_poor(jilin):
    [error] = settle(jilin, claim("a", "p", "2020-04-01", [], "25000.00",
                                  paid("15000.00", "2000.00", "0.00", "1000.00")))
    assert (error.code, error.field) == ("C308", "paid.大病兜底")


def test_premium_subsidy_full_only_for_extremely_poor_and_orphans(jilin):
    """§一(三): 特困供养人员 and 孤儿 full; other 贫困人口 a fixed amount (not given)."""
    policy = jilin.policy
    assert settle_subsidy(policy, ["孤儿"], Decimal("250")).personal_contribution == 0
    with pytest.raises(ClaimError) as error:
        settle_subsidy(policy, ["建档立卡贫困人口"], Decimal("250"))
    assert error.value.code == "C311"


def test_full_subsidy_for_others_is_over_subsidy():
    """§一(三): a policy giving 建档立卡贫困人口 a full subsidy is rejected (过度资助)."""
    text = (POLICIES / "jilin-2019.policy").read_text(encoding="utf-8").replace(
        '建档立卡贫困人口: fixed unspecified "定额资助标准未在本通知中给出"', "建档立卡贫困人口: full")
    result = check_policy(parse_policy(text, "jilin-bad.policy"))
    [diagnostic] = [d for d in result.diagnostics if d.code == "S229"]
    assert "过度资助" in diagnostic.message
    assert diagnostic.span.line == text.splitlines().index(
        next(l for l in text.splitlines() if "建档立卡贫困人口: full" in l)) + 1


def test_fixed_subsidy_at_or_above_the_contribution_is_over_subsidy(tmp_path):
    text = (POLICIES / "jilin-2019.policy").read_text(encoding="utf-8").replace(
        'fixed unspecified "定额资助标准未在本通知中给出"', "fixed 300")
    path = tmp_path / "jilin-2019.policy"
    path.write_text(text, encoding="utf-8")
    policy = load_engine(path).policy
    assert settle_subsidy(policy, ["建档立卡贫困人口"], Decimal("350")).personal_contribution == 50
    with pytest.raises(ClaimError) as error:
        settle_subsidy(policy, ["建档立卡贫困人口"], Decimal("250"))
    assert error.value.code == "C316"
