"""Completeness rules L301–L303 and monotonicity L401: bad and good policies."""

from __future__ import annotations

from yibao.core.diagnostics import Severity


def _revision_of(good: str) -> dict:
    parent = good.replace("policy t-2023 {", "policy base-2022 {").replace(
        "effective 2023-01-01", "effective 2022-01-01")
    return {"base-2022.policy": parent}


REVISION = "policy t-2023 extends base-2022 {\n    effective 2023-01-01\n}\n"


# ---- L301 unspecified-value ------------------------------------------------------------


def test_l301_an_unspecified_value_without_a_reason_is_a_warning(lint, good, at):
    findings = lint(good.replace("cap 2万 §(五)", "cap unspecified §(五)"))
    assert at(findings, "L301") == [(21, 9)]
    assert findings[0].severity is Severity.WARNING
    assert "基本救助.年度限额 for everyone is unspecified" in findings[0].message


def test_l301_an_unspecified_value_with_its_reason_is_information(lint, good, at):
    findings = lint(good.replace("cap 2万 §(五)", 'cap unspecified "另行规定" §(五)'))
    assert at(findings, "L301") == [(21, 9)]
    assert findings[0].severity is Severity.INFO and findings[0].message.endswith(": 另行规定")


def test_l301_not_for_given_values(lint, good, at):
    assert at(lint(good), "L301") == []


# ---- L302 inherited-value --------------------------------------------------------------


def test_l302_values_a_revision_carries_over(lint, good, at):
    findings = lint(REVISION + "amend 基本救助 {\n    cap 3万 §(五)\n}\n", **_revision_of(good))
    assert at(findings, "L302") == [(4, 7), (4, 7)]   # the amended line's name, twice
    messages = [f.message for f in findings if f.code == "L302"]
    assert messages == [
        "基本救助.起付标准 for 低保对象, 低保边缘家庭成员 is inherited unchanged from base-2022 §(五)",
        "基本救助.支付比例 for 低保对象, 低保边缘家庭成员 is inherited unchanged from base-2022 §(五)",
    ]
    assert {f.severity for f in findings if f.code == "L302"} == {Severity.INFO}


def test_l302_not_for_a_policy_that_extends_nothing(lint, good, at):
    assert at(lint(good), "L302") == []


# ---- L303 missing-citation -------------------------------------------------------------


def test_l303_a_value_without_a_citation_is_the_checkers_s205(lint, good, at):
    findings = lint(good.replace("cap 2万 §(五)", "cap 2万"))
    assert at(findings, "L303") == [(21, 9)]
    assert findings[0].severity is Severity.ERROR and "(S205)" in findings[0].message


def test_l303_an_alerts_visits_without_a_citation(lint, good, at):
    alert = ("alert 预警 {\n    visits 住院\n    group 低保对象 §(一)\n"
             "    threshold 5000 §(五)\n}\n")
    findings = lint(good + alert)
    assert at(findings, "L303") == [(24, 5)]
    # The checker's S205 since L303 stopped walking the tree a second time (issue 23).
    assert findings[0].message == "alert 预警: visits has no citation (S205)"


def test_l303_a_table_is_cited_by_its_own_citation_or_one_per_entry(lint, good, at):
    per_entry = good.replace("deductible §(五) {", "deductible {").replace(
        "低保对象: 0", "低保对象: 0 §(五)").replace("低保边缘家庭成员: 2000", "低保边缘家庭成员: 2000 §(五)")
    assert at(lint(per_entry), "L303") == []
    half = good.replace("deductible §(五) {", "deductible {").replace("低保对象: 0", "低保对象: 0 §(五)")
    assert at(lint(half), "L303") == [(13, 16)]


# ---- L304 field-without-display-name ---------------------------------------------------


def test_l304_a_field_without_display_name_is_a_warning(lint, good, at):
    findings = lint(good + 'field in_province: bool default true §(五)\n')
    assert at(findings, "L304") == [(23, 7)]   # the field's name
    [finding] = [f for f in findings if f.code == "L304"]
    assert finding.severity is Severity.WARNING
    assert finding.message == "field in_province has no display name"


def test_l304_not_for_a_field_with_its_display_name(lint, good, at):
    assert at(lint(good + 'field in_province "省内就医": bool default true §(五)\n'), "L304") == []


# ---- L401 payout-falls -----------------------------------------------------------------

FALLING = """\
policy t-2023 {
    effective 2023-01-01
}
clause §(五) "待遇"
identity 特困人员 §(五)
line 基本救助 {
    covers 住院 §(五)
    base remaining §(五)
    deductible 1000 §(五)
    rate 96% §(五)
}
line 倾斜救助 {
    covers 住院 §(五)
    base remaining §(五)
    rate 100% §(五)
}
ceiling 95% §(五) {
    identities 特困人员 §(五)
    reduces {reduces} §(五)
}
"""


def test_l401_a_line_the_ratio_ceiling_cuts_by_more_than_it_gains(lint, at):
    """特困人员: 基本救助 pays 96% above 1,000, 倾斜救助 the rest, 0.04·B + 960; the 95%
    ceiling cuts 5%·B from 倾斜救助, leaving 960 − 0.01·B for B ≥ 1,000: 950.00 at a
    burden of 1,000, falling to 0 at 96,000 (then 基本救助 is cut)."""
    findings = lint(FALLING.replace("{reduces}", "倾斜救助"))
    assert at(findings, "L401") == [(12, 6)]
    assert [f for f in findings if f.code == "L401"][0].message == (
        "line 倾斜救助 falls as the cost rises: 950.00 on a burden of 1,000.00, 0.00 on "
        "96,000.00 (特困人员, 住院); the ratio ceiling cuts it")


def test_l401_not_when_the_ceiling_cuts_the_rising_line_first(lint, at):
    """Reducing 基本救助 first (the lines are cut last first) leaves both rising."""
    assert at(lint(FALLING.replace("{reduces}", "倾斜救助, 基本救助")), "L401") == []
