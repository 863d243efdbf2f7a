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
from yibao.backends.prepare import (NO_THRESHOLD, ROUTE_STRIDE, candidates, open_lookups,
                                    unspecified, window_person_years)
from yibao.compiler.graph import Op


# Up to this many identities, a claim's identity profile (the set it holds, one bit an
# identity) indexes the tables directly (2^12 entries a version); past it, the profiles
# the batch holds are found (a sort of the claims' codes) and numbered.
DIRECT_PROFILES = 12


class Prepared:
    """The prepared arrays of a batch of admitted claims, one entry a claim.

    What routing asks of a claim — the candidates it holds, its route, each alert's
    threshold, whether its person-year may stay on the window path — depends on its
    version, its scheme and the set of identities it holds (its *profile*), not on the
    claim: a batch holds a few hundred profiles at most.  So each question is answered
    once a (version, scheme, profile), by the engine's own ops over a table of those
    profiles, and each claim takes its answer by index: one gather a column, where
    asking every claim cost an array a candidate and an alert (≈ 65 ms at 10^6 claims
    against ≈ 15)."""

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
        profile, held_by = _profiles(has)
        profiles = len(held_by[0]) if held_by else 1
        # each claim's (version, profile) as one index; version -1 (not admitted) is row 0.
        # 32 bits: the tables hold a few thousand entries, and NumPy gathers by narrower
        # indexes faster
        key = version.astype(np.int32)
        key += 1
        key *= profiles
        key += profile
        table = _ProfileTable(columns, settlements, held_by, profiles)
        self.n_candidates = table.n_candidates[key]
        self.route_key = table.route_key[key]
        self.held = _Held(table.held, key)
        self._held_tables, self._profile_key = table.held, key
        self.ceiling_walk = np.zeros(count, dtype=bool)
        self.may_be_unspecified = np.zeros(count, dtype=bool)
        for v, settlement in enumerate(settlements):
            if settlement.policy.ceiling is not None:
                self.ceiling_walk |= (version == v) & _ceiling_cuts_cap(settlement, claims)
        # C311 worked out exactly when the needs are the SQL's own list (plan.unspecified)
        needs, self.c311 = _c311(settlements, claims, self.held, version, key,
                                 (table.held, held_by, profiles))
        if [(need.message, need.hint) if need is not None else None for need in needs] != [
                (need.message, need.hint) for need in unspecified]:
            self.c311 = None
        if self.c311 is None:   # the claims that may need a value go to the exact path, whole person-years
            for (v, k), held in self.held.items():
                settlement = settlements[v]
                if settlement.policy.awaits_base is not None:
                    self.may_be_unspecified |= held
                else:
                    candidate = candidates(settlement.policy)[k]
                    self.may_be_unspecified |= held & _may_need(settlement, claims, candidate)
        # each claim's (version, scheme, profile) as one index into the alerts' tables
        codes, names = schemes
        key = scheme_profile_key(version, codes, len(names), profile, profiles)
        thresholds = [_threshold(columns, settlements, names, held_by, profiles, name)
                      for name in columns.alerts]
        self._threshold_tables, self._scheme_key = thresholds, key
        # the window path's one question of a person-year (prepare.window_person_years):
        # the same route and thresholds on every claim, and one candidate.  Both are the
        # (version, scheme, profile)'s: numbered once, equal numbers for equal answers
        routes = np.repeat(table.route_key.reshape(len(settlements) + 1, 1, profiles),
                           len(names) + 1, axis=1).reshape(-1)
        answers = np.stack([routes, *thresholds])
        signature = numbered_columns(answers)
        held = np.repeat(table.n_candidates.reshape(len(settlements) + 1, 1, profiles),
                         len(names) + 1, axis=1).reshape(-1)
        # a claim holding several candidates has its first declared one's route (the
        # presumed winner, presumed.py): its signature as if that one were all it held
        self._presumed_table = np.where(held > 0, signature, -1).astype(np.int32)
        signature[held != 1] = -1
        self.signature = signature[key]

    def presumed_signature(self, rows: np.ndarray) -> np.ndarray:
        """``signature`` of the claims at ``rows``, a claim holding several candidates
        numbered as if it held its first declared one alone (-1: it holds none)."""
        return self._presumed_table[self._scheme_key[rows]]

    def thresholds_at(self, rows: np.ndarray | None = None,
                      none: int = NO_THRESHOLD) -> list[np.ndarray]:
        """``thr_<a>`` of the claims at ``rows`` (every claim when None), an array an
        alert, ``none`` where a claim has no threshold: the walk's and the SQL's
        NO_THRESHOLD, or the engine's never-reached bound, put in the tables before the
        gather rather than in each claim's array after it."""
        key = self._scheme_key if rows is None else self._scheme_key[rows]
        return [np.where(table == NO_THRESHOLD, none, table)[key]
                for table in self._threshold_tables]

    def held_at(self, rows: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
        """``held_<v>_<k>`` of the claims at ``rows`` alone, (v, k) → array, in
        ``held``'s order: the walk's, gathered from the profiles' tables without making
        the whole batch's column first."""
        key = self._profile_key[rows]
        return {name: table[key] for name, table in self._held_tables.items()}


def scheme_profile_key(version: np.ndarray, codes: np.ndarray, schemes: int,
                       profile: np.ndarray, profiles: int) -> np.ndarray:
    """Each claim's entry in a (version, scheme, profile) table (_threshold's):
    ``((version + 1) × (schemes + 1) + scheme + 1) × profiles + profile``, version and
    scheme -1 (not admitted, unknown) the first rows.  32 bits: the tables hold a few
    thousand entries, and NumPy gathers by narrower indexes faster."""
    key = version.astype(np.int32)
    key += 1
    key *= schemes + 1
    key += codes
    key += 1
    key *= profiles
    key += profile
    return key


def numbered_columns(table: np.ndarray) -> np.ndarray:
    """Each column of ``table`` (2-D int64) numbered from 0: equal columns, equal
    numbers, in the order of the columns' values (the first row first).  What
    ``np.unique(table, axis=1, return_inverse=True)`` gives, but that compares the
    columns as raw bytes, one element at a time (≈ 2 ms for the few thousand columns of
    a batch's (version, scheme, profile) tables, a quarter of Prepared at 10^5 claims),
    where a lexsort of int64 rows and one comparison of neighbours is ≈ 0.1 ms."""
    count = table.shape[1]
    if count == 0:
        return np.zeros(0, dtype=np.int32)
    order = np.lexsort(table[::-1])
    ordered = table[:, order]
    new = np.ones(count, dtype=bool)
    new[1:] = np.any(ordered[:, 1:] != ordered[:, :-1], axis=0)
    numbers = np.empty(count, dtype=np.int32)
    numbers[order] = np.cumsum(new, dtype=np.int32) - 1
    return numbers


def _profiles(has: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each claim's identity profile as an index into the profiles, and for each
    identity whether each profile holds it (the ``has_<i>`` of a table with a row a
    profile).  Up to DIRECT_PROFILES identities the index is the profile's bits, and
    the table every profile there can be."""
    count = len(has[0]) if has else 0
    if not has:
        return np.zeros(count, dtype=np.int64), []
    wide = len(has) > DIRECT_PROFILES
    bits = np.zeros(count, dtype=np.uint64 if wide else np.int32)
    for i, held in enumerate(has):
        bits |= held.astype(bits.dtype) << bits.dtype.type(i)
    if wide:
        present, profile = np.unique(bits, return_inverse=True)
        profile = profile.reshape(-1).astype(np.int32)
    else:
        present, profile = np.arange(1 << len(has), dtype=np.uint64), bits
    return profile, [(present >> np.uint64(i)) & np.uint64(1) == 1 for i in range(len(has))]


class _ProfileTable:
    """The candidates' questions answered a (version, profile): entry
    ``(version + 1) × profiles + profile``, version -1 (a claim not admitted) holding
    nothing, as the per-claim columns of backends/prepare.py."""

    def __init__(self, columns: ClaimColumns, settlements: list[ArraySettlement],
                 held_by: list[np.ndarray], profiles: int):
        size = (len(settlements) + 1) * profiles
        rows = ClaimArrays({columns.has_column(name): held
                            for name, held in zip(columns.identities, held_by)},
                           np.zeros(profiles, dtype=np.int32), [], np.zeros(profiles))
        none = (~np.logical_or.reduce(held_by) if held_by
                else np.ones(profiles, dtype=bool))
        self.held: dict[tuple[int, int], np.ndarray] = {}
        self.n_candidates = np.zeros(size, dtype=np.int16)
        first = np.full(size, -1, dtype=np.int16)
        self.route_key = np.full(size, -1, dtype=np.int64)
        for v, settlement in enumerate(settlements):
            here = slice((v + 1) * profiles, (v + 2) * profiles)
            # in reverse, so that the first candidate held is the last written (the SQL's CASE)
            for k, candidate in reversed(list(enumerate(candidates(settlement.policy)))):
                held = np.zeros(size, dtype=bool)
                held[here] = (none if candidate is None
                              else settlement._holds(rows, [candidate]))
                self.held[v, k] = held
                self.n_candidates += held
                first[held] = k
            self.route_key[here] = np.where(first[here] >= 0,
                                            v * ROUTE_STRIDE + first[here], -1)


class _Held(dict):
    """``held_<v>_<k>`` a claim, each gathered from the profiles' table when first read
    (the C311 needs read a few; the walk reads them at its own rows)."""

    def __init__(self, tables: dict[tuple[int, int], np.ndarray], key: np.ndarray):
        super().__init__()
        self._tables, self._key = tables, key
        self.update((name, None) for name in tables)

    def __getitem__(self, name):
        values = super().__getitem__(name)
        if values is None:
            values = self._tables[name][self._key]
            super().__setitem__(name, values)
        return values

    def items(self):
        return [(name, self[name]) for name in self]

    def values(self):
        return [self[name] for name in self]


# A C311 table of more entries than this (many profiles, visits and conditions) is not
# made: the needs are asked of every claim instead.
C311_TABLE_MOST = 1 << 18


def _c311(settlements, claims: ClaimArrays, held, version: np.ndarray, profile_key,
          profiles) -> tuple[list, np.ndarray]:
    """The C311 needs (_needs' words, in its order) and each claim's first need (an index
    into them, -1 for none).

    Whether a claim needs a value its notice leaves open depends on its version and
    profile (the candidates it holds), its visit, and the conditions of the lines'
    COVERS (the fields they read): _needs is asked once of each combination, over a
    table with a row each, and a claim takes its combination's answer (≈ 5 ms at 10^6
    claims, where asking every claim cost ≈ 30).  ``profile_key``: each claim's
    (version, profile) entry (Prepared); ``profiles``: the (version, profile) tables of
    held candidates, each identity's column over the profiles, and their number."""
    held_tables, held_by, count_profiles = profiles
    trees = sorted({node.payload.condition for settlement in settlements
                    for node in settlement.graph.order
                    if node.op is Op.COVERS and node.payload.condition is not None}, key=repr)
    visits = len(claims.visits) + 1   # the last: a visit not known (-1)
    size = len(held_tables[next(iter(held_tables))]) if held_tables else count_profiles
    if size * visits << len(trees) > C311_TABLE_MOST:
        needs = list(_needs(settlements, claims, held, version))
        c311 = np.full(claims.count, -1, dtype=np.int32)
        for index in reversed(range(len(needs))):   # the first need is the one refused
            c311[needs[index][1]] = index
        return [need for need, _ in needs], c311
    # the table: entry ((version, profile) × visits + visit) × 2^conditions + their bits
    entry = np.arange(size * visits << len(trees), dtype=np.int64)
    bits = entry & ((1 << len(trees)) - 1)
    visit = (entry >> len(trees)) % visits
    key = (entry >> len(trees)) // visits
    versions = key // count_profiles - 1
    table = ClaimArrays({f"has_{i}": held[key % count_profiles] for i, held in enumerate(held_by)},
                        np.where(visit == visits - 1, -1, visit), claims.visits,
                        np.zeros(len(entry), dtype=np.int64))
    table.conditions.update((tree, (bits >> i) & 1 == 1) for i, tree in enumerate(trees))
    needs = list(_needs(settlements, table, _Held(held_tables, key), versions))
    answers = np.full(len(entry), -1, dtype=np.int32)
    for index in reversed(range(len(needs))):   # the first need is the one refused
        answers[needs[index][1]] = index
    # each claim's entry
    claim = profile_key.astype(np.int64) * visits
    claim += np.where(claims.visit_codes < 0, visits - 1, claims.visit_codes)
    claim <<= len(trees)
    for i, tree in enumerate(trees):
        claim |= np.left_shift(np.broadcast_to(
            settlements[0]._condition(claims, tree), (claims.count,)), i, dtype=np.int64)
    return [need for need, _ in needs], answers[claim]


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


def _threshold(columns: ClaimColumns, settlements, names: list[str],
               held_by: list[np.ndarray], profiles: int, name: str) -> np.ndarray:
    """``thr_<a>``: lowering.alert_threshold a (version, scheme, profile), entry
    ``((version + 1) × (len(names) + 1) + scheme + 1) × profiles + profile``; -1
    (prepare.NO_THRESHOLD) outside the alert's group, where the version has no such
    alert, and for version -1 (not admitted) and scheme -1 (unknown), as the masks
    leave them.  ``names``: the schemes the codes index; ``held_by``: each identity's
    column over the profiles (_profiles)."""
    table = np.full((len(settlements) + 1, len(names) + 1, profiles), -1, dtype=np.int64)
    for v, settlement in enumerate(settlements):
        policy = settlement.policy
        alert = next((a for a in policy.alerts if a.name == name), None)
        if alert is None:
            continue
        strict = 1 if alert.above else 0
        by_scheme = np.full(len(names) + 1, -1, dtype=np.int64)
        fallback = alert.threshold.for_identity(None)
        by_scheme[:] = fen(fallback.value) + strict if fallback is not None else -1
        for scheme, sourced in alert.threshold.items():
            if scheme is not None and scheme in names:
                by_scheme[names.index(scheme) + 1] = fen(sourced.value) + strict
        in_group = _alert_group(policy, alert, columns, held_by, profiles)
        table[v + 1] = np.where(in_group, by_scheme[:, None], -1)
    return table.reshape(-1)


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


def presumable_claims(prepared: Prepared, rows: np.ndarray, py: np.ndarray,
                      count: int) -> np.ndarray:
    """For each claim at ``rows`` (walked claims, whole person-years; ``py`` their
    person-years' dense codes, below ``count``), may its person-year be settled with the
    first declared candidate each claim holds presumed the winner of every claim
    (backends/columnar/presumed.py)?  :func:`window_claims`' rule with that candidate
    in place of the several a claim holds: one route and the same thresholds all year,
    no ceiling that may cut a capped line, no value the notice may leave open."""
    signature = prepared.presumed_signature(rows)
    alone = signature >= 0
    for walks in (prepared.ceiling_walk, prepared.may_be_unspecified):
        if walks.any():
            alone &= ~walks[rows]
    return window_person_years(py, count, signature, alone, [])[py]


def window_claims(prepared: Prepared, rows: np.ndarray | slice, py: np.ndarray,
                  count: int) -> np.ndarray:
    """For each claim at ``rows`` (an index, or a slice: every claim) of person-year
    ``py`` (a dense code below ``count``), is its person-year on the window path?
    backends/prepare.py's rule, and no claim that may need an unspecified value."""
    # the signature is -1 where a claim holds other than one candidate; equal where the
    # route and every threshold are: backends/prepare.py's rule asks of it alone
    signature = prepared.signature[rows]
    alone = signature >= 0
    for walks in (prepared.ceiling_walk, prepared.may_be_unspecified):
        if walks.any():
            alone &= ~walks[rows]
    window = window_person_years(py, count, signature, alone, [])
    return window[py]
