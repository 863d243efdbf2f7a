"""`yibao test`: exit 0 when every case passes, 1 with the report when one fails, 2 for a
malformed case file."""

from __future__ import annotations

import shutil

from helpers import POLICIES
from yibao.cli.main import main


def test_shipped_cases_pass(capsys):
    assert main(["test", str(POLICIES)]) == 0
    out = capsys.readouterr().out
    assert out.endswith(" passed, 0 failed\n")


def test_a_failing_case_exits_1_with_the_report(tmp_path, capsys):
    """Jiamusi 2021 §二.1: 60% × (20,000 − 12,000) = 4,800; a case expecting 4,900 fails."""
    shutil.copy(POLICIES / "jiamusi-2021.policy", tmp_path / "jiamusi-2021.policy")
    (tmp_path / "case.yaml").write_text(
        "policy: jiamusi-2021\ncases:\n  - name: 60% above 1.2万\n    claims:\n"
        "      - {claim_id: a, person_id: p, date: 2021-03-10, identities: [], scheme: 居民医保,"
        " visit: 住院, total_cost: 50000, in_scope_cost: 50000, paid: {基本医保: 30000}}\n"
        "    expect:\n      a: {payouts: {大病保险: 4900.00}}\n", encoding="utf-8")
    assert main(["test", str(tmp_path / "case.yaml")]) == 1
    out = capsys.readouterr().out
    assert "expected: 4,900.00\n    actual:   4,800.00" in out
    assert "大病保险支付比例 [无救助身份]: 60%" in out
    assert out.endswith("0 passed, 1 failed\n")


def test_a_malformed_case_file_exits_2(tmp_path, capsys):
    (tmp_path / "case.yaml").write_text("policy: jiamusi-2021\ncases:\n  - nmae: x\n",
                                        encoding="utf-8")
    assert main(["test", str(tmp_path / "case.yaml")]) == 2
    assert "case.yaml:3: unknown key 'nmae' in a case" in capsys.readouterr().err
