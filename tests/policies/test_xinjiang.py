"""Xinjiang 2023 notice (policies/notices/xinjiang-2023.txt): the 95% ceiling (§四), take
highest (§四), the 2,000 alert line (§三) and premium subsidies (§一)."""

from decimal import Decimal

import pytest

from helpers import POLICIES, claim, settle
from yibao.api import load_engine
from yibao.runtime.claims import ClaimError
from yibao.runtime.subsidy import settle_subsidy


@pytest.fixture(scope="module")
def xinjiang():
    return load_engine(POLICIES / "xinjiang-2023.policy")


def paid(basic, major, assistance):
    return {"基本医保": basic, "大病保险": major, "医疗救助": assistance}


def test_ceiling_cuts_assistance_to_95_percent(xinjiang):
    """§四: key targets' combined payout ≤ 95% of in-scope inpatient cost: 7,000 + 3,000
    on 10,000 exceeds 9,500, so 医疗救助 is cut from 3,000 to 2,500."""
    [result] = settle(xinjiang, claim("a", "p", "2023-03-01", ["特困人员"], "10000.00",
                                      paid("7000.00", "0.00", "3000.00"), total="10500.00"))
    assert result.payout("医疗救助") == Decimal("2500.00")
    assert result.total_paid == Decimal("9500.00")
    assert result.personal_burden == Decimal("1000.00")


def test_ceiling_not_reached_and_not_for_others(xinjiang):
    results = settle(
        xinjiang,
        claim("a", "p", "2023-03-02", ["低保对象"], "20000.00", paid("12000.00", "2000.00", "4000.00")),
        claim("b", "q", "2023-03-02", ["低保边缘家庭成员"], "10000.00", paid("7000.00", "0.00", "3000.00")),
        claim("c", "r", "2023-03-02", ["特困人员"], "10000.00", paid("7000.00", "0.00", "3000.00"),
              visit="门诊慢特病"),
    )
    assert [r.payout("医疗救助") for r in results] == [Decimal("4000.00")] * 1 + [
        Decimal("3000.00"), Decimal("3000.00")]


def test_orphans_are_treated_as_extremely_poor_and_capped(xinjiang):
    """特困人员（含孤儿）: 8,000 paid in full exceeds 7,600 → 医疗救助 1,600."""
    [result] = settle(xinjiang, claim("a", "p", "2023-06-06", ["孤儿"], "8000.00",
                                      paid("6000.00", "0.00", "2000.00")))
    assert (result.identity, result.payout("医疗救助")) == ("特困人员", Decimal("1600.00"))


def test_holding_another_identity_never_lifts_the_ceiling(xinjiang):
    """A 特困人员 who is also 低保边缘家庭成员 is still a key target: 12,000 → 11,400."""
    [result] = settle(xinjiang, claim("a", "p", "2023-06-07", ["低保边缘家庭成员", "特困人员"],
                                      "12000.00", paid("8000.00", "1000.00", "3000.00")))
    assert result.total_paid == Decimal("11400.00")
    assert result.payout("医疗救助") == Decimal("2400.00")


def test_alert_at_2000_after_basic_and_major_illness(xinjiang):
    """§三: burden after 基本医保 and 大病保险 reaching 2,000 over the year."""
    results = settle(
        xinjiang,
        claim("a", "p", "2023-05-04", ["脱贫不稳定户"], "3000.00", paid("2000.00", "0.00", "0.00"),
              total="3200.00"),
        claim("b", "p", "2023-07-05", ["脱贫不稳定户"], "1200.00", paid("300.00", "0.00", "0.00"),
              total="1300.00", visit="普通门诊"),
        claim("c", "q", "2023-05-04", ["稳定脱贫人口"], "3000.00", paid("500.00", "0.00", "0.00")),
    )
    # 3,200 − 2,000 = 1,200 < 2,000; then + 1,300 − 300 = 2,200 ≥ 2,000.
    assert [r.alerts for r in results] == [(), ("因病返贫致贫风险",), ()]


def test_upstream_assistance_beyond_the_bill_is_rejected(xinjiang):
    [error] = settle(xinjiang, claim("a", "p", "2023-08-08", ["特困人员"], "9000.00",
                                     paid("6000.00", "0.00", "3500.00")))
    assert (error.code, error.field) == ("C308", "paid.医疗救助")


def test_subsidies_full_for_extremely_poor_and_amounts_unspecified(xinjiang):
    """§一: 特困人员（含孤儿）全额; the fixed amounts are left to the local fund."""
    policy = xinjiang.policy
    result = settle_subsidy(policy, ["孤儿"], Decimal("380"))
    assert (result.subsidy, result.personal_contribution) == (Decimal("380.00"), Decimal("0.00"))
    with pytest.raises(ClaimError) as error:
        settle_subsidy(policy, ["边缘人群"], Decimal("380"))
    assert error.value.code == "C311"
    bound = policy.subsidy.for_identity("边缘人群").value
    assert bound.at_most == "稳定脱贫人口"


# ---- groups the notice names besides 稳定脱贫人口 (issue 21 item 3) ------------------

def test_monitored_persons_are_treated_by_the_hardship_identity_they_hold(xinjiang):
    """§四 "做好防止返贫监测对象医疗救助工作，依据其困难身份类别，精准实施分类救助":
    a claim may name 防止返贫监测对象 (it was refused as unknown, C305).  Alone it binds
    no ceiling: 7,000 + 3,000 on an in-scope 10,000 is paid in full.  Held with 低保对象,
    a key target, the 95% ceiling cuts 医疗救助 3,000 → 2,500."""
    alone, with_dibao = settle(
        xinjiang,
        claim("a", "p", "2023-03-01", ["防止返贫监测对象"], "10000.00",
              paid("7000.00", "0.00", "3000.00")),
        claim("b", "q", "2023-03-01", ["防止返贫监测对象", "低保对象"], "10000.00",
              paid("7000.00", "0.00", "3000.00")))
    assert alone.total_paid == Decimal("10000.00")
    assert with_dibao.payout("医疗救助") == Decimal("2500.00")


def test_poverty_alleviated_persons_get_no_invented_alert_and_no_guessed_subsidy(xinjiang):
    """§三 fixes the 2,000 line for 低保边缘对象 and 农村易返贫致贫人口 only: a 脱贫人口
    with a burden of 2,500 after 基本医保 and 大病保险 is not alerted.  §一's subsidy for
    a 脱贫人口 depends on whether they are stable, which the identity does not say, and
    neither amount is given: refused (C311)."""
    [result] = settle(xinjiang, claim("a", "p", "2023-05-04", ["脱贫人口"], "3000.00",
                                      paid("500.00", "0.00", "0.00")))
    assert result.personal_burden == Decimal("2500.00")
    assert result.alerts == ()
    with pytest.raises(ClaimError) as error:
        settle_subsidy(xinjiang.policy, ["脱贫人口"], Decimal("380"))
    assert error.value.code == "C311"
    assert "§一" in error.value.message


def test_the_ceiling_cut_is_a_node_the_totals_read(xinjiang):
    """xj-0007 (§四): 8,000 + 1,000 + 3,000 = 12,000 on an in-scope 12,000 passes 95% ×
    12,000 = 11,400; the 600 above it is cut from 医疗救助, the line the ceiling reduces.
    The cut is its own node, 医疗救助.after_ceiling (3,000 − 600 = 2,400), and the totals
    declare it as their input: the drawn graph is the evaluated one."""
    from yibao.compiler.graph import Op
    from yibao.compiler.lower import lower_policy
    from yibao.runtime.facts import CeilingCutFacts

    graph = lower_policy(xinjiang.policy)
    cut = graph.node("医疗救助.after_ceiling")
    assert (cut.op, cut.inputs) == (Op.CEILING_CUT, (("ceiling", "ratio_ceiling"),
                                                     ("payout", "医疗救助.payout")))
    # only the reduced line is cut; the upstream insurance lines pass through unchanged
    assert [s for r, s in graph.node("total_paid").inputs if r == "payout"] == [
        "基本医保.payout", "大病保险.payout", "医疗救助.after_ceiling"]
    [result] = settle(xinjiang, claim("xj-0007", "q-6", "2023-06-07",
                                      ["低保边缘家庭成员", "特困人员"], "12000.00",
                                      paid("8000.00", "1000.00", "3000.00")), trace=True)
    assert (result.payout("医疗救助"), result.total_paid) == (Decimal("2400.00"),
                                                             Decimal("11400.00"))
    cuts = [s.facts for s in result.trace if s.node == "医疗救助.after_ceiling"
            and s.candidate == "特困人员"]
    assert cuts == [CeilingCutFacts("医疗救助", Decimal("3000.00"), Decimal("2400.00"))]
