"""Small builders for the SQL the lowering emits (sqlglot expressions).

Money is integer fen (BIGINT) throughout, so every operation here is exact
integer arithmetic; division appears only as the half-up rounding of a
non-negative rational and the floor of the ratio ceiling, both of which are
integer divisions of non-negative numbers (the same in every dialect).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Sequence

if TYPE_CHECKING:
    from sqlglot import exp
    from sqlglot.expressions import Expression as Expr


class _Expressions:
    """sqlglot's ``exp`` module, imported when an expression is first built.

    The backends' modules build SQL only to render a plan, and a run whose plan
    comes from the cache (backends/plan_cache.py) renders none: importing sqlglot
    there cost 0.1–0.2 s of every ``eval`` (issue 28 §3, fixed costs).  The modules
    that build SQL take ``exp`` from here rather than from sqlglot."""

    def __getattr__(self, name: str) -> Any:
        from sqlglot import exp as module

        return getattr(module, name)


exp = _Expressions()  # noqa: F811 - the lazy stand-in, typed as sqlglot's module above
# Windows partition by ``py``, an integer key of (person, calendar year), and order
# by ``ord`` = days since 1970 × 2^40 + input position: docs/specification.md §6's date
# order, ties in input order (backends/plan.py makes both; integers sort fast).
PERSON_YEAR = ("py",)
CLAIM_ORDER = ("ord",)
ORDER_SHIFT = 1 << 40


def col(name: str) -> exp.Column:
    return exp.column(name)


def num(value: int) -> Expr:
    literal = exp.Literal.number(abs(value))
    return exp.Neg(this=literal) if value < 0 else literal


def text(value: str) -> Expr:
    return exp.Literal.string(value)


def boolean(value: bool) -> Expr:
    return exp.true() if value else exp.false()


def data_type(kind: str) -> exp.DataType:
    return exp.DataType(this=exp.DataType.Type[kind])


def bigint(expression: Expr) -> Expr:
    return exp.Cast(this=expression, to=data_type("BIGINT"))


def typed_null(kind: str) -> Expr:
    return exp.Cast(this=exp.null(), to=data_type(kind))


def least(*items: Expr) -> Expr:
    first, *rest = items
    return first if not rest else exp.Least(this=first, expressions=list(rest), ignore_nulls=True)


def greatest(*items: Expr) -> Expr:
    first, *rest = items
    return first if not rest else exp.Greatest(this=first, expressions=list(rest),
                                                     ignore_nulls=True)


def positive(expression: Expr) -> Expr:
    """max(0, x): bases, burdens and payouts are never negative."""
    return greatest(expression, num(0))


def int_div(numerator: Expr, denominator: int) -> Expr:
    return exp.IntDiv(this=exp.paren(numerator, copy=False), expression=num(denominator))


def round_half_up(numerator: Expr, denominator: int) -> Expr:
    """round(n / d) half up, for n ≥ 0 (core/money.round_fen on fen)."""
    if denominator == 1:
        return numerator
    return int_div(exp.paren(numerator, copy=False) * num(2) + num(denominator), 2 * denominator)


def case(branches: Iterable[tuple[Expr, Expr]], default: Expr | None = None) -> Expr:
    branches = list(branches)
    if not branches:
        return default if default is not None else exp.null()
    return exp.Case(ifs=[exp.If(this=condition, true=value) for condition, value in branches],
                    default=default)


def when(condition: Expr, value: Expr, otherwise: Expr) -> Expr:
    if isinstance(condition, exp.Boolean):
        return value if condition.this else otherwise
    if value == otherwise:
        return value
    return case([(condition, value)], otherwise)


def all_of(items: Sequence[Expr]) -> Expr:
    items = [i for i in items if not (isinstance(i, exp.Boolean) and i.this)]
    if any(isinstance(i, exp.Boolean) and not i.this for i in items):
        return exp.false()
    if not items:
        return exp.true()
    return exp.and_(*items, copy=False) if len(items) > 1 else items[0]


def any_of(items: Sequence[Expr]) -> Expr:
    items = [i for i in items if not (isinstance(i, exp.Boolean) and not i.this)]
    if any(isinstance(i, exp.Boolean) and i.this for i in items):
        return exp.true()
    if not items:
        return exp.false()
    return exp.or_(*items, copy=False) if len(items) > 1 else items[0]


def negate(item: Expr) -> Expr:
    if isinstance(item, exp.Boolean):
        return exp.false() if item.this else exp.true()
    return exp.not_(item, copy=False)


def one_of(column: Expr, values: Sequence[str]) -> Expr:
    if not values:
        return exp.false()
    return exp.In(this=column, expressions=[text(v) for v in values])


def add(items: Sequence[Expr]) -> Expr:
    items = list(items)
    if not items:
        return num(0)
    total = items[0]
    for item in items[1:]:
        total = exp.Add(this=total, expression=item)
    return total


def running(aggregate: Expr, through_current: bool = True) -> Expr:
    """aggregate OVER the person-year's claims in settlement order, up to this one."""
    end = "CURRENT ROW" if through_current else "1"
    end_side = None if through_current else "PRECEDING"
    spec = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING",
                          end=end, end_side=end_side)
    order = exp.Order(expressions=[exp.Ordered(this=col(c), nulls_first=False)
                                   for c in CLAIM_ORDER])
    return exp.Window(this=aggregate, partition_by=[col(c) for c in PERSON_YEAR],
                      order=order, spec=spec, over="OVER")


def over_person_year(aggregate: Expr) -> Expr:
    return exp.Window(this=aggregate, partition_by=[col(c) for c in PERSON_YEAR], over="OVER")


def running_sum(column: Expr) -> Expr:
    return running(exp.Sum(this=column))
