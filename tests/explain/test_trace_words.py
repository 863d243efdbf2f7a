"""The trace's words: every op has a writer in Chinese and in English, every step of
every shipped example is written in both, and a step's facts survive their JSON.

Figures: Benxi bx-0003 (docs/views.md): 基本救助 C 25,000 → 45,000, 60% above the
2,000 deductible, G 25,800 − 13,800 = 12,000, capped at 20,000 − 13,800 = 6,200.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from helpers import EXAMPLES, POLICIES
from yibao.api import evaluate_claims, load_engine, read_claims_file
from yibao.audit.restore import step_from_json
from yibao.compiler.facts import Bound, Reading
from yibao.compiler.graph import Op
from yibao.explain import trace_en, trace_zh

EXAMPLE_POLICIES = sorted(path.stem for path in EXAMPLES.glob("*.jsonl")
                          if (POLICIES / f"{path.stem}.policy").exists())


def test_every_op_has_a_writer_in_both_languages():
    assert set(trace_zh.WRITERS) == set(Op)
    assert set(trace_en.WRITERS) == set(Op)


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
        False, Bound.CONDITION_FAILED, ("field", "mental_disorder"), "(五)")
    # 基本救助's condition held, and the facts say so with §(十三).
    basic = bx_0003["基本救助.covered", who].facts
    assert (basic.covered, basic.condition_held, basic.condition_clause) == (True, True, "(十三)")
