"""The per-unit payout (床日定额, docs/specification.md §5.4) is one formula,
compiler/arithmetic.py's ``per_unit_payout``, instantiated for each backend: Decimals
for the scalar evaluator, Fractions for lint, integer-fen SQL for DuckDB and Spark.

The figures are the one-line policy of tests/explain/test_field_labels.py (Benxi
§(五)'s shape with an amount of 100 a bed day): 10 days pay 1,000 within a base of
2,000; 30 days would be 3,000, so the base, 2,000, is paid; no days pay nothing.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import duckdb
import pytest
from sqlglot import exp

from yibao.backends import sql
from yibao.backends.arithmetic_sql import FEN
from yibao.compiler.arithmetic import DECIMAL, per_unit_payout
from yibao.lint.exact import FractionArithmetic

AMOUNT = Decimal("100.00")
CASES = [(10, "2000.00", "1000.00"), (30, "2000.00", "2000.00"), (0, "2000.00", "0.00"),
         (25, "2500.00", "2500.00")]


@pytest.mark.parametrize("units, base, paid", CASES)
def test_the_scalar_evaluators_numbers(units, base, paid):
    assert per_unit_payout(DECIMAL, AMOUNT, units, Decimal(base)) == Decimal(paid)


@pytest.mark.parametrize("units, base, paid", CASES)
def test_lints_exact_numbers_record_the_bound_as_a_kink(units, base, paid):
    switches: list[Fraction] = []
    value = per_unit_payout(FractionArithmetic(switches), AMOUNT, Fraction(units),
                            Fraction(Decimal(base)))
    assert value == Fraction(Decimal(paid))
    # The one choice, amount × units against the base, is lint's switch (lint/exact.py).
    assert switches == [100 * units - Fraction(Decimal(base))]


@pytest.mark.parametrize("units, base, paid", CASES)
def test_the_sql_in_fen_run_by_duckdb(units, base, paid):
    expression = per_unit_payout(FEN, AMOUNT, sql.num(units),
                                 sql.num(int(Decimal(base) * 100)))
    assert isinstance(expression, exp.Expression)
    [(fen,)] = duckdb.sql(f"SELECT {expression.sql('duckdb')}").fetchall()
    assert fen == int(Decimal(paid) * 100)
