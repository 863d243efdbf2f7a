"""A revision of Benxi 2023 reviewed with `yibao diff`: the changed value and every claim
it moves, worked out by hand.

The revision (written here, not a real notice) raises 低保边缘家庭成员's 基本救助 rate
from 60% to 65% (policies/notices/benxi-2023.txt §(五) gives 60%).  On the example claims
(policies/examples/benxi-2023.jsonl), B = in-scope cost − 基本医保 − 大病保险; 基本救助 =
rate × (C − 2,000) year to date, cap 2万; 倾斜救助 60% × (R − 3,000) on what is left:

  bx-0001 p-01, B 15,000: 基本 7,800 → 65% × 13,000 = 8,450; 倾斜 R 7,200 → 2,520;
          R 6,550 → 2,130.                                   total +260
  bx-0002 p-01, B 10,000 (C 25,000): 基本 13,800 − 7,800 = 6,000 → 14,950 − 8,450 = 6,500;
          倾斜 C 11,200 → 4,920 − 2,520 = 2,400; C 10,050 → 4,230 − 2,130 = 2,100.   +200
  bx-0003 p-01, B 20,000 (C 45,000): 基本 cap room 20,000 − 13,800 = 6,200 → 20,000 −
          14,950 = 5,050; 倾斜 C 25,000 either way: 13,200 − 4,920 = 8,280 → 13,200 −
          4,230 = 8,970.                                     −460 (the year's total is the same)
  bx-0007 低保边缘家庭成员 + 因病致贫重病患者, B 12,000: 6,000 + 1,800 → 6,500 +
          60% × (5,500 − 3,000) = 1,500 (因病致贫重病患者 3,500 loses either way).   +200
  bx-0009 其他监测范围内人口 (treated as 低保边缘家庭成员, §(六)), B 7,000: 3,000 + 600 →
          3,250 + 60% × (3,750 − 3,000) = 450.               +100
Every other claim is unchanged; bx-0013 (no paid.基本医保) is refused under both.
"""

from __future__ import annotations

import datetime
import shutil
from decimal import Decimal

import pytest

from helpers import EXAMPLES, POLICIES
from yibao.diff import diff_files
from yibao.diff.corpus import CHANGED, FAILED_BOTH, UNCHANGED
from yibao.diff.values import ValueChange

D = Decimal
REVISION = """
policy benxi-2023r extends benxi-2023 {
    title "本溪 2023 测试用修订：低保边缘家庭成员基本救助比例提高到65%"
    effective 2023-07-01
}
amend 基本救助 {
    rate §(五) "低保边缘家庭成员救助比例为65%" {
        低保边缘家庭成员: 65%
    }
}
"""
QUOTE = "§(五)「低保边缘家庭成员救助比例为65%」"
OLD_QUOTE = ("§(五)「低保对象、特困人员、孤儿救助比例为70%，低保边缘家庭成员救助比例为60%，"
             "因病致贫重病患者救助比例为50%」")

# claim → (基本救助 old, new, 倾斜救助 old, new), from the docstring.
MOVED = {
    "bx-0001": ("7800.00", "8450.00", "2520.00", "2130.00"),
    "bx-0002": ("6000.00", "6500.00", "2400.00", "2100.00"),
    "bx-0003": ("6200.00", "5050.00", "8280.00", "8970.00"),
    "bx-0007": ("6000.00", "6500.00", "1800.00", "1500.00"),
    "bx-0009": ("3000.00", "3250.00", "600.00", "450.00"),
}


@pytest.fixture(scope="module")
def revision(tmp_path_factory):
    folder = tmp_path_factory.mktemp("benxi")
    shutil.copy(POLICIES / "benxi-2023.policy", folder / "benxi-2023.policy")
    (folder / "benxi-2023r.policy").write_text(REVISION, encoding="utf-8")
    return folder / "benxi-2023r.policy"


@pytest.fixture(scope="module")
def report(revision):
    return diff_files(revision, at=datetime.date(2023, 6, 30), vs=datetime.date(2023, 7, 1),
                      claims=EXAMPLES / "benxi-2023.jsonl")


def test_the_one_changed_value_with_its_clauses(report):
    assert (report.old.policy.policy_id, report.new.policy.policy_id) == (
        "benxi-2023", "benxi-2023r")
    assert report.values == (ValueChange(
        "changed", "基本救助", "支付比例", "低保边缘家庭成员", "60%", "65%",
        OLD_QUOTE, QUOTE, "benxi-2023r"),)


def test_affected_claims_and_their_lines(report):
    corpus = report.corpus
    changed = {c.claim.claim_id: c for c in corpus.of_category(CHANGED)}
    assert sorted(changed) == sorted(MOVED)
    for claim_id, (basic_old, basic_new, tilted_old, tilted_new) in MOVED.items():
        lines = {l.line: (l.old, l.new) for l in changed[claim_id].line_changes()
                 if l.old != l.new}
        assert lines == {"基本救助": (D(basic_old), D(basic_new)),
                         "倾斜救助": (D(tilted_old), D(tilted_new))}, claim_id
    assert {c: changed[c].change for c in MOVED} == {
        "bx-0001": D("260.00"), "bx-0002": D("200.00"), "bx-0003": D("-460.00"),
        "bx-0007": D("200.00"), "bx-0009": D("100.00")}
    assert [c.claim.claim_id for c in corpus.of_category(FAILED_BOTH)] == ["bx-0013"]
    assert len(corpus.of_category(UNCHANGED)) == 13 - 5 - 1


def test_first_divergence_is_the_rate_read_for_the_applied_identity(report):
    """bx-0009 holds 其他监测范围内人口: the step is read for 低保边缘家庭成员 (treated as)."""
    for claim in report.corpus.of_category(CHANGED):
        d = claim.divergence
        assert (d.node, d.candidate, d.old_value, d.new_value) == (
            "基本救助.rate", "低保边缘家庭成员", "60%", "65%"), claim.claim.claim_id
        assert (d.old_version, d.new_version, d.new_clause) == ("benxi-2023", "benxi-2023r", "(五)")


def test_summary_figures(report):
    summary = report.summary
    assert dict(summary.counts) == {"changed": 5, "unchanged": 7, "failed_old_only": 0,
                                    "failed_new_only": 0, "failed_both": 1}
    assert summary.changed.change == D("300.00")            # 260 + 200 − 460 + 200 + 100
    assert summary.changed.mean_change == D("60.00")
    assert (summary.increased, summary.decreased) == (4, 1)
    by_line = {g.name: (g.claims, g.change) for g in summary.by_line}
    # 基本救助 +650 +500 −1,150 +500 +250; 倾斜救助 −390 −300 +690 −300 −150
    assert by_line == {"基本救助": (5, D("750.00")), "倾斜救助": (5, D("-450.00"))}
    assert [(g.name, g.claims) for g in summary.by_identity] == [("低保边缘家庭成员", 5)]
    buckets = {label: n for label, n in summary.buckets if n}
    assert buckets == {"(−1,000, −100]": 1, "[+100, +1,000)": 4}


def test_two_files_an_in_place_edit_gives_the_same_claims(tmp_path):
    """Two files, no dates: each claim settles by its date under each file, as `yibao eval`."""
    text = (POLICIES / "benxi-2023.policy").read_text(encoding="utf-8")
    edited = text.replace("低保边缘家庭成员: 60%\n        因病致贫重病患者: 50%\n    }\n    cap 2万",
                          "低保边缘家庭成员: 65%\n        因病致贫重病患者: 50%\n    }\n    cap 2万")
    assert edited != text
    (tmp_path / "benxi-2023.policy").write_text(edited, encoding="utf-8")
    report = diff_files(POLICIES / "benxi-2023.policy", tmp_path / "benxi-2023.policy",
                        claims=EXAMPLES / "benxi-2023.jsonl")
    [change] = report.values
    assert (change.where, change.old, change.new) == ("基本救助.支付比例 [低保边缘家庭成员]",
                                                      "60%", "65%")
    changed = {c.claim.claim_id: c.change for c in report.corpus.of_category(CHANGED)}
    assert changed == {"bx-0001": D("260.00"), "bx-0002": D("200.00"), "bx-0003": D("-460.00"),
                       "bx-0007": D("200.00"), "bx-0009": D("100.00")}


def test_unpinned_revision_applies_from_its_date(revision):
    """Without --at/--vs, each claim settles under the version of its date, as `yibao eval`:
    the revision (from 2023-07-01) moves only bx-0007 (07-08, +200) and bx-0009 (10-02, +100).
    bx-0003 (09-03) stays: p-01's year came in under 60% (C 25,000, 13,800 paid), and
    65% × 43,000 − 65% × 23,000 = 13,000 is cut to the same cap room 6,200; 倾斜救助's R is
    then the same 13,800."""
    report = diff_files(POLICIES / "benxi-2023.policy", revision,
                        claims=EXAMPLES / "benxi-2023.jsonl")
    assert len(report.values) == 1
    changed = {c.claim.claim_id: c.change for c in report.corpus.of_category(CHANGED)}
    assert changed == {"bx-0007": D("200.00"), "bx-0009": D("100.00")}
