"""Lhasa 2020 (seeds/lhasa-2020.txt §四(四)): amendments to a Tibet-wide base the
seeds do not contain.  Checked on its own; evaluated on a base written here."""

import shutil
from decimal import Decimal

import pytest

from helpers import POLICIES, claim, settle
from yibao.api import load_engine
from yibao.core.diagnostics import PolicyError
from yibao.dsl.inventory import inventory
from yibao.dsl.loader import load_policy

# A made-up Tibet-wide base, for the test only: its figures are not any real
# notice's.  基本医保 80% above 800 (cap 15万); 大病保险 60% above 1万 (cap 30万);
# 医疗救助 70% (cap 6万); 重特大医疗救助 50% (cap 15万).
TEST_BASE = """
policy xizang-2019 {
    title "测试用西藏基础政策（虚构）"
    effective 2019-01-01
}
identity 建档立卡贫困人口 §一 "测试"
line 基本医保 {
    covers 住院, 门诊慢特病 §一
    base in_scope_cost §一
    deductible 800 §一
    rate 80% §一
    cap 15万 §一
}
line 大病保险 {
    covers 住院, 门诊慢特病 §二
    base remaining §二
    deductible 1万 §二
    rate 60% §二
    cap 30万 §二
}
line 医疗救助 {
    covers 住院, 门诊慢特病 §三
    base remaining §三
    deductible 0 §三
    rate 70% §三
    cap 6万 §三
}
line 重特大医疗救助 {
    covers 住院, 门诊慢特病 §三
    base remaining §三
    deductible 0 §三
    rate 50% §三
    cap 15万 §三
}
"""


@pytest.fixture(scope="module")
def lhasa(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tibet")
    (folder / "xizang-2019.policy").write_text(TEST_BASE, encoding="utf-8")
    shutil.copy(POLICIES / "lhasa-2020.policy", folder / "lhasa-2020.policy")
    return load_engine(folder / "lhasa-2020.policy")


def test_checkable_alone_and_lists_what_it_waits_for():
    report = inventory(load_policy(POLICIES / "lhasa-2020.policy"))
    waiting = {(e["value"], e["identity"]) for e in report["unspecified"]}
    assert ("大病保险.起付标准", "建档立卡贫困人口") in waiting    # times 50% of an unknown base
    assert ("基本医保.支付比例", "建档立卡贫困人口") in waiting    # plus 5% of an unknown base
    assert ("医疗救助.年度限额", "建档立卡贫困人口") not in waiting  # 10万 is stated


def test_evaluation_without_the_base_names_missing_values_and_clauses():
    with pytest.raises(PolicyError) as error:
        load_engine(POLICIES / "lhasa-2020.policy")
    [diagnostic] = error.value.diagnostics
    assert diagnostic.code == "S230"
    assert "xizang-2019" in diagnostic.message
    assert "大病保险.起付标准 [建档立卡贫困人口] §四(四)二" in diagnostic.message


def test_amended_values_for_the_poor(lhasa):
    """+5 points on 基本医保 (85%); 大病 deductible halved (5,000), +5 points (65%), no
    cap; 医疗救助 cap 10万; 重特大 cap 20万."""
    policy = lhasa.policy
    lines = {line.name: line for line in policy.lines}
    poor = "建档立卡贫困人口"
    assert lines["基本医保"].rate.for_identity(poor).value == Decimal("0.85")
    assert lines["基本医保"].rate.for_identity(None).value == Decimal("0.8")
    assert lines["大病保险"].deductible.for_identity(poor).value == Decimal("5000")
    assert lines["大病保险"].rate.for_identity(poor).value == Decimal("0.65")
    assert lines["大病保险"].cap.for_identity(poor).value is None
    assert lines["医疗救助"].cap.for_identity(poor).value == Decimal("100000")
    assert lines["重特大医疗救助"].cap.for_identity(poor).value == Decimal("200000")
    assert lines["医疗救助"].cap.for_identity(None).value == Decimal("60000")


def test_poor_and_non_poor_settle_differently(lhasa):
    """In-scope 200,000.  Poor: 85% × 199,200 = 169,320 → cap 150,000; 大病 65% ×
    (50,000 − 5,000) = 29,250; 医疗救助 70% × 20,750 = 14,525; 重特大 50% × 6,225 =
    3,112.50.  Others: 150,000; 60% × 40,000 = 24,000; 70% × 26,000 = 18,200; 3,900."""
    poor, other = settle(
        lhasa,
        claim("a", "p", "2020-06-01", ["建档立卡贫困人口"], "200000.00", {}, total="210000.00"),
        claim("b", "q", "2020-06-01", [], "200000.00", {}, total="210000.00"),
    )
    assert [amount for _, amount in poor.payouts] == [
        Decimal("150000.00"), Decimal("29250.00"), Decimal("14525.00"), Decimal("3112.50")]
    assert [amount for _, amount in other.payouts] == [
        Decimal("150000.00"), Decimal("24000.00"), Decimal("18200.00"), Decimal("3900.00")]
    assert poor.referrals == () and other.referrals == ()


def test_referral_to_case_review_when_the_assistance_cap_bites(lhasa):
    """In-scope 1,000,000 for a poor person: 医疗救助 70% × 300,750 = 210,525 is cut
    to the 10万 cap, so the claim is referred to 一事一议 (never paid by it)."""
    [result] = settle(lhasa, claim("a", "p", "2020-07-01", ["建档立卡贫困人口"],
                                   "1000000.00", {}))
    assert result.payout("医疗救助") == Decimal("100000.00")
    assert result.payout("重特大医疗救助") == Decimal("100375.00")
    assert result.referrals == ("一事一议",)
    assert "一事一议" not in dict(result.payouts)
