"""`yibao diff` on the command line: formats, --fail-on-change, and wrong usage."""

from __future__ import annotations

import json

from helpers import EXAMPLES, POLICIES
from yibao.cli.main import main

JIAMUSI = str(POLICIES / "jiamusi-2022.policy")
JIAMUSI_EXAMPLES = str(EXAMPLES / "jiamusi-2022.jsonl")
BY_DATE = [JIAMUSI, "--at", "2021-12-31", "--vs", "2022-01-01", "--claims", JIAMUSI_EXAMPLES]


def test_text_report_of_jiamusi_by_date(capsys):
    """Jiamusi §二.1: jm-0005 (B 60,000) pays 60% × 48,000 = 28,800 under 2021, 32,600 under
    the 2022 bands; jm-0003 (脱贫人口) is settled in 2021 and refused under 2022."""
    assert main(["diff", *BY_DATE]) == 0
    out = capsys.readouterr().out
    assert out.startswith("yibao diff: jiamusi-2021@2021-12-31 → jiamusi-2022@2022-01-01\n")
    assert "changed  大病保险.年度限额 [others]: 500,000.00 → 不设" in out
    assert "  jm-0005 · line 5 · p-1 · 2022-02-01 · 住院 · 无身份\n" \
           "    大病保险: 28,800.00 → 32,600.00 (+3,800.00)\n" in out
    assert "first divergence: 大病保险支付比例 [无救助身份] (大病保险.rate): 60% → 分段" in out
    assert "Claims refused only under new (jiamusi-2022@2022-01-01), settled under old: 3" in out
    assert "  jm-0003 · line 3 · p-2 · 2021-05-01 · 住院 · 脱贫人口\n    old: paid 21,900.00" in out


def test_fail_on_change_exits_1_when_anything_changed(capsys):
    assert main(["diff", *BY_DATE, "--fail-on-change"]) == 1
    assert main(["diff", str(POLICIES / "benxi-2023.policy"), str(POLICIES / "benxi-2023.policy"),
                 "--claims", str(EXAMPLES / "benxi-2023.jsonl"), "--fail-on-change"]) == 0
    assert "Values: no change" in capsys.readouterr().out


def test_markdown_and_json(tmp_path, capsys):
    assert main(["diff", *BY_DATE, "--format", "markdown", "--max-claims", "1"]) == 0
    markdown = capsys.readouterr().out
    assert "| changed | 大病保险.年度限额 | others | 500,000.00 | 不设 |" in markdown
    assert "… and 5 more (`--format json` lists every one)." in markdown
    output = tmp_path / "diff.json"
    assert main(["diff", *BY_DATE, "--format", "json", "-o", str(output)]) == 0
    data = json.loads(output.read_text(encoding="utf-8"))
    assert data["summary"]["counts"] == {"changed": 6, "unchanged": 1, "failed_old_only": 0,
                                         "failed_new_only": 3, "failed_both": 2}
    jm5 = next(c for c in data["claims"] if c["claim_id"] == "jm-0005")
    assert jm5["lines"] == [{"line": "大病保险", "old": "28800.00", "new": "32600.00",
                             "change": "3800.00"}]


def test_one_family_needs_both_dates(capsys):
    assert main(["diff", JIAMUSI, "--at", "2021-12-31"]) == 2
    assert "needs both --at DATE and --vs DATE" in capsys.readouterr().err


def test_a_date_before_every_version_is_refused(capsys):
    assert main(["diff", JIAMUSI, "--at", "2020-06-30", "--vs", "2022-01-01"]) == 2
    err = capsys.readouterr().err
    assert "no version of jiamusi-2022 is in force on 2020-06-30" in err
    assert "jiamusi-2021 from 2021-01-01, jiamusi-2022 from 2022-01-01" in err


def test_two_files_of_one_policy_id_are_named_by_their_files(tmp_path, capsys):
    """Issue 24 item 12: a draft of benxi-2023 against the notice in force read
    "benxi-2023 → benxi-2023". §(五) caps 基本救助 at 2万; the draft raises it to 3万."""
    notice = POLICIES / "benxi-2023.policy"
    draft = tmp_path / "draft.policy"
    draft.write_text(notice.read_text(encoding="utf-8").replace("cap 2万 §(五)", "cap 3万 §(五)"),
                     encoding="utf-8")
    assert main(["diff", str(notice), str(draft)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"yibao diff: benxi-2023 ({notice}) → benxi-2023 ({draft})\n")
    assert "changed  基本救助.年度限额 [全体]: 20,000.00 → 30,000.00" in out
    assert main(["diff", str(notice), str(draft), "--format", "markdown"]) == 0
    assert f"`benxi-2023 ({notice})` → `benxi-2023 ({draft})`" in capsys.readouterr().out
    assert main(["diff", str(notice), str(draft), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["old"]["file"], data["new"]["file"]) == (str(notice), str(draft))
    assert data["old"]["label"] == f"benxi-2023 ({notice})"
