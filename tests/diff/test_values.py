"""The value diff beyond rates: identities, alerts, subsidies, the ceiling, conditional bases,
lines added — each change with its clause."""

from __future__ import annotations

import datetime

from helpers import POLICIES
from yibao.diff import diff_files


def changes(report):
    return [(c.kind, c.where, c.old, c.new) for c in report.values]


def test_xinjiang_revised_in_place(tmp_path):
    """Four edits of policies/notices/xinjiang-2023.txt's rules: ceiling §四 95% → 90%, alert §三 2,000 →
    2,500, 孤儿 no longer treated as 特困人员 (§一), 特困人员's subsidy full → a share of 80%."""
    text = (POLICIES / "xinjiang-2023.policy").read_text(encoding="utf-8")
    edited = (text.replace("ceiling 95% §四", "ceiling 90% §四")
              .replace("threshold 2000 §三", "threshold 2500 §三")
              .replace("identity 孤儿 treated as 特困人员 §一", "identity 孤儿 §一")
              .replace("    特困人员: full §一", "    特困人员: share 80% §一"))
    (tmp_path / "xinjiang-2023.policy").write_text(edited, encoding="utf-8")
    report = diff_files(POLICIES / "xinjiang-2023.policy", tmp_path / "xinjiang-2023.policy")
    assert changes(report) == [
        ("changed", "身份.参照执行 [孤儿]", "特困人员", "—"),
        ("changed", "因病返贫致贫风险.预警标准 [全体]", "2,000.00", "2,500.00"),
        ("changed", "资助参保.资助标准 [特困人员]", "全额资助", "按缴费的 80% 资助"),
        ("changed", "比例上限.比例 [全体]", "95%", "90%"),
    ]
    ceiling = report.values[-1]
    assert ceiling.new_citation.startswith("§四「原则上重点救助对象三重保障制度保障后")


def test_jilin_2020_adds_a_conditional_base():
    """吉医保发〔2019〕52号 §二(一): from 2020-01-01, out-of-province 兜底 within the catalogue."""
    report = diff_files(POLICIES / "jilin-2020.policy", at=datetime.date(2019, 12, 31),
                        vs=datetime.date(2020, 1, 1))
    change, field = report.values
    # Only care 符合规范就医的 is bounded by the catalogue; for other out-of-province care
    # the notice gives no bound (issue 21 item 3).
    assert (change.kind, change.where, change.old, change.new) == (
        "changed", "大病兜底.条件基数", "无",
        "in_scope_cost − 基本医保 − 大病保险 − 医疗救助 when (非 in_province 且 standard_care); "
        "unspecified when (非 in_province 且 非 standard_care)")
    assert change.new_citation.startswith("§二(一)「从2020年1月1日起")
    assert (field.kind, field.where) == ("added", "申报字段.standard_care")


def test_a_line_and_an_identity_added(tmp_path):
    """A made-up revision of Jiamusi adding a computed line for 特困人员 (figures not a notice's)."""
    text = (POLICIES / "jiamusi-2021.policy").read_text(encoding="utf-8") + (
        '\nidentity 孤儿 §二.3 "测试"\n'
        "line 医疗救助 {\n    covers 住院 §二.3\n    rate 70% §二.3\n}\n")
    (tmp_path / "jiamusi-2021.policy").write_text(text, encoding="utf-8")
    report = diff_files(POLICIES / "jiamusi-2021.policy", tmp_path / "jiamusi-2021.policy")
    assert changes(report) == [
        ("changed", "政策.结算顺序", "基本医保、大病保险", "基本医保、大病保险、医疗救助"),
        ("added", "身份.身份 [孤儿]", None, "本身份待遇"),
        ("added", "医疗救助.支付项目", None, "本政策计算"),
    ]


def test_a_policy_against_itself_has_no_change():
    report = diff_files(POLICIES / "benxi-2023.policy", POLICIES / "benxi-2023.policy")
    assert report.values == () and not report.anything_changed


def test_an_amendment_for_some_visits_is_compared_per_visit(tmp_path):
    """Lhasa §四(四)一 on the test base (tests/lhasa_base.py): the poor's 基本医保 rate goes
    from 70% to 75% for 住院 and 门诊慢特病, and stays 70% for 普通门诊 (no change listed)."""
    from lhasa_base import lhasa_folder

    report = diff_files(lhasa_folder(tmp_path), at=datetime.date(2020, 1, 1),
                        vs=datetime.date(2020, 5, 1))
    rate = [(c.where, c.old, c.new) for c in report.values if c.where.startswith("基本医保.支付比例")]
    assert rate == [("基本医保.支付比例 [住院: 建档立卡贫困人口]", "70%", "75%"),
                    ("基本医保.支付比例 [门诊慢特病: 建档立卡贫困人口]", "70%", "75%")]
