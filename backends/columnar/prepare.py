"""Preparation and routing of the admitted claims over arrays: backends/prepare.py's
columns (``held_<v>_<k>``, ``n_candidates``, ``route_key``, ``ceiling_walk``,
``thr_<a>``) worked out with NumPy for the claims the columnar engine admitted.

One thing is asked differently: whether a claim needs a value its notice leaves
unspecified (C311).  The SQL finds the exact need and its message; here a claim
*may* need one when it is covered (the COVERS node, evaluated over arrays by the
engine itself) by a line whose table leaves a value open for a candidate it
holds, in any visit.  That flags more claims than need it; their person-years
go to the exact path with the walk's (backends/columnar/typed.py), which
refuses the claims that do need it with the SQL's own message.
"""

from __future__ import annotations

import numpy as np

from yibao.backends.columnar.engine import ArraySettlement, ClaimArrays, Scope
from yibao.backends.columns import ClaimColumns, fen
from yibao.backends.prepare import (ROUTE_STRIDE, candidates, open_lookups, unspecified,
                                    window_person_years)


class Prepared:
    """The prepared arrays of a batch of admitted claims, one entry a claim."""

    def __init__(self, columns: ClaimColumns, settlements: list[ArraySettlement],
                 arrays: dict[str, np.ndarray], visit_codes: np.ndarray, visits: list[str],
                 schemes: tuple[np.ndarray, list[str]], unspecified=()):
        """``schemes``: each claim's scheme as codes into a list of names;
        ``unspecified``: the SQL's C311 needs (plan.unspecified), which ``c311`` indexes."""
        self.columns = columns
        count = len(arrays["version"])
        claims = ClaimArrays(arrays, visit_codes, visits, np.zeros(count, dtype=np.int64))
        version = arrays["version"]
        has = [arrays[f"has_{i}"] for i in range(len(columns.identities))]
        no_identity = ~np.logical_or.reduce(has) if has else np.ones(count, dtype=bool)
        self.held: dict[tuple[int, int], np.ndarray] = {}
        # a claim holds few candidates (one a route): 16 bits, not 64, are read and written
        self.n_candidates = np.zeros(count, dtype=np.int16)
        self.ceiling_walk = np.zeros(count, dtype=bool)
        self.may_be_unspecified = np.zeros(count, dtype=bool)
        # the first candidate each claim holds (as the SQL's CASE), -1 for none: 16 bits
        # written a candidate, the 64-bit route key made once from it and the version
        first = np.full(count, -1, dtype=np.int16)
        for v, settlement in enumerate(settlements):
            policy = settlement.policy
            here = version == v
            for k, candidate in reversed(list(enumerate(candidates(policy)))):
                held = here & (no_identity if candidate is None
                               else np.broadcast_to(settlement._holds(claims, [candidate]),
                                                    (count,)))
                self.held[v, k] = held
                self.n_candidates += held
                np.copyto(first, k, where=held)
            self.ceiling_walk |= here & _ceiling_cuts_cap(settlement, claims)
        self.route_key = version.astype(np.int64) * ROUTE_STRIDE + first
        np.copyto(self.route_key, -1, where=first < 0)
        # C311 worked out exactly when the needs are the SQL's own list (plan.unspecified)
        needs = list(_needs(settlements, claims, self.held, version))
        self.c311 = None
        if [(need.message, need.hint) if need is not None else None for need, _ in needs] == [
                (need.message, need.hint) for need in unspecified]:
            self.c311 = np.full(count, -1, dtype=np.int32)   # an index into the needs
            for index in reversed(range(len(needs))):   # the first need is the one refused
                self.c311[needs[index][1]] = index
        else:   # the claims that may need a value go to the exact path, whole person-years
            for (v, k), held in self.held.items():
                settlement = settlements[v]
                if settlement.policy.awaits_base is not None:
                    self.may_be_unspecified |= held
                else:
                    candidate = candidates(settlement.policy)[k]
                    self.may_be_unspecified |= held & _may_need(settlement, claims, candidate)
        self.thresholds = [_threshold(columns, settlements, version, has, schemes, name)
                           for name in columns.alerts]


def _needs(settlements, claims: ClaimArrays, held, version):
    """(C311 words, claims that need the value) for each value a notice leaves open, in
    backends/prepare.py's order (versions, candidates, evaluation order), over arrays;
    nothing for an amendment awaiting its base (its needs are worded otherwise)."""
    count = claims.count
    for v, settlement in enumerate(settlements):
        policy = settlement.policy
        if policy.awaits_base is not None:
            yield None, np.zeros(count, dtype=bool)   # never the SQL's list: not exact here
            continue
        for k, candidate in enumerate(candidates(policy)):
            scope = Scope(claims, candidate)
            for node, named, cases in open_lookups(settlement.graph, candidate,
                                                   _cover(settlement, scope)):
                covered = scope.values[node.input("covered")]
                if covered is False:   # the line never covers this candidate
                    continue
                others = (~np.broadcast_to(claims.visit_in(named), (count,)) if named
                          else True)
                for visit, looked in cases:
                    visit_test = claims.visit_in([visit]) if visit is not None else others
                    yield (unspecified(policy, node.payload, candidate, looked.unspecified),
                           held[v, k] & covered & visit_test)


def _may_need(settlement: ArraySettlement, claims: ClaimArrays, candidate) -> np.ndarray:
    """Covered, for ``candidate``, by a line whose table leaves a value open (any visit)."""
    scope = Scope(claims, candidate)
    needs = np.zeros(claims.count, dtype=bool)
    for node, _, _ in open_lookups(settlement.graph, candidate, _cover(settlement, scope)):
        needs |= np.broadcast_to(scope.values[node.input("covered")], (claims.count,))
    return needs


def _cover(settlement: ArraySettlement, scope: Scope):
    """open_lookups' ``cover``: a COVERS node worked out over the claims' arrays."""
    def cover(node) -> None:
        scope.values[node.id] = settlement._covers(node, scope)
    return cover


def _ceiling_cuts_cap(settlement: ArraySettlement, claims: ClaimArrays) -> np.ndarray:
    """backends/prepare.py _ceiling_cuts_cap over arrays."""
    policy = settlement.policy
    ceiling = policy.ceiling
    count = claims.count
    if ceiling is None:
        return np.zeros(count, dtype=bool)
    computed = {line.name: line for line in policy.computed_lines}
    capped = any(computed[name].cap is not None and any(
        sourced.value is not None for _, sourced in computed[name].cap.items())
        for name in ceiling.reduces if name in computed)
    if not capped:
        return np.zeros(count, dtype=bool)
    return np.broadcast_to(claims.visit_in(ceiling.visits)
                           & settlement._holds(claims, ceiling.identities), (count,))


def _threshold(columns: ClaimColumns, settlements, version, has, schemes, name: str):
    """``thr_<a>``: lowering.alert_threshold over arrays; -1 (prepare.NO_THRESHOLD) where
    the claim is outside the alert's group or its version has no such alert.

    A claim's threshold is fixed by its version, its scheme and whether it is in the
    alert's group: a table of those few combinations, looked up once a claim by a small
    key (one int64 array made, where a full array a version and a select cost ≈ 60 ms
    at 10^6 claims)."""
    codes, names = schemes
    count = len(version)
    # the table: [version + 1][scheme code + 1][in the group]; version -1 (not admitted)
    # and scheme -1 (unknown) are the first rows, as the masks leave them
    table = np.full((len(settlements) + 1, len(names) + 1, 2), -1, dtype=np.int64)
    in_group = np.zeros(count, dtype=bool)
    for v, settlement in enumerate(settlements):
        policy = settlement.policy
        alert = next((a for a in policy.alerts if a.name == name), None)
        if alert is None:
            continue
        strict = 1 if alert.above else 0
        fallback = alert.threshold.for_identity(None)
        table[v + 1, :, 1] = fen(fallback.value) + strict if fallback is not None else -1
        for scheme, sourced in alert.threshold.items():
            if scheme is not None and scheme in names:
                table[v + 1, names.index(scheme) + 1, 1] = fen(sourced.value) + strict
        in_group |= (version == v) & _alert_group(policy, alert, columns, has, count)
    if (table == -1).all():
        return np.full(count, -1, dtype=np.int64)
    key = (version.astype(np.int32) + 1) * (2 * (len(names) + 1))
    key += (codes.astype(np.int32) + 1) * 2
    key += in_group
    return table.reshape(-1)[key]


def _alert_group(policy, alert, columns, has, count) -> np.ndarray:
    """lowering._alert_group over arrays (docs/specification.md §17)."""
    def held(names) -> np.ndarray:
        wanted = set(names)
        result = np.zeros(count, dtype=bool)
        for identity in policy.identities:
            if identity.name in wanted or policy.effective_identity(identity.name) in wanted:
                result |= has[columns.identities.index(identity.name)]
        return result

    if not alert.group_excludes:
        return held(alert.group)
    others = [held(other.group) for other in policy.alerts
              if other.name in alert.group and not other.group_excludes]
    return ~np.logical_or.reduce(others) if others else np.ones(count, dtype=bool)


def window_claims(prepared: Prepared, rows: np.ndarray, py: np.ndarray,
                  count: int) -> np.ndarray:
    """For each claim at ``rows`` (person-year ``py``, a dense code below ``count``), is
    its person-year on the window path?  backends/prepare.py's rule, and no claim that
    may need an unspecified value."""
    alone = (prepared.n_candidates[rows] == 1) & ~prepared.ceiling_walk[rows] & (
        ~prepared.may_be_unspecified[rows])
    window = window_person_years(py, count, prepared.route_key[rows], alone,
                                 [threshold[rows] for threshold in prepared.thresholds])
    return window[py]
