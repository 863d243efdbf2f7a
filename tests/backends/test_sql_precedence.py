"""Every SQL statement the plan builds means what its tree means.

sqlglot renders an expression tree as it stands and adds no parentheses, so a
tree for a − (b + c) comes out as ``a - b + c``, which the engine reads as
(a − b) + c.  That once loosened the upstream bounds check (C308): see
test_admission.py::test_a_bound_less_several_earlier_lines_is_checked_in_sql.
This walks every statement of every policy's plan and names each place where a
sum or difference sits, unparenthesised, where precedence would regroup it:
right of a minus, beside a product or quotient, under a negation.
"""

from __future__ import annotations

import pytest
from sqlglot import exp

from helpers import POLICIES, compiled_policies
from yibao.api import load_engine
from yibao.backends.plan import SettlementPlan

SUMS = (exp.Add, exp.Sub)


def regrouped(tree: exp.Expression) -> list[str]:
    found = []
    for node in tree.walk():
        if isinstance(node, exp.Sub) and isinstance(node.expression, SUMS):
            found.append(node.sql("duckdb"))
        elif isinstance(node, (exp.Mul, exp.Div, exp.IntDiv, exp.Mod)) and (
                isinstance(node.this, SUMS) or isinstance(node.expression, SUMS)):
            found.append(node.sql("duckdb"))
        elif isinstance(node, exp.Neg) and isinstance(node.this, SUMS):
            found.append(node.sql("duckdb"))
    return found


def test_the_check_finds_a_missing_parenthesis():
    a, b, c = exp.column("a"), exp.column("b"), exp.column("c")
    assert regrouped(exp.Sub(this=a, expression=exp.Add(this=b, expression=c))) == ["a - b + c"]
    assert regrouped(exp.Sub(this=a, expression=exp.paren(exp.Add(this=b, expression=c)))) == []


@pytest.mark.parametrize("name", compiled_policies())
def test_no_statement_of_the_plan_regroups_a_sum(name):
    plan = SettlementPlan(load_engine(POLICIES / f"{name}.policy").loaded)
    statements = {
        "claims": plan.claims("raw_claims", "duckdb"),
        "slow person-years": plan.slow_person_years("settleable"),
        "window": plan.window_settled("fast_claims"),
        "walk": plan.walk_settled("walk_claims"),
        "results": plan.results("settled", "claims"),
    }
    for stage, tree in statements.items():
        assert regrouped(tree) == [], f"{name}, {stage}"
