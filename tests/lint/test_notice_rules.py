"""The rules that read the notice: L112 quote-not-in-notice, L113 figure-not-in-quote.

Each runs on Benxi 2023 with its notice (policies/notices/benxi-2023.txt) and
one planted fault.  The figures are the notice's own: §(五) sets 基本救助's
rates at 70% (低保对象、特困人员、孤儿), 60% (低保边缘家庭成员), 50%
(因病致贫重病患者) and its cap at 2万元; §(八) the 因病返贫 alert at 5000元.
"""

from __future__ import annotations

import shutil
from decimal import Decimal

import pytest

from helpers import POLICIES
from yibao.core.diagnostics import Severity
from yibao.lint.config import LintConfig
from yibao.lint.notice_text import NoticeText, fragments
from yibao.lint.quoted_figures import figures
from yibao.lint.runner import lint_file, lint_paths

BENXI = (POLICIES / "benxi-2023.policy").read_text(encoding="utf-8")
LINES = BENXI.splitlines()


def _line_of(text: str) -> int:
    return next(n for n, line in enumerate(LINES, 1) if text in line)


@pytest.fixture
def benxi(tmp_path):
    """benxi(old, new): Benxi with one change, beside a copy of its notice; its findings."""
    (tmp_path / "notices").mkdir()
    shutil.copy(POLICIES / "notices" / "benxi-2023.txt", tmp_path / "notices")

    def run(old: str = "", new: str = "", codes=("L112", "L113")):
        assert old == "" or BENXI.count(old) == 1, old
        path = tmp_path / "benxi-2023.policy"
        path.write_text(BENXI.replace(old, new) if old else BENXI, encoding="utf-8")
        return [f for f in lint_file(path, LintConfig()).findings if f.code in codes]

    return run


def test_the_shipped_policies_quote_their_notices_and_state_their_figures():
    reports = lint_paths(sorted(POLICIES.glob("*.policy")))
    found = [(r.path, f.span.line, f.code, f.message) for r in reports for f in r.findings
             if f.code in ("L112", "L113")]
    assert found == []


def test_benxi_as_shipped_has_no_finding(benxi):
    assert benxi() == []


# ---- L112 ------------------------------------------------------------------------------


def test_l112_a_misquoted_figure_is_reported_with_the_nearest_passage(benxi):
    old = "基本救助年度救助限额按2万元执行"
    findings = benxi(old, "基本救助年度救助限额按3万元执行")
    # The quote now states 3万元 beside a cap of 2万: L113 sees that too.
    assert sorted(f.code for f in findings) == ["L112", "L113"]
    [finding] = [f for f in findings if f.code == "L112"]
    assert finding.code == "L112" and finding.severity is Severity.ERROR
    assert (finding.span.line, finding.span.column) == (_line_of(old), 12)   # the §
    assert "3万元" in finding.message
    # The notice's line 35 of §(五) holds 自2023年1月起，基本救助年度救助限额按2万元执行.
    notice = (POLICIES / "notices" / "benxi-2023.txt").read_text(encoding="utf-8")
    expected_line = next(n for n, line in enumerate(notice.splitlines(), 1)
                         if "基本救助年度救助限额按2万元执行" in line)
    assert f"benxi-2023.txt:{expected_line})" in finding.hint
    assert "2万元执行" in finding.hint
    [(note, where)] = finding.related
    assert where.file.endswith("benxi-2023.txt") and where.line == expected_line


def test_l112_two_sentences_run_together_are_not_the_notice(benxi):
    """§(五): the 2000/5000 deductibles and the rates are in different sentences."""
    old = '"对低保对象、特困人员、孤儿取消起付标准，低保边缘家庭成员、因病致贫重病患者起付标准分别按2000元、5000元执行"'
    findings = benxi(old, '"低保边缘家庭成员起付标准按2000元执行"', codes=("L112",))
    assert [f.code for f in findings] == ["L112"]
    fixed = '"…低保边缘家庭成员、因病致贫重病患者起付标准分别按2000元、5000元执行"'
    assert benxi(old, fixed, codes=("L112",)) == []


def test_l112_widths_white_space_and_quotation_marks_are_not_differences(benxi):
    """The notice writes 2023年1月起,基本… with a half-width comma; the policy a full-width one."""
    old = '"自2023年1月起，基本救助年度救助限额按2万元执行"'
    assert benxi(old, '"自２０２３年１月起,  基本救助年度救助限额按“2万元”执行"') == []


def test_l112_elided_pieces_must_come_in_the_notice_order(benxi):
    old = '"自2023年1月起，基本救助年度救助限额按2万元执行"'
    assert benxi(old, '"自2023年1月起…按2万元执行"') == []
    # §(五) states 基本救助执行全省统一年度救助限额 first, the 2万元 later.
    assert benxi(old, '"基本救助执行全省统一年度救助限额…基本救助年度救助限额按2万元执行"') == []
    assert [f.code for f in benxi(
        old, '"基本救助年度救助限额按2万元执行…基本救助执行全省统一年度救助限额"')] == ["L112"]


def test_l112_a_clause_title_not_in_the_notice(benxi):
    old = 'clause §(五) "合理确定医疗救助待遇水平"'
    [finding] = benxi(old, 'clause §(五) "合理确定救助待遇"')
    assert finding.span.line == _line_of(old)


def test_l112_a_missing_notice_is_one_warning_at_the_source_string(tmp_path):
    path = tmp_path / "benxi-2023.policy"
    path.write_text(BENXI, encoding="utf-8")   # no notices/ beside it
    [finding] = [f for f in lint_file(path, LintConfig()).findings if f.code == "L112"]
    assert finding.severity is Severity.WARNING
    assert "(S250)" in finding.message
    assert (finding.span.line, finding.span.column) == (_line_of('source "'), 12)


# ---- L113 ------------------------------------------------------------------------------


def test_l113_a_rate_the_quote_contradicts_is_an_error(benxi):
    """§(五)'s quote gives 70%, 60% and 50%; a planted 65% is none of them."""
    old = "        低保边缘家庭成员: 60%\n        因病致贫重病患者: 50%\n    }\n    cap 2万"
    findings = benxi(old, old.replace("60%", "65%", 1))
    [finding] = findings
    assert finding.code == "L113" and finding.severity is Severity.ERROR
    line = BENXI[:BENXI.index(old)].count("\n") + 1
    assert (finding.span.line, finding.span.column) == (line, 19)   # the 65%
    assert finding.message == "rate 65% is not a figure the quote states (50%、60%、70%)"


def test_l113_a_value_the_quote_does_not_mention_is_information(benxi):
    old = 'cap 2万 §(五) "自2023年1月起，基本救助年度救助限额按2万元执行"'
    [finding] = benxi(old, 'cap 2万 §(五) "合理确定医疗救助待遇水平"')
    assert finding.severity is Severity.INFO
    assert finding.message == "cap 20000元: the quote states no amount"


@pytest.mark.parametrize("written", ["2万", "2万元", "20000", "20000元", "1.999万", "19990元"])
def test_l113_reads_amounts_as_the_language_does(benxi, written):
    """2万 = 2万元 = 20000 = 20000元; 1.999万 = 19990元 is 10元 short of the quoted 2万元."""
    old = 'cap 2万 §(五)'
    findings = benxi(old, f"cap {written} §(五)")
    if written in ("1.999万", "19990元"):
        assert [f.message for f in findings] == [
            "cap 19990元 is not a figure the quote states (20000元)"]
    else:
        assert findings == []


def test_l113_reads_chinese_percentages(benxi):
    old = '"自2023年1月起，基本救助年度救助限额按2万元执行"'
    assert benxi('cap 2万 §(五) ' + old, 'rate 70% §(五) "救助比例为百分之七十"',
                 codes=("L113",)) == []
    [finding] = benxi('cap 2万 §(五) ' + old, 'rate 75% §(五) "救助比例为百分之七十"',
                      codes=("L113",))
    assert finding.message == "rate 75% is not a figure the quote states (70%)"


def test_l113_without_a_quote_reads_the_figures_of_the_cited_clause(benxi):
    """§(八) of the notice sets the 因病返贫 alert at 5000元; 6000 is not in it."""
    old = 'threshold 5000 §(八) "因病返贫风险监测对象的预警标准为5000元"'
    assert benxi(old, "threshold 5000 §(八)") == []
    [finding] = benxi(old, "threshold 6000 §(八)")
    assert finding.severity is Severity.ERROR
    assert finding.message.startswith("threshold 6000元 is not a figure §(八) of the notice states")


# ---- the readings underneath -----------------------------------------------------------


def test_figures_in_words():
    read = figures("2021年起付标准为1.2 万元，2万元至5万元部分支付比例为70%，"
                   "百分之七十五，按照（吉医保发〔2019〕35号）执行，20000元")
    assert read.rates == {Decimal("0.7"), Decimal("0.75")}
    # 2021年 and 35号 are no amounts; 1.2 万元 = 12000; 2万 and 20000元 are one figure.
    assert read.amounts == {Decimal("12000"), Decimal("20000"), Decimal("50000")}


def test_fragments_split_at_elisions_and_fold_widths():
    assert fragments("…参照执行低保对象的…医疗救助待遇政策执行") == [
        "参照执行低保对象的", "医疗救助待遇政策执行"]
    assert fragments("（一）１，２") == ["(一)1,2"]


def test_clause_passages_follow_the_notices_headings():
    notice = NoticeText((POLICIES / "notices" / "jiamusi-2021.txt").read_text(encoding="utf-8"))
    passage = notice.clause_passage("二.1")
    assert passage.text.startswith("1.巩固大病保险保障水平。2021年大病保险起付标准为1.2 万元")
    assert "2.扩大" not in passage.text and "二、" not in passage.text
