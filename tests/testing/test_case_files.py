"""Case files (policies/cases/*.yaml): the shipped ones pass, a wrong figure fails with a
readable report, and a malformed file is refused with its line."""

from __future__ import annotations

import shutil
from decimal import Decimal

import pytest

from helpers import POLICIES
from yibao.testing.cases import CaseFileError, load_case_file
from yibao.testing.report import render_results
from yibao.testing.runner import case_files, run_case_dir, run_case_file

SHIPPED_POLICIES = sorted(path.stem for path in POLICIES.glob("*.policy"))


def test_every_shipped_policy_has_a_case_file():
    assert sorted(path.stem for path in case_files(POLICIES)) == SHIPPED_POLICIES


def test_every_shipped_case_passes():
    results = run_case_dir(POLICIES)
    failed = [r for r in results if not r.passed]
    assert not failed, render_results(failed)
    assert len(results) >= 30


def test_numbers_are_read_exactly_and_dates_stay_text(tmp_path):
    """0.1 + 0.2 is 0.3 only with exact decimals; a YAML date is the claim's YYYY-MM-DD."""
    path = tmp_path / "x.yaml"
    path.write_text("policy: benxi-2023\ncases:\n  - name: n\n    claims:\n"
                    "      - {claim_id: a, date: 2023-01-10, in_scope_cost: 0.1}\n"
                    "    expect:\n      a: {total_paid: 0.2}\n", encoding="utf-8")
    [case] = load_case_file(path).cases
    [(line, record)] = case.claims
    assert (line, record["date"], record["in_scope_cost"]) == (5, "2023-01-10", Decimal("0.1"))
    assert case.expectations[0].money == (("total_paid", Decimal("0.2")),)


@pytest.fixture
def revised_folder(tmp_path):
    """Benxi with 低保边缘家庭成员's 基本救助 rate at 65% instead of §(五)'s 60%."""
    text = (POLICIES / "benxi-2023.policy").read_text(encoding="utf-8").replace(
        "低保边缘家庭成员: 60%\n        因病致贫重病患者: 50%\n    }\n    cap 2万",
        "低保边缘家庭成员: 65%\n        因病致贫重病患者: 50%\n    }\n    cap 2万")
    (tmp_path / "benxi-2023.policy").write_text(text, encoding="utf-8")
    (tmp_path / "cases").mkdir()
    shutil.copy(POLICIES / "cases" / "benxi-2023.yaml", tmp_path / "cases" / "benxi-2023.yaml")
    return tmp_path


def test_a_wrong_rate_fails_with_expected_actual_and_the_step(revised_folder):
    """The worked example's first claim: B 15,000 → 基本救助 65% × 13,000 = 8,450, not 7,800."""
    results = run_case_file(revised_folder / "cases" / "benxi-2023.yaml")
    first = results[0]
    assert not first.passed
    basic = next(m for m in first.mismatches if (m.claim_id, m.what) == ("a", "基本救助"))
    assert (basic.expected, basic.actual) == ("7,800.00", "8,450.00")
    rate = next(s for s in basic.steps if s.node == "基本救助.rate")
    assert (rate.facts.value, rate.clause) == (Decimal("0.65"), "(五)")
    report = render_results(results)
    assert "FAIL " in report and "benxi-2023.yaml:16:" in report
    assert "  claim a: 基本救助 (expected at line 28)\n    expected: 7,800.00\n" \
           "    actual:   8,450.00\n" in report
    assert "基本救助支付比例 [低保边缘家庭成员]: 65%" in report
    # Cases without 低保边缘家庭成员 still pass: the report's last line counts both.
    passed = sum(1 for r in results if r.passed)
    assert 0 < passed < len(results)
    assert report.endswith(f"{passed} passed, {len(results) - passed} failed\n")


@pytest.mark.parametrize("text, line, message", [
    ("policy: benxi-2023\ncases:\n  - name: x\n    claims: []\n    expext: {}\n", 3,
     "unknown key 'expext' in a case"),
    ("policy: benxi-2023\ncases:\n  - name: x\n    claims: [{claim_id: a}]\n"
     "    expect: {b: {error: C307}}\n", 5, "expect names claim b"),
    ("policy: benxi-2023\ncases:\n  - name: x\n    claims: [{claim_id: a}]\n"
     "    expect: {a: {total_paid: lots}}\n", 5, "total_paid: 'lots' is not an amount"),
    ("policy: benxi-2023\ncases: [\n", 3, "not valid YAML"),
    ("policy: benxi-2023\n", 1, "no `cases:`"),
])
def test_malformed_case_files_name_the_line(tmp_path, text, line, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CaseFileError) as error:
        load_case_file(path)
    assert error.value.line == line
    assert message in error.value.message


def test_unexpected_refusal_and_unexpected_settlement_are_reported(tmp_path):
    """bx: 低保对象 without paid.大病保险 is refused (C307, docs/specification.md §7), not settled; a
    settled claim expected refused says what was paid (B 10,000 × 70% + 倾斜 R 3,000 → 0)."""
    shutil.copy(POLICIES / "benxi-2023.policy", tmp_path / "benxi-2023.policy")
    (tmp_path / "c.yaml").write_text(
        "policy: benxi-2023\ndefaults: {scheme: 居民医保, visit: 住院, person_id: p, "
        "date: 2023-03-01, identities: [低保对象]}\ncases:\n  - name: x\n    claims:\n"
        "      - {claim_id: a, total_cost: 20000, in_scope_cost: 20000, paid: {基本医保: 10000}}\n"
        "      - {claim_id: b, total_cost: 20000, in_scope_cost: 20000,"
        " paid: {基本医保: 10000, 大病保险: 0}}\n"
        "    expect:\n      a: {payouts: {基本救助: 7000}}\n      b: {error: C311}\n",
        encoding="utf-8")
    [result] = run_case_file(tmp_path / "c.yaml")
    assert [(m.claim_id, m.expected, m.actual[:12]) for m in result.mismatches] == [
        ("a", "settled", "refused: C30"), ("b", "refused with C311", "settled: pai")]
    assert result.mismatches[1].actual == "settled: paid 17,000.00"
