"""The trace's words: every op has a planner (explain/trace_plan.py) and every phrase kind
words in Chinese and in English, every step of
every shipped example is written in both, and a step's facts survive their JSON.

Figures: Benxi bx-0003 (docs/views.md): 基本救助 C 25,000 → 45,000, 60% above the
2,000 deductible, G 25,800 − 13,800 = 12,000, capped at 20,000 − 13,800 = 6,200.
"""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from helpers import EXAMPLES, POLICIES
from yibao.api import evaluate_claims, load_engine, read_claims_file
from yibao.audit.restore import step_from_json
from yibao.runtime.facts import Bound, Reading
from yibao.compiler.graph import Op
from yibao.explain import trace_en, trace_plan, trace_zh

EXAMPLE_POLICIES = sorted(path.stem for path in EXAMPLES.glob("*.jsonl")
                          if (POLICIES / f"{path.stem}.policy").exists())


def test_every_op_has_a_planner():
    assert set(trace_plan.PLANNERS) == set(Op)


@pytest.mark.parametrize("catalogue", [trace_zh.CATALOGUE, trace_en.CATALOGUE],
                         ids=["zh", "en"])
def test_every_phrase_kind_has_words_in_both_languages(catalogue):
    kinds = set(trace_plan.PHRASES)
    assert len(kinds) > 60
    assert set(catalogue.entries) == kinds


@pytest.mark.parametrize("module", [trace_zh, trace_en], ids=["zh", "en"])
def test_every_fixed_node_and_quantity_has_a_name_in_both_languages(module):
    assert set(module.NODE_LABELS) == set(trace_plan.FIXED_NODES)
    assert set(module.QUANTITY) == {"deductible", "rate", "cap", "per_unit"}


def test_a_phrase_kind_without_words_is_refused():
    """A phrase kind that a catalogue lacks (the test above lists it) raises a KeyError
    naming it when worded: a sentence is never silently dropped."""
    @attrs.frozen
    class Forgotten(trace_plan.Phrase):
        pass
    with pytest.raises(KeyError, match="Forgotten"):
        trace_zh.CATALOGUE.word(Forgotten())


def test_the_two_languages_say_the_same_parts_in_the_same_order():
    """bx-0003's 基本救助 slice: one plan, worded twice; the Chinese names the once-a-year
    reading where the English does, with the per-admission figure 10,800 in both."""
    engine = load_engine(POLICIES / "benxi-2023.policy")
    outcomes = evaluate_claims(engine, read_claims_file(EXAMPLES / "benxi-2023.jsonl"),
                               trace=True)
    [result] = [o for o in outcomes if o.claim_id == "bx-0003"]
    [step] = [s for s in result.trace if s.node == "基本救助.slice"]
    said = trace_plan.plan(step)
    assert [type(part) for part in said.formula] == [trace_plan.Slice, trace_plan.PerAdmission]
    assert said.formula[1].figure == Decimal("10800.00")
    assert trace_zh.words(step).formula.endswith("按次计算则为 10800.00")
    assert trace_en.words(step).formula.endswith("per admission it would be 10800.00")


def _traces(name: str):
    engine = load_engine(POLICIES / f"{name}.policy")
    outcomes = evaluate_claims(engine, read_claims_file(EXAMPLES / f"{name}.jsonl"), trace=True)
    return [step for outcome in outcomes for step in getattr(outcome, "trace", ())]


@pytest.mark.parametrize("name", EXAMPLE_POLICIES)
def test_every_step_is_written_in_both_and_survives_its_json(name):
    steps = _traces(name)
    assert steps
    for step in steps:
        assert trace_zh.words(step).value and trace_en.words(step).value
        back = step_from_json(step.to_json())
        assert trace_zh.words(back) == trace_zh.words(step), step.node
        assert trace_en.words(back) == trace_en.words(step), step.node


@pytest.fixture(scope="module")
def bx_0003():
    engine = load_engine(POLICIES / "benxi-2023.policy")
    outcomes = evaluate_claims(engine, read_claims_file(EXAMPLES / "benxi-2023.jsonl"),
                               trace=True)
    [result] = [o for o in outcomes if o.claim_id == "bx-0003"]
    return {(s.node, s.candidate): s for s in result.trace}


def test_bx_0003_facts_carry_the_figures_the_bound_and_the_reading(bx_0003):
    who = "低保边缘家庭成员"
    schedule = bx_0003["基本救助.slice", who].facts
    assert (schedule.before, schedule.after, schedule.g_before, schedule.g_after,
            schedule.payout) == (Decimal("25000.00"), Decimal("45000.00"), Decimal("13800.00"),
                                 Decimal("25800.00"), Decimal("12000.00"))
    assert schedule.reading is Reading.DEDUCTIBLE_ONCE_PER_YEAR and schedule.bound is None
    cap = bx_0003["基本救助.payout", who].facts
    assert (cap.due, cap.cap, cap.paid, cap.room, cap.payout, cap.bound) == (
        Decimal("12000.00"), Decimal("20000"), Decimal("13800.00"), Decimal("6200.00"),
        Decimal("6200.00"), Bound.CAP_REACHED)
    # 精神障碍床日定额救助 is kept out by its own condition, which cites its own clause.
    covers = bx_0003["精神障碍床日定额救助.covered", who].facts
    assert (covers.covered, covers.bound, covers.condition, covers.condition_clause) == (
        False, Bound.CONDITION_FAILED, ("field", "mental_disorder", "严重精神障碍患者"), "(五)")
    # 基本救助's condition held, and the facts say so with §(十三).
    basic = bx_0003["基本救助.covered", who].facts
    assert (basic.covered, basic.condition_held, basic.condition_clause) == (True, True, "(十三)")


def _settled(name: str, claim_id: str):
    engine = load_engine(POLICIES / f"{name}.policy")
    outcomes = evaluate_claims(engine, read_claims_file(EXAMPLES / f"{name}.jsonl"), trace=True)
    [result] = [o for o in outcomes if o.claim_id == claim_id]
    return result, {(s.node, s.candidate): s for s in result.trace}


def test_bx_0008_treated_as_and_a_deductible_not_reached():
    """bx-0008: 返贫致贫人口 is treated as 低保对象 (§(六)).  B = 16,000 − 9,000 = 7,000;
    基本救助 pays 低保对象 70% of it, 4,900; 倾斜救助's base is the 2,100 left, below its
    3,000 deductible: it pays 0 for that reason, and the facts say so."""
    result, steps = _settled("benxi-2023", "bx-0008")
    identity = steps["candidate.identity", "低保对象"].facts
    assert (identity.identity, identity.held, identity.treated_from) == (
        "低保对象", ("返贫致贫人口",), ("返贫致贫人口",))
    assert steps["candidate.identity", "低保对象"].clause == "(六)"
    tilt = steps["倾斜救助.slice", "低保对象"].facts
    assert (tilt.after, tilt.deductible, tilt.payout, tilt.bound) == (
        Decimal("2100.00"), Decimal("3000"), Decimal("0.00"), Bound.DEDUCTIBLE_NOT_REACHED)
    assert result.payout("基本救助") == Decimal("4900.00")
    assert trace_en.words(steps["candidate.identity", "低保对象"]).formula == (
        "返贫致贫人口 treated as 低保对象")


def test_xj_0007_the_ceiling_bound_and_the_amount_cut():
    """xj-0007 (Xinjiang §四): 特困人员 on an inpatient claim of 12,000 in scope; the lines
    paid 8,000 + 1,000 + 3,000 = 12,000, above 95% × 12,000 = 11,400: 医疗救助 is cut by
    600, to 2,400."""
    result, steps = _settled("xinjiang-2023", "xj-0007")
    ceiling = steps["ratio_ceiling", "特困人员"].facts
    assert (ceiling.applies, ceiling.limit, ceiling.combined, ceiling.cut, ceiling.held) == (
        True, Decimal("11400.00"), Decimal("12000.00"), Decimal("600.00"), ("特困人员",))
    assert dict(ceiling.after)["医疗救助"] == Decimal("2400.00") and ceiling.bound is Bound.CEILING_CUT
    assert result.total_paid == Decimal("11400.00")
