"""Correctness rules L101–L111: each on a bad policy (code, line, column) and a good one.

The policies are GOOD (tests/lint/conftest.py, shown there with line numbers)
with one thing changed; columns count characters from 1.
"""

from __future__ import annotations

import textwrap

from yibao.core.diagnostics import Severity



def _parent(good: str, **changes: str) -> str:
    text = good.replace("policy t-2023 {", "policy base-2022 {").replace(
        "effective 2023-01-01", "effective 2022-01-01")
    for old, new in changes.items():
        text = text.replace(old, new)
    return text


REVISION = """\
policy t-2023 extends base-2022 {
    effective 2023-01-01
}
"""


def test_good_policy_has_no_findings(lint, good):
    assert lint(good) == ()


# ---- L101 rate-out-of-range ---------------------------------------------------------------


def test_l101_a_written_rate_above_100_percent(lint, good, at):
    findings = lint(good.replace("低保对象: 70%", "低保对象: 120%"))
    assert at(findings, "L101") == [(18, 15)]   # the value 120% on line 18
    assert "S209" in findings[0].message


def test_l101_an_amendment_that_carries_a_rate_past_100_percent(lint, good, at):
    parent = _parent(good, **{"低保对象: 70%": "低保对象: 100%"})
    findings = lint(REVISION + "amend 基本救助 {\n    rate §(五) {\n        低保对象: plus 5%\n"
                    "    }\n}\n", **{"base-2022.policy": parent})
    assert at(findings, "L101") == [(6, 9)]     # the entry 低保对象: plus 5%
    assert "105%" in [f for f in findings if f.code == "L101"][0].message


def test_l101_an_amendment_for_some_visits_that_carries_a_rate_past_100_percent(lint, good, at):
    """`amend … for 住院` (Lhasa §四(四)一) gives 住院 its own rate: it is checked too."""
    parent = _parent(good, **{"低保对象: 70%": "低保对象: 100%"})
    findings = lint(REVISION + "amend 基本救助 for 住院 §(五) {\n    rate §(五) {\n"
                    "        低保对象: plus 5%\n    }\n}\n", **{"base-2022.policy": parent})
    assert at(findings, "L101") == [(6, 9)]     # the entry 低保对象: plus 5%
    assert "105%" in [f for f in findings if f.code == "L101"][0].message


def test_l101_not_for_an_amendment_within_range(lint, good, at):
    findings = lint(REVISION + "amend 基本救助 {\n    rate §(五) {\n        低保对象: plus 5%\n"
                    "    }\n}\n", **{"base-2022.policy": _parent(good)})
    assert at(findings, "L101") == []


# ---- L102 band-order ------------------------------------------------------------------------

BANDS = """\
    rate bands {
        from 0 to 2万: 65%
        from 3万: 75%
    } §(五)"""
RATE_TABLE = """\
    rate §(五) {
        低保对象: 70%
        低保边缘家庭成员: 60%
    }"""


def test_l102_bands_that_leave_a_gap(lint, good, at):
    findings = lint(good.replace(RATE_TABLE, BANDS))
    assert at(findings, "L102") == [(19, 9)]    # from 3万: 75%


def test_l102_not_for_bands_that_follow_each_other(lint, good, at):
    assert at(lint(good.replace(RATE_TABLE, BANDS.replace("from 3万", "from 2万"))), "L102") == []


# ---- L103 deductible-at-or-above-cap ----------------------------------------------------------


def test_l103_a_deductible_equal_to_the_cap(lint, good, at):
    findings = lint(good.replace("低保边缘家庭成员: 2000", "低保边缘家庭成员: 2万"))
    assert at(findings, "L103") == [(15, 9)]
    assert findings[0].severity is Severity.WARNING
    assert "20000" in findings[0].message and "低保边缘家庭成员" in findings[0].message


def test_l103_not_for_a_deductible_below_the_cap(lint, good, at):
    assert at(lint(good), "L103") == []


# ---- L104 identity-without-treatment --------------------------------------------------------


def test_l104_an_identity_no_line_covers(lint, good, at):
    findings = lint(good.replace("take highest", "identity 因病致贫重病患者 §(一)\ntake highest"))
    assert at(findings, "L104") == [(8, 10)]


def test_l104_not_for_an_identity_treated_as_a_covered_one(lint, good, at):
    text = good.replace("take highest", "identity 返贫致贫人口 treated as 低保对象 §(一)\ntake highest")
    assert at(lint(text), "L104") == []


# ---- L105 treated-as-chain / L106 treated-as-cycle -----------------------------------------------


def test_l105_an_identity_treated_as_one_that_is_treated_as_another(lint, good, at):
    text = good.replace("take highest", "identity 返贫致贫人口 treated as 低保对象 §(一)\n"
                                        "identity 监测帮扶对象 treated as 返贫致贫人口 §(一)\ntake highest")
    findings = lint(text)
    assert at(findings, "L105") == [(9, 28)]    # the name after `treated as`
    assert "监测帮扶对象 → 返贫致贫人口 → 低保对象" in findings[0].message


def test_l105_not_for_direct_treated_as(lint, good, at):
    text = good.replace("take highest", "identity 返贫致贫人口 treated as 低保对象 §(一)\n"
                                        "identity 监测帮扶对象 treated as 低保对象 §(一)\ntake highest")
    assert at(lint(text), "L105") == []


def test_l106_identities_treated_as_each_other(lint, good, at):
    text = good.replace("take highest", "identity 甲 treated as 乙 §(一)\n"
                                        "identity 乙 treated as 甲 §(一)\ntake highest")
    findings = lint(text)
    assert at(findings, "L106") == [(8, 1)]
    assert findings[0].severity is Severity.ERROR


# ---- L107 line-never-pays -------------------------------------------------------------------------


def test_l107_a_line_whose_rates_are_zero(lint, good, at):
    findings = lint(good.replace("70%", "0%").replace("60%", "0%"))
    assert at(findings, "L107") == [(10, 6)]    # the line's name
    assert "pays 0 on every claim" in findings[0].message


def test_l107_a_line_no_claim_can_reach(lint, good, at):
    text = good.replace("take highest", "field a \"甲\": bool default false §(五)\ntake highest").replace(
        "    base remaining", "    when a and not a §(五)\n    base remaining")
    findings = lint(text)
    assert at(findings, "L107") == [(11, 6)]
    assert "no claim reaches it" in findings[0].message


def test_l107_a_line_without_a_rate_is_the_checkers_s215(lint, good, at):
    findings = lint(good.replace(RATE_TABLE + "\n", "").replace(
        "    deductible §(五) {\n        低保对象: 0\n        低保边缘家庭成员: 2000\n    }\n", ""))
    assert at(findings, "L107") == [(10, 6)]
    assert "(S215)" in findings[0].message


def test_l107_not_for_a_line_that_pays(lint, good, at):
    assert at(lint(good), "L107") == []


# ---- L108 unknown-identity, L109 unknown-line -----------------------------------------------------


def test_l108_a_misspelt_identity(lint, good, at):
    findings = lint(good.replace("低保对象: 70%", "底保对象: 70%"))
    assert at(findings, "L108") == [(18, 9)]
    assert "低保对象" in [f for f in findings if f.code == "L108"][0].hint


def test_l109_a_base_subtracting_an_unknown_line(lint, good, at):
    findings = lint(good.replace("base remaining", "base in_scope_cost - 基本医疗"))
    assert at(findings, "L109") == [(12, 26)]


# ---- L110 duplicate-rule ------------------------------------------------------------------------


def test_l110_one_identity_given_two_values(lint, good, at):
    findings = lint(good.replace("低保边缘家庭成员: 60%", "低保边缘家庭成员, 低保对象: 60%"))
    assert at(findings, "L110") == [(19, 19)]


def test_l110_two_amendments_changing_the_same_value(lint, good, at):
    amend = "amend 基本救助 {\n    cap 3万 §(五)\n}\n"
    findings = lint(REVISION + amend + amend, **{"base-2022.policy": _parent(good)})
    assert at(findings, "L110") == [(8, 5)]     # the second block's cap


def test_l110_not_for_one_amendment(lint, good, at):
    findings = lint(REVISION + "amend 基本救助 {\n    cap 3万 §(五)\n}\n",
                    **{"base-2022.policy": _parent(good)})
    assert at(findings, "L110") == []


# ---- L111 citation-clause-mismatch ------------------------------------------------------------------


def test_l111_a_citation_written_differently_from_its_clause(lint, good, at):
    findings = lint(good.replace("cap 2万 §(五)", "cap 2万 §五"))
    assert at(findings, "L111") == [(21, 12)]
    assert findings[0].hint == "write §(五)"


def test_l111_a_citation_of_an_undeclared_clause(lint, good, at):
    findings = lint(good.replace("cap 2万 §(五)", "cap 2万 §(七)"))
    assert at(findings, "L111") == [(21, 12)]
    assert "not a clause the policy declares" in findings[0].message


def test_l111_not_for_a_part_of_a_declared_clause_or_a_full_width_bracket(lint, good, at):
    text = good.replace("cap 2万 §(五)", "cap 2万 §(五)2").replace(
        "identity 低保对象 §(一)", "identity 低保对象 §（一）")
    assert at(lint(text), "L111") == []


def test_l111_not_when_the_policy_declares_no_clauses(lint, good, at):
    text = good.replace('clause §(一) "救助对象"\n', "").replace('clause §(五) "待遇水平"\n', "")
    assert at(lint(textwrap.dedent(text)), "L111") == []
