"""Person-years settled on the window path with a presumed winner, then checked.

A person-year whose claims hold several candidates needs take highest at each claim
(docs/specification.md §8), and the walk (backends/columnar/walk.py) settles such
person-years a claim at a time: a step a claim, each step some hundred NumPy calls.
Yet most of them hold the same identities all year, and one of those wins every
claim: at 10^5 synthetic Benxi claims, 7,700 of the 9,200 walked claims are in
person-years where the first declared identity the person holds wins throughout.

So such a person-year (``prepare.presumable_claims``: one route and the same
thresholds all year once each claim is given its first declared candidate, no
ratio ceiling that may cut a capped line, no value the notice may leave open) is
settled by the window path under that candidate, its *presumed winner*, as a
person-year that held it alone.  Then the presumption is checked, claim by claim:
each claim is settled once more, under every candidate it holds, from the
year-to-date figures the presumed winner's own earlier claims left (each line's
cumulative base and payout), and take highest must pick the presumed winner.

Why that is exact.  Take highest compares the candidates' totals from the figures
the claims before left, and those figures are the winners' (§4 step 8).  If the
presumed winner wins every claim from the figures its own claims leave, then by
induction over the person-year's claims, in their order, the figures before each
claim are the ones the check used, and take highest picks the presumed winner
there too: the walk would settle the person-year exactly as the window path did.
Ties go to the first declared candidate the claim holds (§8), which is the presumed
winner, so a tie keeps it.  The alerts and referrals are worked out on the winner's
figures, which are the presumed winner's.

A person-year where some claim's check picks another candidate is walked from its
first claim, as before; its window figures are overwritten by the walk's.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from yibao.backends.columnar.prepare import presumable_claims
from yibao.backends.columnar.walk import Walk, numpy_walk
from yibao.backends.prepare import ROUTE_STRIDE, candidates
from yibao.backends.result_phase import winner_parts

# Line i's base under the presumed winner, among the window path's outputs for them.
BASE = "presumed_base_{}"


class Presumption:
    """The presumed person-years' claims: ``rows`` (of the batch), ``py`` (their
    person-years' codes), and their columns as the walk gathers them (``walk``, a Walk
    never settled itself: the check's and, where it fails, the walk's are made of it;
    its ``route`` column is each claim's presumed winner's)."""

    def __init__(self, taken: np.ndarray, rows: np.ndarray, py: np.ndarray, walk: Walk):
        self.taken = taken   # which of the walked rows given to presume these are
        self.rows, self.py, self.walk = rows, py, walk
        self._check: Walk | None = None   # begun ahead (begin_check)

    def begin_check(self) -> Walk:
        """The check's walk, begun (what it works out before the window path's figures
        are in: its order, the values that read no year-to-date figure): every claim a
        person-year of its own, one step of the walk's, which starts from the figures
        its presumed winner's earlier claims left."""
        claims, visit, days = self.walk.unordered
        check = Walk(self.walk.columns, self.walk.settlements,
                     {**claims, "py": np.arange(len(self.rows), dtype=np.int64)}, visit, days)
        check.begin()
        self._check = check
        return check

    def extras(self) -> list[dict[str, str]]:
        """By version, what the window path writes beside its outputs for these claims
        (runner.settle_rows' ``extras``): each computed line's base, which the winner
        adds to the line's year (a later line's base reads the earlier lines' payouts,
        so it is the window path's to work out)."""
        columns = self.walk.columns
        return [{BASE.format(i): winner_parts(settlement.policy, line)["base"]
                 for i, line in enumerate(columns.computed)
                 if line in {line.name for line in settlement.policy.lines}}
                for settlement in self.walk.settlements]

    def outputs(self, out: dict[str, np.ndarray], size: int) -> dict[str, np.ndarray]:
        """``out`` (the window path's outputs, ``size`` rows) with the extras' columns."""
        columns = self.walk.columns
        return {**out, **{BASE.format(i): np.zeros(size, dtype=np.int64)
                          for i in range(len(columns.computed))}}

    def failed(self, out: dict[str, np.ndarray], places: np.ndarray) -> np.ndarray:
        """Which presumed claims (bool, as ``rows``) are in a person-year whose presumed
        winner does not win every claim.  ``out``: the window path's outputs with the
        extras (:meth:`outputs`), at ``places`` (each batch row's place in them)."""
        claims, visit, days = self.walk.unordered
        count = len(self.rows)
        check = self._check or self.begin_check()
        # what each claim adds to each line's year under its presumed winner: the base
        # (c) and the final payout (p), by the claims' own order
        added: dict[str, np.ndarray] = {}
        fin_at = places[self.rows]
        version = claims["version"]
        for v, commits in enumerate(check.commits):
            mine = version == v
            if not mine.any():
                continue
            for i, _, final in commits:
                for name, values in ((f"c_{i}", out[BASE.format(i)][fin_at]),
                                     (f"p_{i}", out[final][fin_at])):
                    added.setdefault(name, np.zeros(count, dtype=np.int64))[mine] += values[mine]
        # the figures before each claim: the sums of its person-year's earlier claims, in
        # their order (date, then input position: the window path's and the walk's)
        order = np.lexsort((claims["idx"], days, self.py))
        ordered_py = self.py[order]
        begins = np.flatnonzero(np.concatenate(([True], ordered_py[1:] != ordered_py[:-1])))
        lengths = np.diff(np.append(begins, count))
        rank = check.claims["rank"]
        for name, values in added.items():
            ahead = values[order]
            before = np.cumsum(ahead) - ahead
            before -= np.repeat(before[begins], lengths)
            figures = np.empty(count, dtype=np.int64)
            figures[order] = before
            check.state[name][rank] = figures[check.order]
        check.choose()
        presumed = np.full(count, -1, dtype=np.int64)
        route = check.claims["route"]
        for key in np.unique(route).tolist():
            v, k = divmod(key, ROUTE_STRIDE)
            name = candidates(check.settlements[v].policy)[k]
            presumed[route == key] = check.names.index(name)
        lost = check.order[check.cand != presumed]
        return np.isin(self.py, self.py[lost])

    def walk_failed(self, failed: np.ndarray) -> tuple[Walk, np.ndarray]:
        """The walk of the person-years whose presumption failed, and their rows."""
        claims, visit, days = self.walk.unordered
        subset = {name: values[failed] for name, values in claims.items()}
        walk = Walk(self.walk.columns, self.walk.settlements, subset, visit[failed],
                    days[failed])
        return walk, self.rows[failed]


def presume(runner, prepared, arrays: dict[str, np.ndarray], visit: np.ndarray,
            positions: np.ndarray, slow: np.ndarray, slow_py: np.ndarray,
            count: int, room: int) -> Presumption | None:
    """The walked person-years at ``slow`` (batch rows; ``slow_py`` their person-years'
    codes below ``count``) that may be settled with a presumed winner, or None when
    there are none, more than ``room``, or their check cannot be made over NumPy
    (walk.numpy_walk's rule)."""
    take = presumable_claims(prepared, slow, slow_py, count)
    if not take.any() or np.count_nonzero(take) > room:
        return None
    rows, py = slow[take], slow_py[take]
    walk = numpy_walk(runner, prepared, arrays, visit, positions, rows, py)
    return None if walk is None else Presumption(take, rows, py, walk)


def presumed_and_walked(runner, prepared, arrays: dict[str, np.ndarray], visit: np.ndarray,
                         positions: np.ndarray, slow: np.ndarray, slow_py: np.ndarray,
                         count: int, room: int):
    """(presumption, walked rows, their person-years, their NumPy walk) for the walked
    rows ``slow``: the person-years settled with a presumed winner leave the walk,
    unless what is left cannot walk over NumPy (then none is presumed, and the caller
    gives them all to DuckDB's walk).  The walk is None when nothing is left.

    Presumed only while the window path stays within ``room`` more claims (one worker's
    block, runner.ONE_WORKER_CHUNK, with what it has): there the walk, on the other
    core, is the longer of the two (at 10^5 synthetic Benxi claims 35-45 ms against
    ≈ 28), and taking its person-years shortens the run (0.1355 → 0.1105 s, medians of
    12 interleaved fresh runs).  Past it the window path is the longer (at 10^6, ≈ 200
    ms on one worker against a walk of ≈ 150), and its check would come after it: 0.63
    → 0.73 s."""
    presumption = presume(runner, prepared, arrays, visit, positions, slow, slow_py,
                          count, room) if runner.presume and room > 0 else None
    if presumption is not None:
        rest = ~presumption.taken
        rest_rows, rest_py = slow[rest], slow_py[rest]
        if not len(rest_rows):
            return presumption, rest_rows, rest_py, None
        walk = numpy_walk(runner, prepared, arrays, visit, positions, rest_rows, rest_py)
        if walk is not None:
            return presumption, rest_rows, rest_py, walk
    return None, slow, slow_py, numpy_walk(runner, prepared, arrays, visit, positions, slow,
                                           slow_py)


def patched(results: pa.Table, at: np.ndarray, again: pa.Table) -> pa.Table:
    """``results`` with the rows at ``at`` (in ``again``'s order) replaced by ``again``'s
    figures (a walk's settled columns: the same claims, versions and types)."""
    order = np.argsort(at, kind="stable")
    where = np.zeros(len(results), dtype=bool)
    where[at] = True
    mask, ordered = pa.array(where), pa.array(order)
    for name in again.column_names:
        if name in ("idx", "version"):
            continue
        i = results.schema.get_field_index(name)
        column = results.column(i).combine_chunks()
        replacements = again.column(name).combine_chunks().take(ordered).cast(column.type)
        results = results.set_column(i, results.schema.field(i),
                                     pc.replace_with_mask(column, mask, replacements))
    return results


def walked_again(presumption, failed: np.ndarray):
    """The presumed person-years whose check failed, walked: (their results, their rows
    in the results' order), or None when every presumption held."""
    if not failed.any():
        return None
    walk, rows = presumption.walk_failed(failed)
    results = walk.settle()
    return results, rows[walk.order]
