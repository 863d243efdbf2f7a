"""Over-protection rules L201–L204 (过度保障, 过度资助): bad and good policies.

GOOD (tests/lint/conftest.py) pays 低保对象 70% with no deductible and 低保边缘
家庭成员 60% above 2,000, both within a 2万 cap; these tests add 倾斜救助 on
what 基本救助 leaves.
"""

from __future__ import annotations

from fractions import Fraction

from yibao.core.diagnostics import Severity
from yibao.lint.config import LintConfig

TILTED = """\
line 倾斜救助 {
    covers 住院 §(五)
    base remaining §(五)
    rate {rate} §(五)
}
"""
CEILING = """\
ceiling 95% §(五) {
    identities 低保对象, 低保边缘家庭成员 §(五)
    visits 住院 §(五)
    reduces 倾斜救助 §(五)
}
"""


def _with_tilted(good: str, rate: str) -> str:
    return good + TILTED.replace("{rate}", rate)


def test_l201_lines_that_pay_more_than_95_percent(lint, good, at):
    """低保对象: 70% + 90% of the 30% left = 97% from the first yuan (until 基本救助's
    2万 cap at a burden of 28,571.43).  低保边缘家庭成员: 60% above 2,000 then 90% of the
    rest pays 0.96·B − 120, i.e. 96% − 120/B, highest where 基本救助 reaches its cap,
    B = 2,000 + 20,000/60% = 35,333.33: 96% − 120·3/106,000 = 95.66%."""
    findings = lint(_with_tilted(good, "90%"))
    assert at(findings, "L201") == [(6, 10), (7, 10)]
    low_income, margin = [f for f in findings if f.code == "L201"]
    assert "97.00% of the in-scope cost from the first yuan of burden" in low_income.message
    assert "95.66% of the in-scope cost at a burden of 35,333.33" in margin.message
    assert low_income.severity is Severity.WARNING


def test_l201_not_when_the_policys_ratio_ceiling_holds_the_share(lint, good, at):
    assert at(lint(_with_tilted(good, "90%") + CEILING), "L201") == []


def test_l201_the_ceiling_is_a_setting(lint, good, at):
    assert at(lint(_with_tilted(good, "90%"), LintConfig(ceiling=Fraction(98, 100))), "L201") == []


def test_l201_with_an_upstream_share_set(lint, good, at):
    """At an upstream share of 70% GOOD's 低保对象 reaches 70% + 30% × 70% = 91%, and
    低保边缘家庭成员 70% + 30% × 20,000/35,333.33 = 86.98%: only 低保对象 passes 90%."""
    config = LintConfig(ceiling=Fraction(90, 100), upstream_share=Fraction(70, 100))
    findings = lint(good, config)
    assert at(findings, "L201") == [(6, 10)]
    assert "91.00% of the in-scope cost with upstream lines paying 70.00%" in findings[0].message


def test_l202_lines_that_pay_the_whole_burden(lint, good, at):
    """倾斜救助 at 100% pays whatever 基本救助 leaves: 100% for both identities, and for
    people with no identity, whom its single rate covers too (reported at the header)."""
    findings = lint(_with_tilted(good, "100%"))
    assert at(findings, "L202") == [(1, 1), (6, 10), (7, 10)]
    assert findings[0].message.startswith("无救助身份: the lines pay 100.00%")
    assert at(findings, "L201") == []
    assert "the person bears nothing in scope" in findings[1].message


def test_l202_not_below_100_percent(lint, good, at):
    assert at(lint(_with_tilted(good, "90%")), "L202") == []


SUBSIDY = """\
subsidy §(一) {
    低保对象: {value}
    低保边缘家庭成员: share 60%
}
"""


def test_l203_a_full_subsidy_for_an_identity_that_must_contribute(lint, good, at):
    findings = lint(good + SUBSIDY.replace("{value}", "full"))
    assert at(findings, "L203") == [(24, 5)]
    assert findings[0].severity is Severity.WARNING
    assert "Jilin §一(三)" in findings[0].message


def test_l203_the_policys_own_rule_is_the_checkers_error(lint, good, at):
    text = good + "zero contribution only for 低保边缘家庭成员 §(一)\n" + SUBSIDY.replace(
        "{value}", "full")
    findings = lint(text)
    assert at(findings, "L203") == [(25, 5)]
    assert findings[0].severity is Severity.ERROR and "(S229)" in findings[0].message


def test_l203_not_for_a_fixed_subsidy_or_an_allowed_identity(lint, good, at):
    assert at(lint(good + SUBSIDY.replace("{value}", "fixed 180")), "L203") == []
    config = LintConfig(zero_contribution=("低保对象",))
    assert at(lint(good + SUBSIDY.replace("{value}", "full"), config), "L203") == []


BOUNDED = """\
identity 稳定脱贫人口 §(一)
identity 边缘人群 §(一)
subsidy §(一) {
    稳定脱贫人口: fixed 180
    边缘人群: fixed {amount} at most 稳定脱贫人口
}
"""


def test_l204_a_temporary_subsidy_above_its_bound(lint, good, at):
    """Xinjiang §一: the temporary subsidy of 边缘人群 is no higher than 稳定脱贫人口's."""
    findings = lint(good + BOUNDED.replace("{amount}", "200"))
    assert at(findings, "L204") == [(27, 5)]
    assert "(200) is above the fixed subsidy of 稳定脱贫人口 (180)" in \
        [f for f in findings if f.code == "L204"][0].message


def test_l204_not_at_or_below_the_bound_or_when_an_amount_is_unspecified(lint, good, at):
    assert at(lint(good + BOUNDED.replace("{amount}", "180")), "L204") == []
    unspecified = BOUNDED.replace("fixed 180", "fixed unspecified \"未给出\"")
    assert at(lint(good + unspecified.replace("{amount}", "200")), "L204") == []


def test_l203_a_share_or_fixed_amount_that_covers_the_whole_contribution(lint, good, at):
    """With 个人缴费标准 350, a fixed 350 leaves nothing to pay, as does share 100%."""
    contribution = 'param 个人缴费标准 350 §(一)\n'
    fixed = lint(good + contribution + SUBSIDY.replace("{value}", "fixed 350"))
    assert at(fixed, "L203") == [(25, 5)]
    assert "a fixed subsidy of 350, at least the contribution (个人缴费标准 350)," in fixed[0].message
    share = lint(good + SUBSIDY.replace("{value}", "share 100%"))
    assert at(share, "L203") == [(24, 5)]
    assert at(lint(good + contribution + SUBSIDY.replace("{value}", "fixed 349")), "L203") == []
