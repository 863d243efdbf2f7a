"""The file and its suppressions: L000–L004, suppression comments and settings."""

from __future__ import annotations

import pathlib

import pytest

from yibao.core.diagnostics import Severity
from yibao.lint import rules as rules_package
from yibao.lint.config import ConfigError, LintConfig, config_from_table, load_config
from yibao.lint.registry import RegisteredRule, Rule

UNTREATED = "identity 因病致贫重病患者 §(一){comment}\ntake highest"


def _untreated(good: str, comment: str = "") -> str:
    """GOOD with an identity no line covers (L104) on line 8."""
    return good.replace("take highest", UNTREATED.replace("{comment}", comment))


# ---- L001 policy-unreadable, L002 policy-rejected, L000 ---------------------------------


def test_l001_a_syntax_error(lint, good, at):
    findings = lint(good.replace('"待遇水平"', '"待遇水平'))
    assert [f.code for f in findings] == ["L001"]
    assert at(findings, "L001") == [(5, 13)]    # the unclosed quote
    assert "(P1" in findings[0].message


def test_l002_a_value_of_the_wrong_kind(lint, good, at):
    findings = lint(good.replace("cap 2万 §(五)", "cap 20% §(五)"))
    assert at(findings, "L002") == [(21, 9)]
    assert "(S208)" in findings[0].message and findings[0].severity is Severity.ERROR


def test_l002_a_predecessor_that_does_not_check(lint, good, at):
    parent = good.replace("policy t-2023 {", "policy base-2022 {").replace(
        "effective 2023-01-01", "effective 2022-01-01").replace("cap 2万 §(五)", "cap 20% §(五)")
    findings = lint("policy t-2023 extends base-2022 {\n    effective 2023-01-01\n}\n",
                    **{"base-2022.policy": parent})
    assert at(findings, "L002") == [(1, 1)]
    assert "extends base-2022, which does not check" in findings[0].message


def test_l000_a_failing_rule_is_reported_not_raised(lint, good, monkeypatch):
    def boom(context):
        raise RuntimeError("boom")

    broken = RegisteredRule(Rule("L104", "identity-without-treatment", Severity.WARNING,
                                 "correctness", "x"), boom)
    monkeypatch.setattr(rules_package, "RULE_MODULES", (broken,))
    findings = lint(good)
    assert [(f.code, f.span.line) for f in findings] == [("L000", 1)]
    assert "RuntimeError: boom" in findings[0].message


# ---- suppressions: L003, L004 ------------------------------------------------------------


def test_a_suppression_on_the_line_hides_its_finding(lint, good):
    assert lint(_untreated(good, "  # yibao: disable=L104 §(一) gives them nothing")) == ()


def test_a_suppression_alone_on_its_line_applies_to_the_next_line_of_code(lint, good):
    text = good.replace("take highest", "# yibao: disable=L104 §(一) gives them nothing\n\n"
                                        "identity 因病致贫重病患者 §(一)\ntake highest")
    assert lint(text) == ()


def test_a_file_suppression_hides_the_code_everywhere(lint, good):
    text = "# yibao: disable-file=L104 reviewed\n" + _untreated(good)
    assert lint(text) == ()


def test_l003_a_suppression_that_hides_nothing(lint, good, at):
    text = good.replace("identity 低保对象 §(一)", "identity 低保对象 §(一)  # yibao: disable=L104 x")
    findings = lint(text)
    assert at(findings, "L003") == [(6, 21)]
    assert "hides nothing on this line" in findings[0].message


def test_l003_a_suppression_naming_no_rule(lint, good, at):
    findings = lint(_untreated(good, "  # yibao: disable=L104,L999 reviewed"))
    assert at(findings, "L003") == [(8, 25)]
    assert "L999, which is no lint rule" in findings[0].message


def test_l004_a_suppression_that_does_not_say_why(lint, good, at):
    findings = lint(_untreated(good, "  # yibao: disable=L104"))
    assert at(findings, "L004") == [(8, 25)]
    assert at(findings, "L104") == []


def test_what_the_checker_rejects_cannot_be_suppressed(lint, good, at):
    findings = lint(good.replace("cap 2万 §(五)", "cap 20% §(五)  # yibao: disable=L002 no"))
    assert at(findings, "L002") == [(21, 9)]


def test_a_file_the_checker_rejects_gets_no_l003_for_the_rules_that_could_not_run(lint, good, at):
    """Issue 21 item 14: the L104 suppression is needed once the file checks; while the
    checker rejects the file (S208), L104 cannot run, and "hides nothing" was wrong."""
    text = _untreated(good, "  # yibao: disable=L104 §(一) gives them nothing").replace(
        "cap 2万 §(五)", "cap 20% §(五)")
    findings = lint(text)
    assert [f.code for f in findings] == ["L002"]
    assert at(findings, "L002") == [(22, 9)]


def test_a_rejected_file_still_reports_a_suppression_naming_no_rule(lint, good, at):
    text = _untreated(good, "  # yibao: disable=L999 reviewed").replace(
        "cap 2万 §(五)", "cap 20% §(五)")
    findings = lint(text)
    assert at(findings, "L003") == [(8, 25)]
    assert "L999, which is no lint rule" in [f for f in findings if f.code == "L003"][0].message


# ---- settings ----------------------------------------------------------------------------


def test_settings_disable_a_rule_everywhere_or_per_file(lint, good, tmp_path):
    assert lint(_untreated(good), LintConfig(disable=frozenset({"L104"}))) == ()
    per_file = LintConfig(per_file_disable=(("t.policy", frozenset({"L104"})),), root=tmp_path)
    assert lint(_untreated(good), per_file) == ()
    elsewhere = LintConfig(per_file_disable=(("other/*.policy", frozenset({"L104"})),),
                           root=tmp_path)
    assert [f.code for f in lint(_untreated(good), elsewhere)] == ["L104"]


def test_settings_change_a_rules_severity(lint, good):
    findings = lint(_untreated(good), LintConfig(severity=(("L104", Severity.ERROR),)))
    assert [(f.code, f.severity) for f in findings] == [("L104", Severity.ERROR)]


def test_settings_are_read_from_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.yibao.lint]\nceiling = "90%"\nupstream-share = "70%"\ndisable = ["L302"]\n'
        '[tool.yibao.lint.per-file-disable]\n"policies/*.policy" = ["L104"]\n',
        encoding="utf-8")
    config = load_config(tmp_path / "pyproject.toml")
    assert (config.ceiling, config.upstream_share) == (pytest.approx(0.9), pytest.approx(0.7))
    assert config.disabled_for(str(tmp_path / "policies" / "a.policy")) == {"L302", "L104"}
    assert config.disabled_for(str(tmp_path / "a.policy")) == {"L302"}


@pytest.mark.parametrize("table, words", [
    ({"ceilng": "95%"}, "has no setting ceilng"),
    ({"ceiling": "95"}, "between 0% and 100%"),
    ({"ceiling": "high"}, "a percentage"),
    ({"upstream-share": "100%"}, "below 100%"),
    ({"disable": ["E501"]}, "rule codes"),
    ({"severity": {"L104": "fatal"}}, "error, warning or info"),
])
def test_settings_that_are_not_understood_are_errors(table, words):
    with pytest.raises(ConfigError, match=words):
        config_from_table(table, pathlib.Path("."))
