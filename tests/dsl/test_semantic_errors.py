"""Checker errors (dsl/checker.py): each S2xx code on a broken policy, with where it points.

Each test breaks one thing in BASE (a valid policy, shown with its line numbers)
and asserts the code, the message, the hint, the line and the column (columns in
characters, counting from 1).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from yibao.core.diagnostics import Diagnostic, render_full
from yibao.dsl.checker import check_policy
from yibao.dsl.parser import parse_policy

BASE = """\
policy t-2023 {
    effective 2023-01-01
}
identity 低保对象 §(一)
identity 特困人员 §(一)
line 基本医保 upstream §(三)
line 基本救助 {
    covers 住院 §(四)
    deductible §(五) {
        低保对象, 特困人员: 0
    }
    rate 70% §(五)
    cap 2万 §(五)
}
"""
#  1 policy t-2023 {            8     covers 住院 §(四)
#  2     effective 2023-01-01   9     deductible §(五) {
#  3 }                         10         低保对象, 特困人员: 0
#  4 identity 低保对象 §(一)    11     }
#  5 identity 特困人员 §(一)    12     rate 70% §(五)
#  6 line 基本医保 upstream …   13     cap 2万 §(五)
#  7 line 基本救助 {            14 }


def broken(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new, 1)


def diagnostics(source: str) -> list[Diagnostic]:
    return list(check_policy(parse_policy(source, "broken.policy")).diagnostics)


def the_error(source: str, code: str) -> Diagnostic:
    found = [d for d in diagnostics(source) if d.code == code]
    assert len(found) == 1, diagnostics(source)
    return found[0]


def at(diagnostic: Diagnostic) -> tuple[int, int]:
    return diagnostic.span.line, diagnostic.span.column


def test_base_is_valid():
    result = check_policy(parse_policy(BASE, "base.policy"))
    assert result.ok and result.diagnostics == ()


# ---- header and identities ---------------------------------------------------------------

def test_s201_no_header():
    error = the_error("identity 低保对象 §(一)\n", "S201")
    assert at(error) == (1, 1)
    assert error.message == "the file has no `policy` header"
    assert error.hint.startswith("start the file with: policy ")


def test_s201_no_effective_date():
    error = the_error("policy t-2023 {\n    title \"t\"\n}\n", "S201")
    assert at(error) == (1, 1)
    assert error.message == "policy t-2023 has no effective date"
    assert error.hint == "add: effective 2023-01-01"


def test_s202_identity_declared_twice():
    error = the_error(broken("identity 特困人员 §(一)\n",
                             "identity 特困人员 §(一)\nidentity 低保对象 §(一)\n"), "S202")
    assert at(error) == (6, 10)
    assert error.message == "identity 低保对象 is declared twice"


def test_s203_unknown_identity_in_a_table_suggests_the_nearest():
    source = broken("低保对象, 特困人员: 0", "低保对象, 特困人: 0")
    error = the_error(source, "S203")
    assert at(error) == (10, 15)
    assert error.message == "unknown identity 特困人"
    assert error.hint == "did you mean '特困人员'?"
    # 8 spaces + 低保对象 (8 cells) + ", " = 18 cells before the caret; 特困人 takes 6.
    assert render_full(error, source).splitlines() == [
        "error[S203]: unknown identity 特困人",
        "  --> broken.policy:10:15",
        "   |",
        "10 |         低保对象, 特困人: 0",
        "   |                   ^^^^^^",
        "  = hint: did you mean '特困人员'?",
    ]


def test_s203_unknown_identity_after_treated_as():
    source = broken("line 基本医保", "identity 返贫致贫人口 treated as 低保对像 §(六)\nline 基本医保")
    error = the_error(source, "S203")
    assert at(error) == (6, 28)
    assert error.message == "unknown identity 低保对像"
    assert error.hint == "did you mean '低保对象'?"


def test_s204_treated_as_cycle():
    source = broken("line 基本医保", "identity 甲 treated as 乙 §(六)\n"
                                     "identity 乙 treated as 甲 §(六)\nline 基本医保")
    found = [d for d in diagnostics(source) if d.code == "S204"]
    # One report per cycle, at its first member.
    assert [(at(d), d.message) for d in found] == [((6, 1), "treated-as cycle: 甲 → 乙 → 甲")]
    assert found[0].hint == "an identity must end at one that has its own treatment"


def test_s205_missing_citation():
    error = the_error(broken("identity 特困人员 §(一)", "identity 特困人员"), "S205")
    assert at(error) == (5, 1)
    assert error.message == "identity 特困人员 has no citation"
    assert error.hint.startswith("cite the clause it implements")


def test_s205_missing_citation_of_a_rate():
    error = the_error(broken("rate 70% §(五)", "rate 70%"), "S205")
    assert at(error) == (12, 10)
    assert error.message == "line 基本救助: 支付比例 has no citation"


# Lint's L303 walked the tree for these three on its own; the checker now insists on a
# citation wherever one can be written, and L303 reports the checker's S205 (issue 23).

def test_s205_an_alerts_visits_cite_their_clause():
    source = BASE + "alert 预警 {\n    visits 住院\n    group 低保对象 §(一)\n" \
                    "    threshold 5000 §(八)\n}\n"
    error = the_error(source, "S205")
    assert at(error) == (16, 5)
    assert error.message == "alert 预警: visits has no citation"


def test_s205_a_referrals_identities_cite_their_clause():
    source = BASE + "refer 一事一议 {\n    identities 特困人员\n    capped 基本救助 §(六)\n}\n"
    error = the_error(source, "S205")
    assert at(error) == (16, 5)
    assert error.message == "refer 一事一议: identities has no citation"


def test_s205_the_rules_of_an_uncited_ceiling_cite_their_clause():
    source = BASE + "ceiling 90% {\n    identities 特困人员\n    reduces 基本救助 §(七)\n}\n"
    found = [at(d) for d in diagnostics(source) if d.code == "S205"]
    assert found == [(15, 1), (16, 5)]   # the ceiling, and its identities; reduces is cited


# ---- a field's display name (issue 24 item 7) ---------------------------------------------

def test_s232_two_fields_of_one_display_name():
    source = BASE + ('field in_province "省内就医": bool §(三)\n'
                     'field local "省内就医": bool §(三)\n')
    error = the_error(source, "S232")
    assert at(error) == (16, 13)
    assert error.message == "field local has the display name 省内就医 of field in_province"
    assert error.related[0][1].line == 15


def test_s232_an_empty_display_name():
    error = the_error(BASE + 'field in_province "": bool §(三)\n', "S232")
    assert at(error) == (15, 19)
    assert error.message == "field in_province has an empty display name"


def test_a_display_name_is_kept_with_the_field_and_labels_it():
    source = BASE + 'field in_province "省内就医": bool default true §(三) "省内"\n' \
                    'field bed_days: count §(三)\n'
    policy = check_policy(parse_policy(source, "ok.policy")).policy
    assert policy.field("in_province").display_name == "省内就医"
    assert policy.field_label("in_province") == "省内就医"
    assert policy.field_label("bed_days") == "bed_days"      # none given: the name itself
    assert policy.field_label("in_scope_cost") == "in_scope_cost"


# ---- lines ---------------------------------------------------------------------------------

def test_s206_line_defined_twice():
    source = BASE + "line 基本救助 {\n    covers 住院 §(四)\n    rate 60% §(五)\n}\n"
    error = the_error(source, "S206")
    assert at(error) == (15, 6)
    assert error.message == "line 基本救助 is defined twice"
    assert error.hint == "a line is stated once; a revision uses `amend`"


def test_s207_unknown_line_in_a_base():
    source = broken("    covers 住院 §(四)\n",
                    "    covers 住院 §(四)\n    base in_scope_cost - 大病保险 §(三)\n")
    error = the_error(source, "S207")
    assert at(error) == (9, 26)
    assert error.message == "大病保险 is not a line settled before 基本救助"


def test_s208_rate_without_percent_sign():
    error = the_error(broken("rate 70% §(五)", "rate 70 §(五)"), "S208")
    assert at(error) == (12, 10)
    assert error.message == ("line 基本救助: 支付比例: expected a rate such as 70% or bands { … }, "
                             "found the amount 70")
    assert error.hint == "rates are written with a percent sign: 70%"


def test_s208_cap_written_as_a_rate():
    error = the_error(broken("cap 2万 §(五)", "cap 70% §(五)"), "S208")
    assert at(error) == (13, 9)
    assert error.message == "line 基本救助: 年度限额: expected an amount or none, found the rate 70%"
    assert error.hint == "write `none` for 不设年度救助限额"


def test_s209_rate_above_100_percent():
    error = the_error(broken("rate 70% §(五)", "rate 170% §(五)"), "S209")
    assert at(error) == (12, 10)
    assert error.message.startswith("line 基本救助: 支付比例: rate 170")
    assert error.message.endswith("% is outside 0–100%")
    # The hint lint's L101 gives: `check` said nothing (issue 21 item 14).
    assert error.hint == "a rate is a share between 0% and 100%"


def test_s209_ceiling_above_100_percent_has_a_hint():
    source = BASE + "ceiling 120% §(六) {\n    identities 低保对象 §(六)\n}\n"
    error = the_error(source, "S209")
    assert (error.message, at(error)) == ("ceiling 120% is outside 0–100%", (15, 9))
    assert error.hint == "the ceiling is a share of the in-scope cost: above 0% and at most 100%"


# "    rate bands { from 0 to 20000: 65% " is 38 characters: the second band is at column 39.
@pytest.mark.parametrize("bands, column, message, hint", [
    ("from 0 to 20000: 65% from 30000: 70%", 39, "band from 30000 leaves a gap",
     "start it at 20000"),
    ("from 0 to 20000: 65% from 10000: 70%", 39, "band from 10000 overlaps the band before",
     "start it at 20000"),
    ("from 0 to 20000: 65% from 20000 to 10000: 70%", 39, "band ends before it starts", ""),
    ("from 0: 65% from 0 to 20000: 70%", 18, "an open band (no `to`) must be the last", ""),
])
def test_s210_bands_gap_overlap_order(bands, column, message, hint):
    error = the_error(broken("rate 70% §(五)", f"rate bands {{ {bands} }} §(五)"), "S210")
    assert at(error) == (12, column)
    assert error.message == f"line 基本救助: 支付比例: {message}"
    assert error.hint == hint


def test_s211_rule_stated_twice():
    error = the_error(broken("    cap 2万 §(五)\n", "    cap 2万 §(五)\n    cap 3万 §(五)\n"), "S211")
    assert at(error) == (14, 5)
    assert error.message == "line 基本救助 states its cap twice"
    assert error.hint.startswith("merge the two into one rule")


def test_s212_identity_twice_in_a_table():
    error = the_error(broken("低保对象, 特困人员: 0", "低保对象, 特困人员, 低保对象: 0"), "S212")
    assert at(error) == (10, 21)
    assert error.message == "低保对象 is given two values in line 基本救助: 起付标准"


def test_s213_unknown_visit():
    error = the_error(broken("covers 住院 §(四)", "covers 住院, 门诊 §(四)"), "S213")
    assert at(error) == (8, 16)
    assert error.message == "unknown visit 门诊"
    assert error.hint == "did you mean '普通门诊'?"


FIELDS = "field in_province: bool §(十三)\nfield bed_days: count §(五)\nline 基本医保"


@pytest.mark.parametrize("condition, message, hint", [
    ("in_provinc", "unknown claim field in_provinc", "did you mean 'in_province'?"),
    ("bed_days", "field bed_days is count, but a bool is needed", ""),
])
def test_s214_unknown_claim_field_in_a_condition(condition, message, hint):
    source = broken("line 基本医保", FIELDS).replace(
        "    covers 住院 §(四)\n", f"    covers 住院 §(四)\n    when {condition} §(十三)\n")
    error = the_error(source, "S214")
    assert at(error) == (11, 10)   # two field lines pushed the line down; "    when " is 9
    assert error.message == message
    assert error.hint == hint


@pytest.mark.parametrize("old, message, hint", [
    ("    rate 70% §(五)\n", "line 基本救助 has neither a rate nor a per-unit amount",
     "add: rate 60% §…  (or bands, or per bed_days …)"),
    ("    covers 住院 §(四)\n", "line 基本救助 does not say which visits it covers",
     "add: covers 住院, 门诊慢特病 §…"),
])
def test_s215_line_without_rate_or_covers(old, message, hint):
    error = the_error(broken(old, ""), "S215")
    assert at(error) == (7, 6)
    assert error.message == message
    assert error.hint == hint


def test_s216_tables_naming_different_identities():
    error = the_error(broken("rate 70% §(五)", "rate §(五) {\n        低保对象: 70%\n    }"), "S216")
    assert at(error) == (7, 6)
    assert error.message == "line 基本救助: 特困人员 appears in some of its tables only"
    assert error.hint.startswith("give every identity a deductible and a rate")


def test_s217_table_naming_a_treated_as_identity():
    source = broken("低保对象, 特困人员: 0", "低保对象, 特困人员, 返贫致贫人口: 0").replace(
        "line 基本医保", "identity 返贫致贫人口 treated as 低保对象 §(六)\nline 基本医保")
    error = the_error(source, "S217")
    assert at(error) == (11, 21)
    assert error.message == "返贫致贫人口 is treated as 低保对象; its value is never read"
    assert error.hint == "give the value to 低保对象"


@pytest.mark.parametrize("old, new, position, what", [
    ("rate 70% §(五)", "rate plus 5% §(五)", (12, 10), "支付比例"),
    ("cap 2万 §(五)", "cap times 50% §(五)", (13, 9), "年度限额"),
])
def test_s224_plus_or_times_outside_amend(old, new, position, what):
    error = the_error(broken(old, new), "S224")
    assert at(error) == position
    assert error.message == (f"line 基本救助: {what}: plus/times change an inherited value; "
                             "use them in `amend`")


def test_s220_ceiling_must_say_whom_it_binds():
    """A ceiling without `identities` would silently bind nobody (Xinjiang §四 names 重点救助对象)."""
    from yibao.dsl.checker import check_policy
    from yibao.dsl.parser import parse_policy

    source = ("policy c-2023 { effective 2023-01-01 }\n"
              "identity 特困人员 §四\n"
              "line 救助 { covers 住院 §四  base remaining §四  rate 100% §四 }\n"
              "ceiling 95% §四 { visits 住院 §四 }\n")
    [error] = [d for d in check_policy(parse_policy(source, "c.policy")).diagnostics
               if d.code == "S220"]
    assert (error.span.line, error.span.column) == (4, 1)
    assert error.message == "the ceiling does not say whom it binds"


# ---- amendments for some visits (Lhasa §四(四)一) ----------------------------------

def test_an_amendment_for_some_visits_keeps_the_others():
    source = BASE.replace("covers 住院 §(四)", "covers 住院, 普通门诊 §(四)") + (
        'amend 基本救助 for 住院 §(六) "住院" {\n    rate §(六) { 低保对象: plus 5% }\n}\n')
    result = check_policy(parse_policy(source, "ok.policy"))
    assert result.ok, result.diagnostics
    rate = result.policy.line("基本救助").rate
    # 70% + 5 points for 低保对象's 住院 claims; 普通门诊 and 特困人员 keep 70%
    assert rate.for_claim("低保对象", "住院").value == Decimal("0.75")
    assert rate.for_claim("低保对象", "住院").clause == "(六)"
    assert rate.for_claim("低保对象", "普通门诊").value == Decimal("0.7")
    assert rate.for_claim("低保对象", "普通门诊").clause == "(五)"
    assert rate.for_claim("特困人员", "住院").value == Decimal("0.7")


def test_s241_an_amendment_for_a_visit_its_line_does_not_cover():
    source = BASE + 'amend 基本救助 for 普通门诊 §(六) {\n    rate plus 5% §(六)\n}\n'
    error = the_error(source, "S241")
    assert at(error) == (15, 16)
    assert error.message == "amend 基本救助 for …: 基本救助 does not cover 普通门诊"
    assert error.hint == "基本救助 covers 住院"


def test_s240_an_amendment_for_some_visits_changes_only_rate_and_deductible():
    source = BASE + 'amend 基本救助 for 住院 §(六) {\n    cap 3万 §(六)\n}\n'
    error = the_error(source, "S240")
    assert at(error) == (16, 5)
    assert error.message == ("amend 基本救助 for …: an amendment for some visits changes only "
                             "the rate and the deductible, not the cap")


def test_s240_an_upstream_line_has_no_rate_to_change_by_visit():
    source = BASE + 'amend 基本医保 for 住院 §(六) {\n    rate plus 5% §(六)\n}\n'
    assert the_error(source, "S240").message.startswith(
        "amend 基本医保 for …: 基本医保 is settled upstream")


def test_s205_an_amendment_for_some_visits_cites_its_clause():
    source = BASE + 'amend 基本救助 for 住院 {\n    rate plus 5% §(六)\n}\n'
    assert at(the_error(source, "S205")) == (15, 12)


# ---- a bound the notice leaves open (Jilin §二(一)) -----------------------------------

UPSTREAM_BOUND = BASE.replace("line 基本医保 upstream §(三)",
                              "field in_province: bool §(三)\nline 基本医保 upstream §(三)")


def test_an_upstream_line_may_leave_a_bound_unspecified_under_a_condition():
    source = UPSTREAM_BOUND + (
        'amend 基本医保 {\n    base unspecified "未规定" when not in_province §(七)\n}\n')
    result = check_policy(parse_policy(source, "ok.policy"))
    assert result.ok, result.diagnostics
    [(condition, terms, rule)] = result.policy.line("基本医保").conditional_bases
    assert (terms, rule.note, rule.citation.clause) == (None, "未规定", "(七)")


def test_s228_an_unspecified_bound_says_for_which_claims():
    source = UPSTREAM_BOUND + 'amend 基本医保 {\n    base unspecified §(七)\n}\n'
    error = the_error(source, "S228")
    assert error.message == ("amend 基本医保: an unspecified base says for which claims the "
                             "notice gives no bound")


def test_s228_a_computed_line_s_base_is_never_unspecified():
    source = broken("    covers 住院 §(四)\n", "    covers 住院 §(四)\n    base unspecified §(四)\n")
    assert the_error(source, "S228").message.startswith(
        "line 基本救助: a computed line's base is worked out, never unspecified")
