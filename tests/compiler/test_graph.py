"""The evaluation graph: a closed set of pure ops, every one implemented by every visitor."""

import pickle

import networkx as nx
import pytest

from helpers import POLICIES
from yibao.runtime.tracing import FACTS
from yibao.compiler.graph import Node, Op, Phase, build_graph
from yibao.runtime.evaluate import ScalarEvaluator
from yibao.compiler.lower import lower_policy
from yibao.dsl.loader import load_policy


def benxi_graph():
    return lower_policy(load_policy(POLICIES / "benxi-2023.policy").latest)


def test_every_op_has_a_scalar_implementation_and_trace_facts():
    evaluator = ScalarEvaluator(benxi_graph())
    assert set(evaluator.ops) == set(Op)
    assert set(FACTS) == set(Op)


def test_graph_is_a_dag_whose_order_follows_settlement():
    graph = benxi_graph()
    assert nx.is_directed_acyclic_graph(graph.graph)
    ids = [node.id for node in graph.order]
    # 先保险后救助: upstream payouts, then 基本救助 before 倾斜救助, then take highest.
    assert ids.index("基本医保.payout") < ids.index("基本救助.base") < ids.index("倾斜救助.base")
    assert ids.index("倾斜救助.payout") < ids.index("take_highest") < ids.index("total_paid")
    # 倾斜救助's base reads 基本救助's payout: what the earlier lines left.
    assert graph.graph.has_edge("基本救助.payout", "倾斜救助.base")


def test_each_computed_line_is_the_same_chain_of_ops():
    graph = benxi_graph()
    line = {node.id: node.op for node in graph.order if node.line == "基本救助"}
    assert line == {
        "基本救助.covered": Op.COVERS, "基本救助.base": Op.DIFFERENCE,
        "基本救助.deductible": Op.LOOKUP, "基本救助.rate": Op.LOOKUP, "基本救助.cap": Op.LOOKUP,
        "基本救助.ytd": Op.YEAR_TO_DATE, "基本救助.slice": Op.SCHEDULE, "基本救助.payout": Op.CAP,
    }


def test_value_nodes_carry_citation_and_span():
    graph = benxi_graph()
    for node in graph.order:
        if node.op in (Op.LOOKUP, Op.COVERS, Op.UPSTREAM, Op.ALERT):
            assert node.citation is not None, node.id
            assert node.span.line > 0, node.id
    rate = graph.node("基本救助.rate")
    assert rate.citation.clause == "(五)" and "救助比例为70%" in rate.citation.quote


def test_phases_split_claim_candidate_and_result():
    graph = benxi_graph()
    assert {n.id for n in graph.phase(Phase.CLAIM)} >= {"claim.in_scope_cost", "基本医保.payout"}
    assert "candidate.identity" in {n.id for n in graph.phase(Phase.CANDIDATE)}
    assert {n.id for n in graph.phase(Phase.RESULT)} >= {"take_highest", "因病返贫风险.alert"}


def test_a_table_of_op_handlers_is_complete_or_refused():
    import pytest
    from yibao.compiler.graph import Op, handlers_by_op
    handlers = {f"_{op.value}": op.value for op in Op}
    assert handlers_by_op(handlers) == {op: op.value for op in Op}
    del handlers["_year_to_date"]
    with pytest.raises(LookupError, match="no handler _year_to_date"):
        handlers_by_op({**handlers, "__name__": "yibao.explain.trace_xx"})


def test_every_input_has_a_role_of_the_closed_set():
    """Roles are an enum (issue 23): every edge of every shipped graph has one, and a node
    given a role outside it is refused when built, not when some visitor misses it."""
    import pytest

    from yibao.compiler.graph import Node, Role

    for path in sorted(POLICIES.glob("*.policy")):
        for policy in load_policy(path).versions:
            roles = {role for node in lower_policy(policy).order for role, _ in node.inputs}
            assert all(type(role) is Role for role in roles), path.stem
    assert Node("n", Op.SUM, Phase.RESULT, inputs=(("payout", "a.payout"),)).inputs == (
        (Role.PAYOUT, "a.payout"),)
    with pytest.raises(ValueError, match="'payouts' is not a valid Role"):
        Node("n", Op.SUM, Phase.RESULT, inputs=(("payouts", "a.payout"),))


def _node(node_id: str, *sources: str):
    return Node(node_id, Op.SUM, Phase.RESULT, tuple(("total", s) for s in sources))


def test_build_order_is_topological_with_ties_in_emitted_order():
    policy = load_policy(POLICIES / "benxi-2023.policy").latest
    # d reads c, which is emitted after it: c moves up; a and b keep their order.
    graph = build_graph(policy, [_node("a"), _node("d", "c", "a"), _node("b"), _node("c", "b")])
    assert [node.id for node in graph.order] == ["a", "b", "c", "d"]
    assert graph.node("d").inputs[0][1] == "c" and "c" in graph
    assert graph.graph.has_edge("c", "d")         # the networkx view, built when asked for


def test_build_refuses_a_cycle_and_an_unknown_input():
    policy = load_policy(POLICIES / "benxi-2023.policy").latest
    with pytest.raises(ValueError, match="cycle"):
        build_graph(policy, [_node("a", "b"), _node("b", "a")])
    with pytest.raises(ValueError, match="a reads z"):
        build_graph(policy, [_node("a", "z")])


def test_the_graph_pickles_without_its_networkx_view():
    graph = benxi_graph()
    assert graph.graph.number_of_nodes() == len(graph.order)
    copy = pickle.loads(pickle.dumps(graph))
    assert copy.order == graph.order and copy.node("total_paid") == graph.node("total_paid")
    assert copy._networkx is None


@pytest.mark.parametrize("path", sorted(POLICIES.glob("*.policy")), ids=lambda p: p.stem)
def test_every_shipped_graph_is_in_an_order_networkx_agrees_with(path):
    """Each node after its inputs; and, keyed by that order, networkx's lexicographic
    topological sort (what the order was built with before) gives it back unchanged."""
    for policy in load_policy(path).versions:
        graph = lower_policy(policy)
        placed = {node.id: index for index, node in enumerate(graph.order)}
        assert all(placed[source] < placed[node.id]
                   for node in graph.order for _, source in node.inputs)
        again = nx.lexicographical_topological_sort(graph.graph, key=placed.__getitem__)
        assert list(again) == [node.id for node in graph.order]
