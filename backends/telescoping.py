"""Year-to-date sums with fewer windows: a line's payouts telescope.

On the window path (one identity all year) a schedule line's payouts add up
to min(cap, round(G(C))) — docs/specification.md §6 — so the running total of its
payouts needs no window of its own.  A later line's base is what the claim
leaves after the earlier lines ("base remaining"): the claim's own remainder
minus their payouts, never negative (each line pays at most its base, since
every rate is at most 100%), so its running sum is the running sum of the
claim's remainder minus those telescoped totals — one window for every line
that covers the same claims.  An alert's annual burden (total cost minus what
the lines paid) decomposes the same way.

A value's *linear form* records that decomposition: the part read from the
claim alone, the payouts it subtracts (line → coefficient), and the coverage
outside which it is zero.  Where a form is missing (an explicit base, a ratio
ceiling that cuts a payout, a per-day quota) the ledger falls back to a plain
window, so the result is the same either way; only the number of sorts
changes.
"""

from __future__ import annotations

from typing import Callable

import attrs
from yibao.backends.sql import exp

from yibao.backends import sql

CLAIM_MONEY = ("in_scope_fen", "total_fen")


@attrs.frozen
class Linear:
    claim: exp.Expression                    # read from the claim alone
    lines: tuple[tuple[str, int], ...] = ()  # computed line → coefficient of its payout
    mask: str | None = None                  # the covered column it is zero outside of


def linear_of(scope, value) -> Linear | None:
    if isinstance(value, exp.Literal):
        return Linear(value)
    if isinstance(value, exp.Column):
        if value.name in scope.linear:
            return scope.linear[value.name]
        if value.name in CLAIM_MONEY or value.name.startswith("up_"):
            return Linear(value)
    return None


def _merge(forms: list[tuple[Linear, int]]) -> Linear:
    claim, lines = None, {}
    for form, sign in forms:
        for line, coefficient in form.lines:
            lines[line] = lines.get(line, 0) + sign * coefficient
        if _is_zero(form.claim):
            continue
        part = form.claim if sign > 0 else exp.Neg(this=exp.paren(form.claim))
        claim = part if claim is None else exp.Add(this=claim, expression=part)
    return Linear(claim if claim is not None else sql.num(0),
                  tuple((line, c) for line, c in lines.items() if c))


def _is_zero(expression: exp.Expression) -> bool:
    if isinstance(expression, exp.Literal):
        return expression.this == "0"
    if isinstance(expression, exp.Add):
        return _is_zero(expression.this) and _is_zero(expression.expression)
    return False


def difference(scope, minuend, subtrahends, mask: exp.Expression | None) -> Linear | None:
    """minuend − subtrahends, when every term has a form (the caller vouches it is ≥ 0)."""
    forms = [linear_of(scope, minuend)] + [linear_of(scope, s) for s in subtrahends]
    if any(f is None or f.mask is not None for f in forms):
        return None
    if mask is not None and not isinstance(mask, exp.Column):
        return None
    merged = _merge([(forms[0], 1)] + [(f, -1) for f in forms[1:]])
    return attrs.evolve(merged, mask=mask.name if mask is not None else None)


def total(scope, terms) -> Linear | None:
    forms = [linear_of(scope, term) for term in terms]
    if any(f is None or f.mask is not None for f in forms):
        return None
    return _merge([(f, 1) for f in forms])


def running_total(scope, form: Linear, within: exp.Expression,
                  line_ok: Callable[[str], bool],
                  define: Callable[[exp.Expression], exp.Expression]) -> exp.Expression | None:
    """The running sum, over the person-year, of ``form`` where ``within`` holds (0 elsewhere),
    or None when some payout in it does not telescope there."""
    for line, _ in form.lines:
        if line not in scope.cumulative or not line_ok(line):
            return None
    # its own column, so that lines covering the same claims share one window
    result = define(sql.running_sum(sql.when(within, form.claim, sql.num(0))))
    for line, coefficient in form.lines:
        paid = scope.cumulative[line][1]
        term = paid if coefficient == 1 else exp.Mul(this=sql.num(coefficient), expression=paid)
        result = exp.Add(this=result, expression=exp.paren(term))
    return result
