"""Lhasa 2020 (policies/notices/lhasa-2020.txt §四(四)): amendments to a Tibet-wide base the
seeds do not contain.  Checked on its own; evaluated on a base written here."""

from decimal import Decimal

import pytest

from helpers import POLICIES, claim, settle
from lhasa_base import lhasa_folder, tibet_base
from yibao.api import load_engine
from yibao.dsl.inventory import inventory
from yibao.dsl.loader import load_policy

# A made-up Tibet-wide base, for the test only: its figures are not any real
# notice's.  基本医保 80% above 800 (cap 15万); the lines above it as in
# tests/lhasa_base.py: 大病保险 60% above 1万 (cap 30万); 医疗救助 70% (cap 6万);
# 重特大医疗救助 50% (cap 15万).
TEST_BASE = tibet_base("""line 基本医保 {
    covers 住院, 门诊慢特病 §一
    base in_scope_cost §一
    deductible 800 §一
    rate 80% §一
    cap 15万 §一
}
""")


@pytest.fixture(scope="module")
def lhasa(tmp_path_factory):
    return load_engine(lhasa_folder(tmp_path_factory.mktemp("tibet"), TEST_BASE))


def test_checkable_alone_and_lists_what_it_waits_for():
    report = inventory(load_policy(POLICIES / "lhasa-2020.policy"))
    waiting = {(e["value"], e["identity"]) for e in report["unspecified"]}
    assert ("大病保险.起付标准", "建档立卡贫困人口") in waiting    # times 50% of an unknown base
    # plus 5% of an unknown base, for the visits §四(四)一 names
    assert ("基本医保.支付比例（住院）", "建档立卡贫困人口") in waiting
    assert ("基本医保.支付比例（门诊慢特病）", "建档立卡贫困人口") in waiting
    assert ("医疗救助.年度限额", "建档立卡贫困人口") not in waiting  # 10万 is stated


# Without the base: a batch answers every claim (issue 21 item 2).
WITHOUT_BASE = [
    claim("poor", "p", "2020-06-01", ["建档立卡贫困人口"], "1000.00", {}),
    claim("outpatient", "q", "2020-06-01", [], "1000.00", {}, visit="普通门诊"),
    {"claim_id": "no-cost", "person_id": "q", "date": "2020-06-01", "identities": [],
     "scheme": "居民医保", "visit": "住院", "total_cost": "1000.00", "paid": {}},
    claim("early", "r", "2020-04-22", [], "1000.00", {}),
]


def _outcomes_without_the_base():
    from yibao.runtime.results import outcome_to_json

    engine = load_engine(POLICIES / "lhasa-2020.policy")
    return engine, [outcome_to_json(o, trace=False)
                    for o in engine.evaluate_records(enumerate(WITHOUT_BASE, start=1))]


def test_without_the_base_each_claim_is_refused_naming_the_values_it_needs():
    """A poor person's 住院 claim reads, of the base, 基本医保's deductible, rate (+5 points
    on an unknown rate, §四(四)一) and cap, 大病保险's deductible (halved) and rate (+5)
    — its cap is removed (§四(四)二) — and 医疗救助's and 重特大医疗救助's deductible and
    rate (their caps for the poor are stated, §四(四)三): 9 values."""
    engine, (poor, outpatient, no_cost, early) = _outcomes_without_the_base()
    assert poor["error"] == "C311"
    assert poor["message"] == (
        "lhasa-2020 amends xizang-2019, which is not beside it: this claim needs 9 of its "
        "values: 基本医保.起付标准 [建档立卡贫困人口] §四(四)一; "
        "基本医保.支付比例（住院） [建档立卡贫困人口] §四(四)一; "
        "基本医保.年度限额 [建档立卡贫困人口] §四(四)一; "
        "大病保险.起付标准 [建档立卡贫困人口] §四(四)二; 大病保险.支付比例 [建档立卡贫困人口] §四(四)二; "
        "医疗救助.起付标准 [建档立卡贫困人口] §四(四)三; 医疗救助.支付比例 [建档立卡贫困人口] §四(四)三; "
        "重特大医疗救助.起付标准 [建档立卡贫困人口] §四(四)三; "
        "重特大医疗救助.支付比例 [建档立卡贫困人口] §四(四)三")
    assert "xizang-2019.policy" in poor["hint"]
    # no identity, 普通门诊: every value of the four lines, caps included (12)
    assert outpatient["error"] == "C311"
    assert "this claim needs 12 of its values" in outpatient["message"]
    assert "大病保险.年度限额 [无救助身份] §四(四)二" in outpatient["message"]
    # malformed or early claims keep their own codes
    assert (no_cost["error"], no_cost["field"]) == ("C301", "in_scope_cost")
    assert early["error"] == "C310"


def test_without_the_base_duckdb_refuses_the_same_claims_the_same_way():
    from yibao.backends.run import settle_records

    engine, scalar = _outcomes_without_the_base()
    assert settle_records(engine, WITHOUT_BASE, "duckdb") == scalar


def test_without_the_base_the_cli_writes_one_line_per_claim(tmp_path):
    import json
    import subprocess
    import sys

    claims = tmp_path / "claims.jsonl"
    claims.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in WITHOUT_BASE)
                      + "not json\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "yibao.cli.main", "eval",
                          str(POLICIES / "lhasa-2020.policy"), str(claims)],
                         capture_output=True, text=True, encoding="utf-8")
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [line["error"] for line in lines] == ["C311", "C311", "C301", "C310", "C300"]
    assert run.returncode == 1   # some claims refused; none settled, and no S230


def test_amended_values_for_the_poor(lhasa):
    """+5 points on 基本医保 (85%); 大病 deductible halved (5,000), +5 points (65%), no
    cap; 医疗救助 cap 10万; 重特大 cap 20万."""
    policy = lhasa.policy
    lines = {line.name: line for line in policy.lines}
    poor = "建档立卡贫困人口"
    assert lines["基本医保"].rate.for_claim(poor, "住院").value == Decimal("0.85")
    assert lines["基本医保"].rate.for_claim(poor, "门诊慢特病").value == Decimal("0.85")
    assert lines["基本医保"].rate.for_identity(poor).value == Decimal("0.8")
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


def test_patients_at_risk_are_referred_too_with_the_base_s_values(lhasa):
    """§四(四): 一事一议 is also for "存在因病致贫返贫风险的农牧区重病患者".  In-scope
    1,000,000: 基本医保 80% × 999,200 → cap 150,000; 大病保险 60% × (850,000 − 10,000)
    = 504,000 → cap 300,000; 医疗救助 70% × 550,000 = 385,000 → the base's cap 60,000
    (the 10万 is for the poor); 重特大 50% × 490,000 = 245,000 → cap 150,000.  The cap
    cut 医疗救助: referred.  The same claim with no identity is paid the same, not referred."""
    at_risk, nobody = settle(
        lhasa,
        claim("a", "p", "2020-07-01", ["因病致贫返贫风险重病患者"], "1000000.00", {}),
        claim("b", "q", "2020-07-01", [], "1000000.00", {}))
    expected = [Decimal("150000.00"), Decimal("300000.00"), Decimal("60000.00"),
                Decimal("150000.00")]
    assert [amount for _, amount in at_risk.payouts] == expected
    assert [amount for _, amount in nobody.payouts] == expected
    assert at_risk.referrals == ("一事一议",)
    assert nobody.referrals == ()


def test_referral_to_case_review_when_the_assistance_cap_bites(lhasa):
    """In-scope 1,000,000 for a poor person: 医疗救助 70% × 300,750 = 210,525 is cut
    to the 10万 cap, so the claim is referred to 一事一议 (never paid by it)."""
    [result] = settle(lhasa, claim("a", "p", "2020-07-01", ["建档立卡贫困人口"],
                                   "1000000.00", {}))
    assert result.payout("医疗救助") == Decimal("100000.00")
    assert result.payout("重特大医疗救助") == Decimal("100375.00")
    assert result.referrals == ("一事一议",)
    assert "一事一议" not in dict(result.payouts)


@pytest.fixture(scope="module")
def lhasa_with_outpatient(tmp_path_factory):
    """基本医保 of the base covers 普通门诊 too, at 70% (tests/lhasa_base.py)."""
    return load_engine(lhasa_folder(tmp_path_factory.mktemp("tibet-outpatient")))


def test_the_plus_five_points_are_for_inpatient_and_special_outpatient_only(
        lhasa_with_outpatient):
    """§四(四)一: "贫困人员符合规定的住院、门诊特殊病医疗费用提高5%的报销比例".  A poor
    person's 普通门诊 claim of 1,000 keeps the base's 70% (700.00, not 750.00); a 住院
    claim of 1,000 gets 75% (750.00), and so does a 门诊慢特病 claim (750.00)."""
    outpatient, inpatient, special = settle(
        lhasa_with_outpatient,
        claim("g", "p", "2020-06-01", ["建档立卡贫困人口"], "1000.00", {}, visit="普通门诊"),
        claim("h", "q", "2020-06-01", ["建档立卡贫困人口"], "1000.00", {}, visit="住院"),
        claim("s", "r", "2020-06-01", ["建档立卡贫困人口"], "1000.00", {}, visit="门诊慢特病"))
    assert outpatient.payout("基本医保") == Decimal("700.00")
    assert inpatient.payout("基本医保") == Decimal("750.00")
    assert special.payout("基本医保") == Decimal("750.00")


def test_the_trace_quotes_the_amendment_only_for_the_visits_it_names(lhasa_with_outpatient):
    outpatient, inpatient = settle(
        lhasa_with_outpatient,
        claim("g", "p", "2020-06-01", ["建档立卡贫困人口"], "1000.00", {}, visit="普通门诊"),
        claim("h", "q", "2020-06-01", ["建档立卡贫困人口"], "1000.00", {}, visit="住院"),
        trace=True)
    [general_rate] = [s for s in outpatient.trace if s.node == "基本医保.rate"]
    [inpatient_rate] = [s for s in inpatient.trace if s.node == "基本医保.rate"]
    assert (general_rate.facts.value, general_rate.clause, general_rate.version) == (
        Decimal("0.70"), "一", "xizang-2019")
    assert (inpatient_rate.facts.value, inpatient_rate.clause, inpatient_rate.version) == (
        Decimal("0.75"), "四(四)一", "lhasa-2020")


def test_one_year_of_mixed_visits_pays_each_claim_at_its_visit_s_rate(lhasa_with_outpatient):
    """Same person, one year: 住院 1,000 then 普通门诊 1,000 then 住院 1,000.  No
    deductible; the cap of 2万 is far: each pays its own visit's share of its slice (750, 700,
    750)."""
    results = settle(
        lhasa_with_outpatient,
        claim("a", "p", "2020-05-01", ["建档立卡贫困人口"], "1000.00", {}, visit="住院"),
        claim("b", "p", "2020-06-01", ["建档立卡贫困人口"], "1000.00", {}, visit="普通门诊"),
        claim("c", "p", "2020-07-01", ["建档立卡贫困人口"], "1000.00", {}, visit="住院"))
    assert [r.payout("基本医保") for r in results] == [
        Decimal("750.00"), Decimal("700.00"), Decimal("750.00")]
