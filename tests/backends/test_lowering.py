"""The columnar lowering is a visitor over the closed Op set (STYLE.md, practice 3)."""

from __future__ import annotations

import pytest

from helpers import POLICIES
from yibao.backends.columns import ClaimColumns, ExactRate
from yibao.backends.ledgers import CarriedLedger, WindowLedger
from yibao.backends.lowering import ColumnarLowering
from yibao.backends.plan import SettlementPlan
from yibao.compiler.graph import Op
from yibao.compiler.lower import lower_policy
from yibao.dsl.loader import load_policy
from yibao.dsl.model import BandSchedule, BandSlice

from decimal import Decimal


def test_every_op_has_a_vectorized_implementation(benxi_engine):
    """Adding an Op to compiler/graph.py without lowering it to SQL fails here."""
    policy = benxi_engine.policy
    columns = ClaimColumns.of(benxi_engine.versions)
    for ledger in (WindowLedger(), CarriedLedger(columns)):
        lowering = ColumnarLowering(lower_policy(policy), 0, columns, ledger)
        assert lowering.ops == frozenset(Op)


@pytest.mark.parametrize("name", ["benxi-2023", "jiamusi-2022", "xinjiang-2023", "jilin-2020"])
def test_every_statement_renders_for_both_engines(name):
    """One lowering, two dialects: every stage of a policy's plan renders for DuckDB and Spark."""
    plan = SettlementPlan(load_policy(POLICIES / f"{name}.policy"))
    for dialect in ("duckdb", "spark"):
        for statement in (plan.claims("raw_claims", dialect), plan.window_settled("fast_claims"),
                          plan.walk_settled("walk_claims"), plan.results("settled", "claims")):
            assert "SELECT" in statement.sql(dialect)


def test_rates_become_exact_integer_ratios():
    """Jiamusi 2022 §二.1 bands (65% / 70% / 75% above the deductible) in fen, over 20."""
    bands = BandSchedule((BandSlice(Decimal(0), Decimal(20000), Decimal("0.65")),
                          BandSlice(Decimal(20000), Decimal(50000), Decimal("0.70")),
                          BandSlice(Decimal(50000), None, Decimal("0.75"))))
    assert ExactRate.of(bands) == ExactRate(20, ((0, 2_000_000, 13), (2_000_000, 5_000_000, 14),
                                                 (5_000_000, None, 15)))
    assert ExactRate.of(Decimal("0.6")) == ExactRate(5, ((0, None, 3),))


def test_lines_covering_the_same_claims_share_one_running_sum(benxi_engine):
    """Benxi's 基本救助 and 倾斜救助 cover the same claims (§(四), §(十三)); their payouts
    telescope (docs/specification.md §6), so one person-year window of the claims' remainders
    serves both lines, and one of their burdens serves both alerts (§(八))."""
    columns = ClaimColumns.of(benxi_engine.versions)
    lowering = ColumnarLowering(lower_policy(benxi_engine.policy), 0, columns, WindowLedger())
    scope = lowering.lower_settlement("低保对象", "c_")
    windows = [d for d in scope.definitions if " OVER " in d.expression.sql("duckdb")]
    sums = [d for d in windows if d.expression.sql("duckdb").startswith("SUM(")]
    assert len(sums) == 2            # the lines' remainder, the alerts' burden
    # and nothing else: an alert fires when the running burden reaches the person-year's
    # one threshold (routing sends a changing threshold to the walk)
    assert len(windows) == 2


def test_the_sql_lowering_reads_conditions_in_graph_form_not_the_dsls_tree():
    """Issue 23: a node carries its condition as plain data (compiler/conditions.py
    condition_tree), so the SQL lowering and preparation import nothing of dsl.ast."""
    import ast as python_ast

    from helpers import ROOT

    for module in ("lowering", "prepare"):
        tree = python_ast.parse((ROOT / "backends" / f"{module}.py").read_text(encoding="utf-8"))
        imported = {node.module for node in python_ast.walk(tree)
                    if isinstance(node, python_ast.ImportFrom)}
        names = {(node.module, alias.name) for node in python_ast.walk(tree)
                 if isinstance(node, python_ast.ImportFrom) for alias in node.names}
        assert "yibao.dsl.ast" not in imported and ("yibao.dsl", "ast") not in names, module
    graph = lower_policy(load_policy(ROOT / "policies" / "benxi-2023.policy").latest)
    conditions = {node.payload.condition for node in graph.order if node.op is Op.COVERS}
    assert ("any", ("field", "in_province"), ("field", "referred")) in conditions
