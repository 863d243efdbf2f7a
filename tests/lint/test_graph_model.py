"""Lint's settlement model is a visitor over the compiled evaluation graph.

One handler per op (a test fails when an op has none), reading only the node's
declared inputs; the figures are worked by hand from the policy's clauses.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from helpers import (CEILING_POLICY, PER_DAY_POLICY, POLICIES, claim, compiled_policies,
                     settle as settle_claims)
from lhasa_base import lhasa_folder
from yibao.api import load_engine
from yibao.compiler.graph import Node, Op, Phase
from yibao.compiler.lower import (CANDIDATE_TOTAL, PERSONAL_BURDEN, TAKE_HIGHEST, TOTAL_PAID,
                                  lower_policy)
from yibao.dsl.loader import load_policy
from yibao.lint.curves import trace_curve
from yibao.lint.graph_model import HANDLERS, ClaimKind, _Inputs, settle, visit
from yibao.lint.scenarios import effective_identities, scenarios



def test_every_op_has_a_lint_handler():
    assert set(HANDLERS) == set(Op)


@pytest.fixture(scope="module")
def ceiling_policy(tmp_path_factory):
    path = tmp_path_factory.mktemp("ceiling") / "c-2023.policy"
    path.write_text(CEILING_POLICY, encoding="utf-8")
    graph = lower_policy(load_policy(path).latest)
    scenario, = (s for s in scenarios(graph, "特困人员") if s.visit == "住院")
    return graph, scenario


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
        for scenario in scenarios(graph, identity):
            curve = trace_curve(lambda b: settle(graph, scenario, b, b))
            for point in curve.settlements:
                values, _ = visit(graph, scenario, point.burden, point.upstream,
                                  phases=tuple(Phase))
                assert values[TOTAL_PAID] == point.total, (identity, scenario.describe())


BENXI_FIELDS = {"in_province": True, "referred": False, "mental_disorder": False}


@pytest.mark.parametrize("in_province, referred, basic, tilted", [
    (True, False, 7800, 2520),    # in the province: paid
    (False, True, 7800, 2520),    # out of it but referred: paid as in it
    (False, False, 0, 0),         # out of it, not referred: not covered
])
def test_coverage_is_the_covers_nodes_value_on_the_claims_fields(in_province, referred, basic,
                                                                 tilted):
    """Benxi §(十三) `when in_province or referred`, read by the COVERS nodes from the claim's
    fields (compiler/conditions.py, as the evaluator reads them), not decided beforehand:
    a 低保边缘家庭成员's 住院 burden of 15,000 pays 7,800 and 2,520 when covered, nothing
    when not (tests/compiler/test_benxi_settlement.py settles the same claims)."""
    graph = lower_policy(load_policy(POLICIES / "benxi-2023.policy").latest)
    fields = dict(BENXI_FIELDS, in_province=in_province, referred=referred)
    kind = ClaimKind("低保边缘家庭成员", "住院", tuple(sorted(fields.items())), ())
    settlement = settle(graph, kind, Fraction(15000))
    assert (settlement.payout("基本救助"), settlement.payout("倾斜救助")) == (basic, tilted)
    covering = [line for line, _ in settlement.before_ceiling]
    assert covering == (["基本救助", "倾斜救助"] if basic else [])


def test_a_scenario_leaves_out_a_line_whose_value_is_unspecified():
    """Benxi §(五): the per-bed-day line covers a 低保对象's 住院 claim with a mental disorder
    (its COVERS node says so), but its amount is not given: the scenario names it unknown
    and the analyses leave it out."""
    graph = lower_policy(load_policy(POLICIES / "benxi-2023.policy").latest)
    [scenario] = [s for s in scenarios(graph, "低保对象")
                  if s.visit == "住院" and dict(s.fields)["mental_disorder"]
                  and dict(s.fields)["in_province"]]
    assert scenario.unknown == (("精神障碍床日定额救助", "定额标准"),)
    assert scenario.lines == ("基本救助", "倾斜救助")
    values, _ = visit(graph, scenario, Fraction(1000))
    assert values["精神障碍床日定额救助.covered"] is False


def test_lint_reads_a_value_amended_for_some_visits_as_the_engine_does(tmp_path):
    """Lhasa §四(四)一 raises 基本医保's rate by 5 points for 住院 and 门诊特殊病 claims only
    (the made-up base of tests/lhasa_base.py: 70%, no deductible, cap 2万).  A burden of
    10,000 pays 7,500 on a 住院 claim and 7,000 on a 普通门诊 one, in lint's model as in the
    engine (the model once read the base's 70% for every visit)."""
    path = lhasa_folder(tmp_path)
    graph = lower_policy(load_policy(path).latest)
    engine = load_engine(path)
    by_visit = {s.visit: s for s in scenarios(graph, "建档立卡贫困人口")}
    for visit_type, paid in (("住院", 7500), ("普通门诊", 7000)):
        model = settle(graph, by_visit[visit_type], Fraction(10000))
        [result] = settle_claims(engine, claim("c", "p", "2020-05-01", ["建档立卡贫困人口"],
                                               "10000.00", {}, visit=visit_type))
        assert model.payout("基本医保") == paid == result.payout("基本医保")


def test_a_per_unit_line_pays_its_base_within_its_cap(tmp_path):
    """A per-unit line (100 a bed day, cap 3,000) on a claim of unbounded bed days: the
    per-unit formula (compiler/arithmetic.py) gives the whole base, the cap bounds it:
    a burden of 2,000 pays 2,000, one of 5,000 pays 3,000."""
    path = tmp_path / "t-2023.policy"
    path.write_text(PER_DAY_POLICY, encoding="utf-8")
    graph = lower_policy(load_policy(path).latest)
    [scenario] = [s for s in scenarios(graph, "特困人员") if s.lines]
    assert settle(graph, scenario, Fraction(2000)).payout("床日定额救助") == 2000
    assert settle(graph, scenario, Fraction(5000)).payout("床日定额救助") == 3000
