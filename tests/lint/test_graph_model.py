"""Lint's settlement model is a visitor over the compiled evaluation graph.

One handler per op (a test fails when an op has none), reading only the node's
declared inputs; the figures are worked by hand from the policy's clauses.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from helpers import CEILING_POLICY, POLICIES, compiled_policies
from yibao.compiler.graph import Node, Op, Phase
from yibao.compiler.lower import (CANDIDATE_TOTAL, PERSONAL_BURDEN, TAKE_HIGHEST, TOTAL_PAID,
                                  lower_policy)
from yibao.dsl.loader import load_policy
from yibao.lint.curves import trace_curve
from yibao.lint.graph_model import HANDLERS, _Inputs, settle, visit
from yibao.lint.scenarios import effective_identities, scenarios



def test_every_op_has_a_lint_handler():
    assert set(HANDLERS) == set(Op)


@pytest.fixture(scope="module")
def ceiling_policy(tmp_path_factory):
    path = tmp_path_factory.mktemp("ceiling") / "c-2023.policy"
    path.write_text(CEILING_POLICY, encoding="utf-8")
    policy = load_policy(path).latest
    scenario, = (s for s in scenarios(policy, "特困人员") if s.visit == "住院")
    return lower_policy(policy), scenario


@pytest.mark.parametrize("burden, upstream, basic, tilted_before, tilted", [
    # Burden 10,000, nothing upstream: 基本救助 pays 96% × (10,000 − 1,000) = 8,640;
    # 倾斜救助 pays the 1,360 it leaves; 10,000 passes 95% × 10,000 = 9,500, and the
    # 500 above it is cut from 倾斜救助, the line the ceiling reduces: 860.
    (10000, 0, 8640, 1360, 860),
    # Upstream 4,000 of an in-scope 10,000: 基本救助 96% × (6,000 − 1,000) = 4,800;
    # 倾斜救助 the 1,200 left; 4,000 + 4,800 + 1,200 = 10,000 is cut by 500 again: 700.
    (6000, 4000, 4800, 1200, 700),
])
def test_the_graph_settles_the_ceiling_policy_by_hand(ceiling_policy, burden, upstream, basic,
                                                      tilted_before, tilted):
    graph, scenario = ceiling_policy
    settlement = settle(graph, scenario, Fraction(burden), Fraction(upstream))
    assert dict(settlement.payouts) == {"基本医保": upstream, "基本救助": basic, "倾斜救助": tilted}
    assert dict(settlement.before_ceiling) == {"基本救助": basic, "倾斜救助": tilted_before}
    assert settlement.total == 9500


def test_the_result_phase_has_its_handlers_too(ceiling_policy):
    """Visiting every phase: the candidate's total is the highest (the only candidate),
    the claim's total paid is 9,500 and the person bears the 500 the ceiling cut."""
    graph, scenario = ceiling_policy
    values, switches = visit(graph, scenario, Fraction(10000), phases=tuple(Phase))
    assert values[CANDIDATE_TOTAL] == values[TAKE_HIGHEST] == values[TOTAL_PAID] == 9500
    assert values[PERSONAL_BURDEN] == 500
    # The personal burden's clamp is a switch of the full visit, not of the settlement's.
    assert len(switches) == len(settle(graph, scenario, Fraction(10000)).switches) + 1


def test_a_handler_reads_only_the_nodes_declared_inputs():
    node = Node("total", Op.SUM, Phase.CANDIDATE, inputs=(("payout", "a.payout"),))
    values = _Inputs(node, {"a.payout": Fraction(1), "b.payout": Fraction(2)})
    assert values["a.payout"] == 1
    with pytest.raises(KeyError, match="total reads b.payout, which is not among its inputs"):
        values["b.payout"]


@pytest.mark.parametrize("name", compiled_policies())
def test_every_shipped_graph_visits_whole_without_an_undeclared_read(name):
    """Every shipped policy, identity and scenario, at every kink: the full visit reads
    only declared inputs, and the claim's total paid is the settlement's total."""
    policy = load_policy(POLICIES / f"{name}.policy").latest
    graph = lower_policy(policy)
    for identity in effective_identities(policy):
        for scenario in scenarios(policy, identity):
            curve = trace_curve(lambda b: settle(graph, scenario, b, b))
            for point in curve.settlements:
                values, _ = visit(graph, scenario, point.burden, point.upstream,
                                  phases=tuple(Phase))
                assert values[TOTAL_PAID] == point.total, (identity, scenario.describe())
