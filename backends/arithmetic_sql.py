"""The arithmetic of compiler/arithmetic.py as SQL expressions, in integer fen.

Money is integer fen and a rate the integer numerator of an exact ratio over one
denominator for all the rate's bands (backends/columns.py ExactRate): a formula
multiplies by numerators and :meth:`round` divides by the denominator, half up.
The SQL is the lowering's own: a difference is parenthesised where another
operation reads it, as the lowering has always written G.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Sequence

from yibao.backends.sql import exp

from yibao.backends import sql
from yibao.backends.columns import fen


class SqlArithmetic:
    """One rate's G in SQL: its rates scaled to integer numerators over ``denominator``."""

    def __init__(self, denominator: int):
        self.denominator = denominator

    def const(self, amount: Decimal) -> exp.Expression:
        return sql.num(fen(amount))

    def sub(self, a: exp.Expression, b: exp.Expression) -> exp.Expression:
        return exp.Sub(this=_operand(a), expression=b)

    def add(self, terms: Sequence[exp.Expression]) -> exp.Expression:
        return sql.add(terms)

    def clamp(self, a: exp.Expression) -> exp.Expression:
        return sql.positive(a)

    def least(self, a: exp.Expression, b: exp.Expression) -> exp.Expression:
        return sql.least(_operand(a), b)

    def times_rate(self, a: exp.Expression, rate: Decimal) -> exp.Expression:
        numerator = Fraction(rate) * self.denominator
        assert numerator.denominator == 1, "the denominator is common to the rate's bands"
        return exp.Mul(this=a, expression=sql.num(numerator.numerator))

    def times_count(self, amount: Decimal, count: exp.Expression) -> exp.Expression:
        return exp.Mul(this=sql.num(fen(amount)), expression=count)   # fen × units: no rate

    def round(self, a: exp.Expression) -> exp.Expression:
        return exp.paren(sql.round_half_up(a, self.denominator))

    def floor(self, a: exp.Expression) -> exp.Expression:
        return sql.int_div(a, self.denominator)


# Money in fen and no rate (a per-unit payout, the cap's room): no denominator.
FEN = SqlArithmetic(1)


def _operand(expression: exp.Expression) -> exp.Expression:
    return exp.paren(expression) if isinstance(expression, exp.Sub) else expression
