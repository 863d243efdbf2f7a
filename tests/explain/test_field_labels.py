"""Claim fields are shown by their display names, the notice's words (issue 24 item 7).

Benxi §(十三): "未按规定外出就医的救助对象，所发生的医疗费用原则上不纳入医疗救助范围";
the policy reads it as `when in_province or referred` on 基本救助 and 倾斜救助, with
the fields shown as 省内就医 and 按规定转诊.  A 低保边缘家庭成员 住院 out of province and
not referred: in-scope 25,000, 基本医保 8,000 and 大病保险 2,000 paid upstream; both
assistance lines refuse (0.00), and an auditor reads why in the notice's words,
never in_province / referred.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from helpers import PER_DAY_POLICY, POLICIES, claim, settle
from yibao.api import load_engine
from yibao.explain.graph_words import node_words
from yibao.explain.labels import EN
from yibao.explain import trace_zh
from yibao.explain.outline import claim_inputs
from yibao.explain.text import render_text

AWAY = claim("away", "q", "2023-03-01", ["低保边缘家庭成员"], "25000.00",
             {"基本医保": "8000.00", "大病保险": "2000.00"}, in_province=False)


@pytest.fixture(scope="module")
def benxi():
    return load_engine(POLICIES / "benxi-2023.policy")


@pytest.fixture(scope="module")
def away(benxi):
    [outcome] = settle(benxi, AWAY, trace=True)
    return outcome


def _text(benxi, outcome, **options) -> str:
    return render_text(outcome, benxi.claims_by_id["away"], benxi.policy, **options)


def test_the_refusal_out_of_province_unreferred_reads_in_the_notices_words(benxi, away):
    assert dict(away.payouts)["基本救助"] == Decimal("0.00")
    assert dict(away.payouts)["倾斜救助"] == Decimal("0.00")
    text = _text(benxi, away)
    assert "  基本救助: 不适用 —— 条件不满足: (省内就医 或 按规定转诊) §" in text
    assert "  倾斜救助: 不适用 —— 条件不满足: (省内就医 或 按规定转诊) §" in text
    assert "in_province" not in text and "referred" not in text


def test_english_keeps_the_display_names_as_the_notices_terms(benxi, away):
    text = _text(benxi, away, lang=EN)
    assert "基本救助: does not apply — condition not met: (省内就医 or 按规定转诊) §" in text
    assert "in_province" not in text


def test_the_claims_inputs_are_labelled_by_display_name(away):
    inputs = {trace_zh.step_label(step): trace_zh.words(step).value
              for step in claim_inputs(away.trace)}
    assert inputs["省内就医"] == "否" and inputs["按规定转诊"] == "否"
    assert "in_province" not in inputs


def test_the_graph_labels_its_inputs_and_conditions_by_display_name(benxi):
    graph = benxi.evaluators["benxi-2023"].graph
    assert trace_zh.graph_label(graph.node("claim.in_province")) == "省内就医"
    assert node_words(graph.node("claim.bed_days"), graph).formula == ("申报 住院床日",)
    assert "条件: (省内就医 或 按规定转诊)" in node_words(graph.node("基本救助.covered"),
                                                     graph).formula
    per_day = node_words(graph.node("精神障碍床日定额救助.slice"), graph).formula
    assert per_day == ("min(定额标准 × 住院床日, 计算基数)",)


def test_a_per_unit_formula_counts_in_the_fields_display_name(tmp_path):
    path = tmp_path / "t-2023.policy"
    path.write_text(PER_DAY_POLICY, encoding="utf-8")
    engine = load_engine(path)
    [outcome] = settle(engine, claim("c", "p", "2023-03-01", ["特困人员"], "5000.00",
                                     {"基本医保": "3000.00"}, bed_days=10), trace=True)
    # 100 a day × 10 days = 1,000, under the base 5,000 − 3,000 = 2,000.
    assert dict(outcome.payouts)["床日定额救助"] == Decimal("1000.00")
    [step] = [s for s in outcome.trace if s.node == "床日定额救助.slice"]
    assert trace_zh.words(step).formula.startswith("定额 100.00 × 10 住院床日，不超过基数 2000.00 = 1000.00")
