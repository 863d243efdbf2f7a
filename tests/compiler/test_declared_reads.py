"""Every value a node's evaluation reads goes through its declared inputs (issue 23).

The graph is the evaluated graph only if no evaluator reads a figure by naming
convention.  Each evaluator is run here with a value map that refuses any read
of a node id outside the node's inputs: the scalar evaluator without and with a
trace (the trace's facts read the same map), lint's exact model, and the SQL
lowering (each op lowered with the scope's values refusing undeclared nodes).
Over every shipped policy: its example claims, and synthetic ones (several a
person and year, identities changing, caps crossed).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

import pytest

from helpers import EXAMPLES, POLICIES, compiled_policies
from yibao.api import load_engine
from yibao.backends import lowering as lowering_module
from yibao.backends.plan import SettlementPlan
from yibao.backends.synthetic import synthetic_claims
from yibao.compiler.graph import Node, Op, Phase
from yibao.compiler.lower import lower_policy
from yibao.dsl.loader import load_policy
from yibao.runtime import evaluate as evaluate_module
from yibao.runtime import tracing as tracing_module
from yibao.runtime.claims import ClaimError
from yibao.runtime.ledger import Ledger

SYNTHETIC = 400


class UndeclaredRead(AssertionError):
    """Not a KeyError: ``Mapping.get`` and ``in`` would take a KeyError for 'absent'."""


class DeclaredOnly(Mapping):
    """``values`` as one node may read them: its declared inputs, nothing else."""

    def __init__(self, node: Node, values: Mapping[str, Any]):
        self._node, self._values = node, values
        self._declared = frozenset(source for _, source in node.inputs)

    def __getitem__(self, node_id: str) -> Any:
        if node_id not in self._declared:
            raise UndeclaredRead(f"{self._node.id} ({self._node.op.value}) reads {node_id}, "
                                 f"which is not among its inputs {sorted(self._declared)}")
        return self._values[node_id]

    def __iter__(self):
        return iter(self._declared)

    def __len__(self) -> int:
        return len(self._declared)


class _GuardedContext:
    """The evaluation context with its values seen through :class:`DeclaredOnly`."""

    def __init__(self, context, node: Node):
        self._context, self.values = context, DeclaredOnly(node, context.values)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def _guard_compiler(compile_op, node: Node):
    compiled = compile_op(node)
    return lambda context: compiled(_GuardedContext(context, node))


class GuardedEvaluator(evaluate_module.ScalarEvaluator):
    def __init__(self, graph):
        for op in Op:   # each op's closure sees only its node's inputs
            name = f"_{op.value}"
            setattr(self, name, functools.partial(_guard_compiler, getattr(self, name)))
        super().__init__(graph)


@pytest.fixture
def guarded_steps(monkeypatch):
    """The trace's facts read through the same refusing map."""
    # (runtime/evaluate.py reads it from runtime/tracing.py when a trace is first asked for)
    original = tracing_module.step_writer

    def step_writer(node, evaluator):
        step = original(node, evaluator)
        return lambda context, value: step(_GuardedContext(context, node), value)
    monkeypatch.setattr(tracing_module, "step_writer", step_writer)


def _records(name: str, engine) -> list[dict]:
    examples = EXAMPLES / f"{name}.jsonl"
    records = ([json.loads(line) for line in examples.read_text(encoding="utf-8").splitlines()
                if line.strip()] if examples.exists() else [])
    return records + [json.loads(json.dumps(claim, default=str))
                      for claim in synthetic_claims(engine.loaded, SYNTHETIC, seed=2023)]


def _settle_all(name: str, trace: bool) -> int:
    engine = load_engine(POLICIES / f"{name}.policy")
    evaluators = {p.policy_id: GuardedEvaluator(lower_policy(p)) for p in engine.versions}
    ledger, settled = Ledger(), 0
    for record in _records(name, engine):
        try:
            claim = engine.validate(record)
            evaluator = evaluators[engine.version_for(claim.date, claim.claim_id).policy_id]
            evaluator.evaluate(claim, ledger, trace)
        except ClaimError:   # a claim refused (C3xx) is not a read of the graph
            continue
        settled += 1
    return settled


@pytest.mark.parametrize("name", compiled_policies())
def test_the_scalar_evaluator_reads_only_declared_inputs(name):
    assert _settle_all(name, trace=False) > SYNTHETIC // 2


@pytest.mark.parametrize("name", compiled_policies())
def test_the_traced_evaluator_and_its_facts_read_only_declared_inputs(name, guarded_steps):
    assert _settle_all(name, trace=True) > SYNTHETIC // 2


@pytest.mark.parametrize("name", sorted(p.stem for p in POLICIES.glob("*.policy")))
def test_the_sql_lowering_reads_only_declared_inputs(name, monkeypatch):
    """Every statement of the plan is built with each op seeing only its inputs' columns."""
    original = lowering_module.ColumnarLowering.__init__
    lowered: list[Op] = []

    def guard(op_function):
        def lower(node: Node, scope):
            values = scope.values
            scope.values = DeclaredOnly(node, values)
            try:
                return op_function(node, scope)
            finally:
                scope.values = values
                lowered.append(node.op)
        return lower

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self._ops = {op: guard(function) for op, function in self._ops.items()}
    monkeypatch.setattr(lowering_module.ColumnarLowering, "__init__", init)
    plan = SettlementPlan(load_policy(POLICIES / f"{name}.policy"))
    for dialect in ("duckdb", "spark"):
        plan.claims("raw", dialect).sql(dialect=dialect)
        plan.window_settled("fast").sql(dialect=dialect)
        plan.walk_settled("walk").sql(dialect=dialect)
    assert set(lowered) == {node.op for lowering in plan.window for node in lowering.graph.order}


def test_a_read_outside_the_inputs_is_refused():
    node = Node("total", Op.SUM, Phase.CANDIDATE, inputs=(("payout", "a.payout"),))
    values = DeclaredOnly(node, {"a.payout": 1, "b.payout": 2})
    assert values["a.payout"] == 1
    with pytest.raises(UndeclaredRead, match="total .sum. reads b.payout"):
        values.get("b.payout")
