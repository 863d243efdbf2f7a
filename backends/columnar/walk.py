"""The walk over NumPy: the person-years the window path cannot settle, in claim order.

backends/settle.py's ``walk_settlement`` (the recursive SQL) done with arrays: a
person-year whose candidates or version change during the year, or whose ratio
ceiling cuts a capped line, is settled in claim order, each claim from the
state its earlier claims left — each computed line's cumulative base ``c`` and
payout ``p``, each alert's burden ``ab`` and whether it fired ``af``
(settle._state_names).  A person-year's claims are cut into *runs*: a claim that
holds several candidates, or that a ratio ceiling may cut on a capped line, is a
run of its own, as the SQL walks it; a longest series of the others with one
route (version and candidate) is one run, settled as the window path settles a
person-year, from the state before it (the window ledger's induction starts
from any state).  All person-years take their n-th run in the same step, so a
step is one block of claims, a run a person-year, settled by the engine
(backends/columnar/engine.py) with the carried ledger
(backends/columnar/ledgers.py CarriedLedger):

* a step's runs of one version are settled together (:func:`step_slices`):
  where they all hold one candidate (one route), under it alone, else under
  every candidate any of them holds, as the SQL lowers every candidate as
  columns; take highest picks, claim by claim, the held
  candidate with the highest total, ties to the first declared
  (docs/specification.md §8); the result phase is the winner's (the engine's
  ``evaluate``: a candidate's own result phase is the one over the winner
  wherever it wins);
* a step's claims of different versions are settled apart, each by its own
  version's graph, as the SQL's CASE on ``version`` masks them;
* then the state is committed as settle._next_state does: ``c`` += the
  winner's base, ``p`` += the line's final payout (a run's claims' summed),
  the alerts' burden and state as the ledger left them at the run's last
  claim; a line or alert the claim's version lacks keeps its figure.

The claims are gathered once in *step order*: step s holds the s-th run of
every person-year that has one, the person-years with most runs first, so a
step's claims are a slice.  The number of steps is the largest number of runs
in a walked person-year: 26 at 10^5 synthetic Benxi claims (61 claims one at a
time: the longest walked person-years change identity once), 46 at 10^6.

Where this cannot be exact the caller keeps DuckDB's walk statement
(:func:`numpy_walk` returns None): a batch whose figures int64 might not hold
(ColumnarRunner.fits_int64: NumPy wraps where DuckDB refuses), a graph with an op the
engine does not cover (ArraySettlement.ops), a claim that holds none of its
version's candidates (the SQL gives it NULL outcomes, which the results
cannot hold as arrays).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from yibao.backends.columnar.engine import ArraySettlement, ClaimArrays
from yibao.backends.columnar.ledgers import CarriedLedger
from yibao.backends.prepare import ROUTE_STRIDE, candidates, held_column
from yibao.backends.result_phase import settled_columns, winner_parts
from yibao.compiler.graph import Op, Phase
from yibao.compiler.lower import CANDIDATE_TOTAL, PERSONAL_BURDEN, TOTAL_PAID, final_payout_id
from yibao.dsl.model import VISITS

_NO_THRESHOLD = np.iinfo(np.int64).max   # never reached: the SQL's NULL threshold
_NO_OFFER = np.iinfo(np.int64).min       # a candidate not held: never the highest
_VISITS = list(VISITS)                   # what the visit codes index (typed.py's admission)
# A group of claims holding several candidates this large evaluates each candidate over
# the claims that hold it, and assembles the winners' values; a smaller one evaluates
# every candidate over all its claims (fewer NumPy calls where the calls are the cost).
SUBSET_MIN = 2048


def numpy_walk(runner, prepared, arrays: dict[str, np.ndarray], visit: np.ndarray,
               positions: np.ndarray, rows: np.ndarray, py: np.ndarray) -> "Walk | None":
    """The walk of the claims at ``rows`` (whole person-years, their dense codes ``py``),
    gathered from the prepared ``arrays``; None where it cannot be exact (above)."""
    columns = runner.columns
    settlements = [ArraySettlement(s.graph, columns, CarriedLedger(columns))
                   for s in runner.settlements]
    if any(node.op not in settlement.ops
           for settlement in settlements for node in settlement.graph.order):
        return None
    if not bool(np.all(prepared.n_candidates[rows] > 0)):
        return None
    claims: dict[str, np.ndarray] = {"idx": positions[rows], "py": py}
    for name in ("version", "total_fen", "in_scope_fen"):
        claims[name] = arrays[name][rows]
    for prefix, count in (("up", len(columns.upstream)), ("fld", len(columns.fields)),
                          ("has", len(columns.identities))):
        claims.update((f"{prefix}_{i}", arrays[f"{prefix}_{i}"][rows]) for i in range(count))
    for i, threshold in enumerate(prepared.thresholds_at(rows, _NO_THRESHOLD)):
        claims[f"thr_{i}"] = threshold
    claims.update((held_column(v, k), held) for (v, k), held in prepared.held_at(rows).items())
    # what makes a claim walk on its own: more than one candidate, or a ceiling that may
    # cut a capped line (the cap's room is then what the line paid after the ceiling)
    claims["route"] = route = prepared.route_key[rows]
    several = prepared.n_candidates[rows] > 1
    claims["alone"] = ~several & ~prepared.ceiling_walk[rows]
    # what a step evaluates a claim under: its one route, or, holding several candidates,
    # every candidate of its version it holds (take highest)
    claims["group"] = np.where(several, claims["version"].astype(np.int64) * ROUTE_STRIDE * 2 + 1,
                               route * 2)
    money = [values for name, values in claims.items()
             if values.dtype == np.int64 and name not in ("idx", "py", "version", "route", "group")
             and not name.startswith("thr_")]
    largest = max((int(np.abs(values).max()) for values in money if len(values)), default=0)
    if not runner.fits_int64(largest, len(rows)):
        return None
    return Walk(columns, settlements, claims, visit[rows], arrays["days"][rows])


def step_order(claims: dict[str, np.ndarray], days: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The claims in step order, each claim's person-year rank, and how many claims
    each step has.

    A person-year's claims are in (date, input position) order — the SQL's ``seq``
    (plan.walk_claims) — and cut into *runs*: a claim that walks on its own
    (``alone`` false) is a run, and so is each longest series of the others with one
    route (version and candidate).  Step s takes run s of each person-year that has
    one, the person-years ranked by their number of runs, most first (ties by code).
    Within a step the runs are grouped by ``group`` (their route, or their version for
    claims that hold several candidates), a version's groups together, so that a
    version's claims are a slice (:func:`step_slices`) and, in a large one evaluated by
    candidate (SUBSET_MIN), each candidate's claims lie close together."""
    py, route, alone, idx = claims["py"], claims["route"], claims["alone"], claims["idx"]
    if len(py) and bool(np.all(idx[1:] > idx[:-1])):   # in input order: one stable sort
        order = _stable_order([(py, int(py.max()) + 1), (days - days.min(), int(np.ptp(days)) + 1)])
    else:
        order = np.lexsort((idx, days, py))
    py, route, alone = py[order], route[order], alone[order]
    new_py = np.concatenate(([True], py[1:] != py[:-1]))
    cut = new_py | ~alone | np.concatenate(([True], ~alone[:-1])) | np.concatenate(
        ([True], route[1:] != route[:-1]))
    run = np.cumsum(cut) - 1
    starts = np.flatnonzero(new_py)
    lengths = np.diff(np.append(starts, len(order)))
    first_run = np.repeat(run[starts], lengths)
    run_seq = run - first_run
    runs = np.append(first_run[starts[1:]], run[-1] + 1) - run[starts] if len(order) else run
    rank = np.empty(len(starts), dtype=np.int64)
    rank[np.argsort(-runs, kind="stable")] = np.arange(len(starts))
    claim_rank = np.repeat(rank, lengths)
    group = claims["group"][order]
    by_step = (_stable_order([(run_seq, int(run_seq.max()) + 1), (group, int(group.max()) + 1),
                              (claim_rank, len(starts))]) if len(order)
               else np.zeros(0, dtype=np.int64))
    return order[by_step], claim_rank[by_step], np.bincount(run_seq)


def _stable_order(keys: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """np.lexsort of the keys (most significant first, each ≥ 0 and below its bound),
    ties in the given order: one stable sort of their combined number where it fits
    in int64, as a lexsort's several passes cost more."""
    bound = 1
    for _, size in keys:
        bound *= max(size, 1)
    if bound >= 1 << 62:
        return np.lexsort([values for values, _ in reversed(keys)])
    combined = np.zeros(len(keys[0][0]), dtype=np.int64)
    for values, size in keys:
        combined = combined * max(size, 1) + values
    return np.argsort(combined, kind="stable")


class Walk:
    """The walked claims (``claims``: column → array, ``visit``'s codes, ``days``), put in
    step order when the walk begins, on the thread that settles them (``counts[s]``: the
    claims of step s), and the state of each person-year, by rank."""

    def __init__(self, columns, settlements: list[ArraySettlement],
                 claims: dict[str, np.ndarray], visit: np.ndarray, days: np.ndarray):
        self.columns = columns
        self.settlements = settlements
        self.unordered = (claims, visit, days)   # as given (presumed.py reads them too)

    def begin(self) -> None:
        """Put the claims in step order and work out what reads no year-to-date figure."""
        claims, visit, days = self.unordered
        order, rank, counts = step_order(claims, days)
        self.order = order   # the results' rows, as indices into the claims given
        columns, settlements = self.columns, self.settlements
        self.claims = claims = {name: values[order] for name, values in claims.items()}
        claims["rank"] = rank
        self.visit = visit = visit[order]
        self.counts = counts
        people = int(rank.max()) + 1 if len(rank) else 0
        lines, alerts = len(columns.computed), len(columns.alerts)
        self.state = {f"{s}_{i}": np.zeros(people, dtype=np.int64)
                      for i in range(lines) for s in ("c", "p")}
        self.state.update((f"{s}_{i}", np.zeros(people, dtype=bool if s == "af" else np.int64))
                          for i in range(alerts) for s in ("ab", "af"))
        count = len(visit)
        self.out = {name: np.zeros(count, dtype=bool if name.startswith(("alert_", "referral_"))
                                   else np.int64)
                    for name in settled_columns(columns) if name not in ("idx", "version", "cand")}
        # the chosen identity as a code into ``names`` (None, no identity, is a name too)
        self.names: list[str | None] = []
        self.codes = []
        for settlement in settlements:
            for candidate in candidates(settlement.policy):
                if candidate not in self.names:
                    self.names.append(candidate)
            self.codes.append(np.array([self.names.index(c)
                                        for c in candidates(settlement.policy)]))
        self.cand = np.zeros(count, dtype=np.int64)
        self.candidates = [candidates(settlement.policy) for settlement in settlements]
        # by version: (line index, the winner's base node, the final payout's column) of
        # each computed line the version has, committed after each step
        self.commits = [[(i, winner_parts(settlement.policy, line)["base"],
                          columns.settled("fin", line))
                         for i, line in enumerate(columns.computed)
                         if line in {line.name for line in settlement.policy.lines}]
                        for settlement in settlements]
        # what reads no year-to-date state is worked out once for every walked claim,
        # per (version, candidate), and sliced at each step: most of the graph (the
        # claim's fields, lookups, coverage), and most of a step's cost otherwise.  A
        # step evaluates the other nodes, ``self.stateful[v]``, from those they read.
        every = ClaimArrays(claims, visit, _VISITS, claims["py"])
        self.stateful, self.constants, self.sliced = [], {}, {}
        self.once: list[_ResultOnce | None] = []
        for v, settlement in enumerate(settlements):
            free = settlement.ledger_free
            stateful = frozenset(node.id for node in settlement.graph.order
                                 if node.id not in free)
            read = _read_after(settlement) | {source for node in settlement.graph.order
                                              if node.id in stateful
                                              for _, source in node.inputs}
            self.stateful.append(stateful)
            self.once.append(_result_once(settlement, stateful))
            for k, candidate in enumerate(candidates(settlement.policy)):
                if not claims[held_column(v, k)].any():   # no step evaluates it
                    continue
                values = settlement.evaluate(every, candidate, only=free).values
                # a constant of the candidate (a rate, a coverage never given) or one
                # value a walked claim
                self.constants[v, k] = {node: value for node, value in values.items()
                                        if node in read and not _per_claim(value)}
                self.sliced[v, k] = [(node, value) for node, value in values.items()
                                     if node in read and _per_claim(value)]

    @property
    def steps(self) -> int:
        return len(self.counts)

    def settle(self) -> pa.Table:
        """Every walked claim's settled row (result_phase.settled_columns), in step order."""
        self.begin()
        self._steps()
        names = pa.array(self.names, pa.string())
        data = {"idx": pa.array(self.claims["idx"]),
                "version": pa.array(self.claims["version"].astype(np.int32)),
                "cand": names.take(pa.array(self.cand))}
        data.update((name, pa.array(values)) for name, values in self.out.items())
        return pa.table([data[name] for name in settled_columns(self.columns)],
                        names=settled_columns(self.columns))

    def choose(self) -> None:
        """Each claim's winner (``cand``) from the state as it stands, every claim a
        person-year of its own (one step), the results left unworked: presumed.py's
        check, after :meth:`begin` and its own state."""
        if len(self.counts) > 1:
            raise ValueError("choose settles one step: every claim a person-year of its own")
        self._steps(choose_only=True)

    def _steps(self, choose_only: bool = False) -> None:
        versions, groups = self.claims["version"], self.claims["group"]
        for lo, hi in step_slices(self.counts, versions):
            group = int(groups[lo])
            if group & 1 or group != int(groups[hi - 1]):
                # claims holding several candidates, or several routes of the version:
                # take highest among the candidates each claim holds
                self._settle(int(versions[lo]), lo, hi, None, choose_only)
            else:   # one route: its candidate alone
                self._settle(int(versions[lo]), lo, hi, (group >> 1) % ROUTE_STRIDE,
                             choose_only)

    def _settle(self, v: int, lo: int, hi: int, only: int | None,
                choose_only: bool = False) -> None:
        """Settle the claims [lo, hi) of one step (a run of each of some person-years, in
        rank order), all of version ``v`` and holding candidate ``only`` alone, or, when
        ``only`` is None, several candidates each, and commit their state.  A step's
        claims of different versions are settled apart, each by its own version's graph,
        as the SQL's CASE on ``version`` masks them.  ``choose_only``: the winners
        (``cand``) alone, nothing committed."""
        block = _Rows(self.claims, self.state, lo, hi)
        rank = block["rank"]
        claims = ClaimArrays(block, self.visit[lo:hi], _VISITS, rank)
        count = claims.count
        starts = claims.starts
        people, ends = rank[starts], np.append(starts[1:], count) - 1
        settlement = self.settlements[v]
        # A large group of claims holding several candidates evaluates each candidate
        # over the claims that hold it (a synthetic claim holds two of a step's six or
        # seven); a smaller one over all its claims, as a step's cost is then the calls.
        subsets = only is None and count >= SUBSET_MIN
        once = self.once[v]
        evaluated = self.stateful[v] if once is None else once.before
        options = []
        for k, candidate in enumerate(self.candidates[v]):
            if only is not None and k != only:
                continue
            held = block[held_column(v, k)]
            if only is None and not held.any():   # a candidate no claim holds wins none
                continue
            rows = np.flatnonzero(held) if subsets else None
            known = dict(self.constants[v, k])
            if rows is None or len(rows) == count:
                rows, over = None, claims
                known.update((node, values[lo:hi]) for node, values in self.sliced[v, k])
            else:   # each claim of the group is a run of its own: a claim a segment
                held_rows = _Rows(self.claims, self.state, lo, hi, rows)
                over = ClaimArrays(held_rows, self.visit[lo:hi][rows], _VISITS,
                                   held_rows["rank"])
                known.update((node, values[lo:hi][rows])
                             for node, values in self.sliced[v, k])
            options.append((k, held, rows, settlement.evaluate(over, candidate, known,
                                                               evaluated)))
        win = _take_highest(options, count)
        chosen = _chooser(win, [rows for _, _, rows, _ in options])
        self.cand[lo:hi] = self.codes[v][np.array([k for k, _, _, _ in options])[win]]
        if choose_only:
            return
        if once is not None:
            # the claim phase's values are every candidate's: the first's, for the step
            k = options[0][0]
            winners = {node: value for node, value in self.constants[v, k].items()
                       if node in once.shared}
            winners.update((node, values[lo:hi]) for node, values in self.sliced[v, k]
                           if node in once.shared)
            winners = once.picked([scope for _, _, _, scope in options], chosen, winners)
            if winners is not None:
                self._commit_once(settlement, v, lo, hi, claims, once, winners)
                return
            # a value no chooser can pick (a constant differing by candidate): the result
            # phase of each option, as below
            options = [(k, held, rows, settlement.evaluate(scope.claims, scope.candidate,
                                                           scope.values, self.stateful[v]))
                       for k, held, rows, scope in options]

        def winner(of) -> Any:
            return chosen([of(scope) for _, _, _, scope in options])

        outputs = [settlement.outputs(scope) for _, _, _, scope in options]
        for name, values in self.out.items():
            values[lo:hi] = chosen([output[name] for output in outputs])
        # settle._next_state: the winner's base and final payout are committed, a run's
        # claims' all at once; the alerts' burden and state are the run's last claim's
        def added(values) -> np.ndarray:
            values = claims.full(values)
            return values if claims.single else np.add.reduceat(values, starts)

        for i, base, final in self.commits[v]:
            self.state[f"c_{i}"][people] += added(winner(lambda scope: scope.values[base]))
            self.state[f"p_{i}"][people] += added(self.out[final][lo:hi])
        for (name, index) in options[0][3].state:
            last = claims.full(winner(lambda scope: scope.state[name, index]))
            self.state[f"{name}_{index}"][people] = last[ends]

    def _commit_once(self, settlement: ArraySettlement, v: int, lo: int, hi: int,
                     claims: ClaimArrays, once: "_ResultOnce", winners: dict[str, Any]) -> None:
        """The rest of :meth:`_settle` where the result phase is evaluated once, over the
        winners' figures (``winners``: node → each claim's winner's value, _ResultOnce)."""
        scope = settlement.evaluate(claims, None, winners, once.after)
        for name, values in settlement.outputs(scope).items():
            self.out[name][lo:hi] = values
        starts, rank = claims.starts, claims.arrays["rank"]
        if claims.single:   # a claim a person-year (most steps): its figures are the run's
            people, ends = rank, slice(None)
        else:
            people = rank[starts]
            ends = np.concatenate((starts[1:], [claims.count])) - 1

        def added(values) -> np.ndarray:
            values = claims.full(values)
            return values if claims.single else np.add.reduceat(values, starts)

        for i, base, final in self.commits[v]:
            self.state[f"c_{i}"][people] += added(scope.values[base])
            self.state[f"p_{i}"][people] += added(self.out[final][lo:hi])
        for (name, index), value in scope.state.items():
            self.state[f"{name}_{index}"][people] = claims.full(value)[ends]


class _ResultOnce:
    """A version's result phase evaluated once a step, over the winners' figures, rather
    than once a candidate and then chosen claim by claim: the result phase reads the
    candidate phase only through the winner's figures (result_phase.winner_parts), so
    over the winners' figures it is each claim's winner's.  At 10^5 synthetic Benxi
    claims a step evaluated 4.6 candidates on average, each with the result phase's 7
    nodes (two alerts' carried ledgers) and its outputs, then chose 16 columns among
    them; now 8 are chosen and the 7 nodes evaluated once.  The walk's CPU there, four
    processes each way interleaved, medians of 30 runs each (load 3-4): 34-41 → 26-31 ms.
    With the claim phase's values not chosen (``shared``) and a step of one claim a
    person-year committed as it is, ≈ 24 ms; the settle stage of a fresh process
    (24 interleaved, load 2.5-4, medians): 82 → 60 ms wall, 104 → 81 ms CPU; at 10^6
    (12): 421 → 366 ms CPU, the wall no longer (445 → 436 ms).

    ``before``: the stateful nodes each candidate evaluates; ``after``: those evaluated
    once; ``reads``: what the latter, ``outputs`` and the committed state read of the
    former (or of the ledger-free nodes), chosen; ``shared``: what they read of the claim
    phase, the same for every candidate (never chosen)."""

    def __init__(self, before: frozenset[str], after: frozenset[str], reads: tuple[str, ...],
                 shared: frozenset[str]):
        self.before, self.after, self.reads, self.shared = before, after, reads, shared

    def picked(self, scopes: list, chosen, winners: dict[str, Any]) -> dict[str, Any] | None:
        """``winners`` (the shared nodes' values) with each read node's winner's value,
        claim by claim; None where a node's value is a constant (lowering.Const, ByVisit)
        that differs between the candidates."""
        for node in self.reads:
            if node not in scopes[0].values:   # a line or alert the version lacks
                continue
            values = [scope.values[node] for scope in scopes]
            if all(isinstance(value, (np.ndarray, np.generic, int, bool)) for value in values):
                winners[node] = chosen(values)
            elif all(value == values[0] for value in values[1:]):
                winners[node] = values[0]
            else:
                return None
        return winners


def _result_once(settlement: ArraySettlement, stateful: frozenset[str]) -> _ResultOnce | None:
    """The version's :class:`_ResultOnce`, or None where the result phase reads the chosen
    identity itself (a referral limited to some identities), which the winners' figures
    do not give."""
    policy = settlement.policy
    after = frozenset(node.id for node in settlement.graph.phase(Phase.RESULT)
                      if node.id in stateful)
    nodes = {node.id: node for node in settlement.graph.order}
    if any(nodes[node].op is Op.REFERRAL and nodes[node].payload.identities is not None
           for node in after):
        return None
    # take highest's node answers the block's candidate without reading the totals
    reads = {source for node in after if nodes[node].op is not Op.TAKE_HIGHEST
             for _, source in nodes[node].inputs}
    reads |= _read_after(settlement) - {CANDIDATE_TOTAL}
    reads |= {winner_parts(policy, line.name)["base"] for line in policy.computed_lines}
    shared = frozenset(node.id for node in settlement.graph.phase(Phase.CLAIM)) & reads
    return _ResultOnce(stateful - after, after,
                       tuple(node for node in nodes
                             if node in reads and node not in after and node not in shared),
                       shared)


def step_slices(counts: np.ndarray, versions: np.ndarray) -> list[tuple[int, int]]:
    """The [lo, hi) slices of the claims in step order (``counts[s]``: step s's claims,
    their ``versions``, a version's together) that the walk settles one at a time: a
    step's claims of one version, whatever their routes.

    One slice a version, not one a route: a step costs its NumPy calls, some hundreds a
    slice and candidate, far more than its claims at 10^5 (a first step held 3,475
    claims in eight slices, seven of them one route each, 0.4 ms apiece).  Settled with
    the claims holding several candidates, a claim of one route is evaluated under each
    candidate the slice's claims hold and its winner is the one candidate it holds
    (take highest offers only held candidates; prepare.py routes a claim holding one to
    it), evaluated from the same carried state: the figures its own slice gives."""
    begins = np.zeros(len(versions) + 1, dtype=bool)
    begins[np.cumsum(counts)] = True
    begins[0] = True
    begins[1:-1] |= versions[1:] != versions[:-1]
    edges = np.flatnonzero(begins).tolist()
    return list(zip(edges[:-1], edges[1:]))


class _Rows(dict):
    """A step's claim columns, each sliced when an op first reads it (a step reads a few
    of the thirty or so): the claims [lo, hi) (those at ``rows`` of them, if given), and
    ``prev_<state>``, the state of their person-years before their run (by ``rank``)."""

    def __init__(self, claims: dict, state: dict, lo: int, hi: int,
                 rows: np.ndarray | None = None):
        super().__init__()
        self._claims, self._state = claims, state
        self._lo, self._hi, self._rows = lo, hi, rows

    def __missing__(self, name: str) -> np.ndarray:
        if name.startswith("prev_"):
            values = self._state[name[5:]][self["rank"]]
        else:
            values = self._claims[name][self._lo:self._hi]
            if self._rows is not None:
                values = values[self._rows]
        self[name] = values
        return values

    def __contains__(self, name) -> bool:
        return name in self._claims or (name.startswith("prev_") and name[5:] in self._state)


def _per_claim(value) -> bool:
    """A ledger-free node's value over every walked claim: one a claim (an array), or the
    same for all (a constant of the candidate, a 0-d array)?"""
    return isinstance(value, np.ndarray) and value.ndim == 1


def _read_after(settlement: ArraySettlement) -> set[str]:
    """The nodes read once a claim's graph is evaluated: by ``outputs``, take highest
    (each candidate's total) and the committed state (each line's base)."""
    policy = settlement.policy
    read = {TOTAL_PAID, PERSONAL_BURDEN, CANDIDATE_TOTAL}
    read |= {final_payout_id(policy, line.name) for line in policy.lines}
    read |= {winner_parts(policy, line.name)["base"] for line in policy.computed_lines}
    read |= {f"{alert.name}.alert" for alert in policy.alerts}
    read |= {f"{referral.name}.referral" for referral in policy.referrals}
    return read


def _take_highest(options, count: int) -> np.ndarray:
    """Each claim's winning option: the held one with the highest candidate total, ties
    to the first (the options are in declaration order).  An option evaluated over the
    claims at its ``rows`` (all when None) offers its total there."""
    if len(options) == 1:
        return np.zeros(count, dtype=np.int64)
    offers = []
    for _, held, rows, scope in options:
        total = scope.values[CANDIDATE_TOTAL]
        if rows is None:
            offers.append(np.where(held, total, _NO_OFFER))
        else:
            offer = np.full(count, _NO_OFFER, dtype=np.int64)
            offer[rows] = total
            offers.append(offer)
    best = np.maximum.reduce(offers)
    win = np.zeros(count, dtype=np.int64)
    for j in reversed(range(len(options))):   # the first at the best total is written last
        win[options[j][1] & (offers[j] == best)] = j
    return win


def _chooser(win: np.ndarray, subsets: list):
    """values (one per option, arrays or scalars) → each claim's winner's value; an
    option's values are over the claims at its rows in ``subsets`` (all when None)."""
    options = len(subsets)
    if any(rows is not None for rows in subsets):
        # each option's winning claims: where in the step, and where in its own values
        places = []
        for j, rows in enumerate(subsets):
            if rows is None:
                at = np.flatnonzero(win == j)
                places.append((at, at))
            else:
                mine = np.flatnonzero(win[rows] == j)
                places.append((rows[mine], mine))

        def assemble(values) -> np.ndarray:
            result = np.zeros(len(win), dtype=np.result_type(*values))
            for (at, mine), value in zip(places, values):
                result[at] = value[mine] if np.ndim(value) else value
            return result

        return assemble
    if options == 1 or not win.any():   # the first option wins every claim
        return lambda values: values[0]
    if options <= 32:   # np.choose's limit
        return lambda values: np.choose(win, values)
    conditions = [win == j for j in range(options)]
    return lambda values: np.select(conditions, [np.asarray(value) for value in values])
