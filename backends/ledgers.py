"""Year-to-date state for the columnar lowering, two ways (DOMAIN.md §3.2).

A line's claim pays round(G(C_after)) − round(G(C_before)), limited to what is
left of the annual cap after what the line already paid this year.

:class:`WindowLedger` — the person keeps one identity (and policy version) all
year.  Then C is a running sum of the bases, and by induction over the claims
the line's cumulative payout after a claim is min(cap, S) where S is the
running sum of the uncapped slices (each slice ≥ 0): if the cap was already
reached the room is 0, otherwise the claim pays min(slice, cap − S_before).
So each claim pays min(cap, S_after) − min(cap, S_before): two window sums, no
recursion, and a person's claims may sit in any number of partitions.

:class:`CarriedLedger` — anything else (take highest between several
identities, an identity or version that changes during the year, a ratio
ceiling that cuts a capped line): the previous claim's cumulative base and
payout arrive as columns ``prev_c_<i>``/``prev_p_<i>`` of a per-person walk
(backends/walk.py), and the claim is settled exactly as the scalar evaluator
settles it.
"""

from __future__ import annotations

from sqlglot import exp

from yibao.backends import sql


class WindowLedger:
    def year_to_date(self, lowering, node, scope, line: str, base: exp.Expression):
        after = scope.define(node, "after", sql.running_sum(base))
        before = scope.define(node, "before", exp.Sub(this=after, expression=base))
        return before, after

    def cap(self, lowering, node, scope, line: str, slice_: exp.Expression, cap: int | None,
            covered: exp.Expression) -> exp.Expression:
        if cap is None:
            return scope.define(node, "paid", sql.when(covered, slice_, sql.num(0)))
        limit = sql.num(cap)
        annual = scope.annual.get(line)
        if annual is not None:
            # The slices telescope: their running sum is round(G(C_after)), G(0) = 0.
            before, after = annual
            paid = exp.Sub(this=sql.least(limit, after), expression=sql.least(limit, before))
            return scope.define(node, "paid", sql.when(covered, paid, sql.num(0)))
        slices = scope.define(node, "slices", sql.running_sum(slice_))
        paid = exp.Sub(this=sql.least(limit, slices),
                       expression=sql.least(limit, exp.Sub(this=slices, expression=slice_)))
        return scope.define(node, "paid", sql.when(covered, paid, sql.num(0)))


class CarriedLedger:
    def __init__(self, columns):
        self.columns = columns

    def year_to_date(self, lowering, node, scope, line: str, base: exp.Expression):
        before = sql.col(f"prev_c_{self.columns.line_index(line)}")
        after = scope.define(node, "after", exp.Add(this=before, expression=base))
        return before, after

    def cap(self, lowering, node, scope, line: str, slice_: exp.Expression, cap: int | None,
            covered: exp.Expression) -> exp.Expression:
        if cap is None:
            return scope.define(node, "paid", sql.when(covered, slice_, sql.num(0)))
        paid_before = sql.col(f"prev_p_{self.columns.line_index(line)}")
        room = exp.Sub(this=sql.num(cap), expression=paid_before)
        return scope.define(node, "paid", sql.when(
            covered, sql.positive(sql.least(slice_, room)), sql.num(0)))
