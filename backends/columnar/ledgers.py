"""Year-to-date state for the columnar engine, two ways: backends/ledgers.py's two
ledgers over NumPy arrays (docs/specification.md §6).

:class:`WindowLedger` — the window path: a person-year keeps one candidate and one
version all year and its claims arrive sorted by (person-year, date, position) in
one block, so a line's cumulative base is the running sum of its bases, a capped
line pays min(cap, S_after) − min(cap, S_before) with S the running sum of its
uncapped slices, and an alert fires once the running burden reaches its threshold
(each rule proved in backends/ledgers.py).

:class:`CarriedLedger` — the walk (backends/columnar/walk.py): a block holds a run
of claims of each of its person-years (one claim, or several in a row with one
candidate and one version), and the figures after the person-year's earlier
claims arrive as the claim columns ``prev_c_<i>``/``prev_p_<i>`` (line *i*'s
cumulative base and payout) and ``prev_ab_<a>``/``prev_af_<a>`` (alert *a*'s
burden and whether it fired), as the SQL walk's ``prev_*`` columns; within the
run they go on as the window ledger's running sums.  A claim is settled as the
scalar evaluator settles it; what the alerts carry on is left in ``scope.state``
for the walk to commit.
"""

from __future__ import annotations

import numpy as np

from yibao.backends.columnar.arithmetic import ArrayArithmetic
from yibao.compiler.arithmetic import capped

FEN = ArrayArithmetic(1)


class WindowLedger:
    def year_to_date(self, scope, line: str, base):
        if np.isscalar(base):   # a line that never covers this candidate
            return base, base
        after = scope.claims.running(base)
        return after - base, after

    def cap(self, scope, line: str, slice_, limit: int):
        annual = scope.annual.get(line)
        if annual is not None:   # the slices telescope: their running sum is round(G(C_after))
            before, after = annual
            return np.minimum(limit, after) - np.minimum(limit, before)
        slices = scope.claims.running(slice_)
        return np.minimum(limit, slices) - np.minimum(limit, slices - slice_)

    def alert(self, scope, index: int, contribution, threshold):
        """The burden never falls and routing keeps one threshold a person-year here, so
        "reached on some claim so far" is "reached now" (backends/ledgers.py)."""
        return scope.claims.running(contribution) >= threshold


class CarriedLedger:
    """A block holds a *run* of claims of each of its person-years (ClaimArrays'
    segments: in claim order, one candidate and one version, or a single claim), and
    ``prev_*`` is the state before the run.  Within a run the window ledger's
    induction holds from the carried state, so a run of one claim is the SQL walk's
    step and a longer run settles many claims in one step."""

    def __init__(self, columns):
        self.columns = columns

    def year_to_date(self, scope, line: str, base):
        claims = scope.claims
        after = claims.column(f"prev_c_{self.columns.line_index(line)}") + claims.running(base)
        return after - base, after

    def cap(self, scope, line: str, slice_, limit: int):
        claims = scope.claims
        paid = claims.column(f"prev_p_{self.columns.line_index(line)}")
        # What the line paid before this claim, as far as this cap can tell: min(cap, p +
        # the run's slices before it) (each slice ≥ 0: WindowLedger's induction, from p;
        # a p above this cap, paid under an identity with a higher one, leaves no room).
        slices = claims.running(slice_)
        paid_before = np.minimum(limit, paid + slices - slice_)
        # The slice within the cap's room, never below 0: compiler/arithmetic.py's rule.
        return capped(FEN, slice_, limit, paid_before)

    def alert(self, scope, index: int, contribution, threshold):
        claims = scope.claims
        burden = claims.column(f"prev_ab_{index}") + claims.running(contribution)
        # once fired, fired for good: a later claim's threshold may be higher (a changed
        # scheme or group), which is why the window ledger cannot take this person-year
        reached = burden >= threshold
        if not claims.single:   # reached on this claim or one before it in the run
            reached = claims.running(reached) > 0
        fired = claims.column(f"prev_af_{index}") | reached
        scope.state[("ab", index)] = burden
        scope.state[("af", index)] = fired
        return fired
