"""Year-to-date state for the columnar lowering, two ways (docs/specification.md §6).

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

from yibao.backends import sql, telescoping
from yibao.backends.arithmetic_sql import FEN
from yibao.compiler.arithmetic import capped


class WindowLedger:
    def year_to_date(self, node, scope, line: str, base: exp.Expression):
        if isinstance(base, exp.Literal):   # a line that never covers this candidate
            return base, base
        after = scope.define(node, "after", self._telescoped(node, scope, base)
                             or sql.running_sum(base))
        before = scope.define(node, "before", exp.Sub(this=after, expression=base))
        return before, after

    def cap(self, node, scope, line: str, slice_: exp.Expression, cap: int | None,
            covered: exp.Expression) -> exp.Expression:
        if cap is None:
            if line in scope.annual:
                scope.cumulative[line] = scope.annual[line]
            return scope.define(node, "paid", sql.when(covered, slice_, sql.num(0)))
        limit = sql.num(cap)
        annual = scope.annual.get(line)
        if annual is not None:
            # The slices telescope: their running sum is round(G(C_after)), G(0) = 0.
            before, after = (sql.least(limit, a) for a in annual)
            scope.cumulative[line] = (before, after)
            paid = exp.Sub(this=after, expression=before)
            return scope.define(node, "paid", sql.when(covered, paid, sql.num(0)))
        slices = scope.define(node, "slices", sql.running_sum(slice_))
        paid = exp.Sub(this=sql.least(limit, slices),
                       expression=sql.least(limit, exp.Sub(this=slices, expression=slice_)))
        return scope.define(node, "paid", sql.when(covered, paid, sql.num(0)))


    def alert(self, node, scope, index: int, contribution: exp.Expression,
              threshold: exp.Expression, alert=None, form=None) -> exp.Expression:
        """The year's burden so far; fired once it reaches the threshold, for good.

        No running maximum is needed: every claim adds a burden ≥ 0 (DIFFERENCE clamps
        it), so the year's burden never falls, and routing (backends/prepare.py) keeps
        here only person-years whose claims share one threshold (or have none).  Then
        "reached on some claim so far" is "reached now"."""
        running = None
        if form is not None and form.mask is None:
            visits = set(alert.visits)
            running = telescoping.running_total(
                scope, form, sql.one_of(sql.col("visit"), alert.visits),
                lambda line: set(scope.policy.line(line).visits) <= visits,
                lambda e: scope.define(node, "burden_claims", e))
        burden = scope.define(node, "burden", running or sql.running_sum(contribution))
        return scope.define(node, "fired", _reaches(burden, threshold))


    @staticmethod
    def _telescoped(node, scope, base: exp.Expression) -> exp.Expression | None:
        """The base's running sum from the claim's remainder and the earlier lines' telescoped
        payouts, when they cover exactly the claims this line covers."""
        form = scope.linear.get(base.name) if isinstance(base, exp.Column) else None
        if form is None or form.mask is None:
            return None

        def same_coverage(line: str) -> bool:
            # Which column holds a line's coverage is how the SQL is written, not a value
            # this node reads (the sum is the same either way): Scope.coverage, not values.
            covered = scope.coverage.get(line)
            return isinstance(covered, exp.Column) and covered.name == form.mask

        return telescoping.running_total(scope, form, sql.col(form.mask), same_coverage,
                                         lambda e: scope.define(node, "remainder", e))


def _reaches(burden: exp.Expression, threshold: exp.Expression) -> exp.Expression:
    return exp.func("COALESCE", burden >= threshold, exp.false())


class CarriedLedger:
    def __init__(self, columns):
        self.columns = columns

    def year_to_date(self, node, scope, line: str, base: exp.Expression):
        before = sql.col(f"prev_c_{self.columns.line_index(line)}")
        after = scope.define(node, "after", exp.Add(this=before, expression=base))
        return before, after

    def cap(self, node, scope, line: str, slice_: exp.Expression, cap: int | None,
            covered: exp.Expression) -> exp.Expression:
        if cap is None:
            return scope.define(node, "paid", sql.when(covered, slice_, sql.num(0)))
        paid_before = sql.col(f"prev_p_{self.columns.line_index(line)}")
        # The slice within the cap's room, never below 0: compiler/arithmetic.py's rule.
        paid = capped(FEN, slice_, sql.num(cap), paid_before)
        return scope.define(node, "paid", sql.when(covered, paid, sql.num(0)))

    def alert(self, node, scope, index: int, contribution: exp.Expression,
              threshold: exp.Expression, alert=None, form=None) -> exp.Expression:
        burden = scope.define(node, "burden", exp.Add(this=sql.col(f"prev_ab_{index}"),
                                                      expression=contribution))
        fired = scope.define(node, "fired", sql.any_of(
            [sql.col(f"prev_af_{index}"), _reaches(burden, threshold)]))
        scope.state[("ab", index)] = burden
        scope.state[("af", index)] = fired
        return fired
