"""Without a trace, a line that does not cover a claim is settled in one step
(ScalarEvaluator._gated); every node must still get the value the plain plan,
which the trace walks node by node, gives it.

For every shipped policy that compiles, synthetic claims (several per person and
year, identity changes, uncovered visits) are settled one by one; at each claim
both plans run over the same claim values and ledger, and their node values
are compared whole — not only the payouts a result shows.
"""

from __future__ import annotations

from collections import Counter

import pytest

from helpers import POLICIES, compiled_policies
from yibao.api import load_engine
from yibao.backends.synthetic import synthetic_claims
from yibao.runtime.claims import ClaimError
from yibao.runtime.context import EvaluationContext
from yibao.compiler.graph import Op, Phase
from yibao.runtime.ledger import Ledger

CLAIMS = 1_500


def _phase_values(evaluator, claim, ledger, candidate, traced: bool) -> dict:
    """The candidate phase's node values as text (repr: Decimal("0") and Decimal("0.00")
    are equal numbers but are written differently), or the error it raised."""
    person_year = ledger.person_year(claim.person_id, claim.date.year)
    context = EvaluationContext(claim, person_year)
    try:
        evaluator._run(Phase.CLAIM, context, [] if traced else None)
        candidate_context = EvaluationContext(claim, person_year, candidate, dict(context.values))
        evaluator._run(Phase.CANDIDATE, candidate_context, [] if traced else None)
    except ClaimError as error:   # a value the notice leaves unspecified (C311)
        return {"error": (error.code, error.field, error.message)}
    return {node_id: repr(value) for node_id, value in candidate_context.values.items()}


def _compare_plans(name: str) -> Counter:
    """Both plans on each claim and candidate; counts how the lines' gates went."""
    engine = load_engine(POLICIES / f"{name}.policy")
    ledger = Ledger()
    gates: Counter = Counter()
    for record in synthetic_claims(engine.loaded, CLAIMS, seed=11):
        try:
            claim = engine.validate(record)
        except ClaimError:
            continue
        evaluator = engine.evaluators[engine.version_for(claim.date).policy_id]
        for candidate in evaluator.candidates(claim):
            plain = _phase_values(evaluator, claim, ledger, candidate, traced=True)
            gated = _phase_values(evaluator, claim, ledger, candidate, traced=False)
            assert gated == plain, (claim.claim_id, candidate)
            gates["refused" if "error" in plain else "compared"] += 1
            gates.update(value for key, value in plain.items() if key.endswith(".covered"))
        try:   # advance the ledger, as a batch would
            engine.evaluate_claim(claim, ledger)
        except ClaimError:
            pass
    return gates


@pytest.mark.parametrize("name", compiled_policies())
def test_the_gated_plan_gives_every_node_the_plain_plans_value(name):
    assert _compare_plans(name)["compared"] > CLAIMS // 2


def test_benxi_claims_go_through_both_sides_of_the_gates():
    gates = _compare_plans("benxi-2023")
    assert gates["True"] > 100 and gates["False"] > 100


def test_benxi_lines_are_gated():
    """Each Benxi line's nodes run inside its COVERS gate, not one by one."""
    engine = load_engine(POLICIES / "benxi-2023.policy")
    evaluator = engine.evaluators["benxi-2023"]
    gated = [node.op for _, _, node in evaluator._candidate_gated]
    plain = [node.op for _, _, node in evaluator._plans[Phase.CANDIDATE]]
    assert gated == [Op.IDENTITY, Op.COVERS, Op.COVERS, Op.COVERS, Op.SUM]
    assert len(plain) == 24
