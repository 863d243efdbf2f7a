"""The evaluation graph over arrays: one method per :class:`Op`, a whole segment at once.

The fourth visitor over the graph (after the scalar evaluator, the renderer and the
SQL lowering).  A candidate is *static* for a block of claims, so a lookup by
identity is a constant.  The ledger is passed in, as in the SQL lowering
(backends/columnar/ledgers.py): for the claims the SQL settles with window
functions — each person-year keeps one candidate and one policy version all year
(backends/prepare.py routes them) — year-to-date figures are running sums over
the person-year's claims, which arrive sorted by person-year and date
(:class:`ClaimArrays`, ``WindowLedger``: a line's cumulative base is the running
sum of its bases; a capped line pays min(cap, S_after) − min(cap, S_before) with S
the running sum of its uncapped slices; an alert fires once the running burden
reaches its threshold).  For the walk's claims, one a person-year in a block,
``CarriedLedger`` reads the state the person-year's earlier claims left
(backends/columnar/walk.py).  Each op's money rule is compiler/arithmetic.py's,
instantiated with :class:`~yibao.backends.columnar.arithmetic.ArrayArithmetic`.

Values are NumPy arrays (int64 fen, or bool), Python ints or bools that
broadcast, or :class:`~yibao.backends.lowering.Const` / ``ByVisit`` for what is
known before the claims are read, as the SQL lowering holds them.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any, Callable

import numpy as np

from yibao.backends.columnar.arithmetic import ArrayArithmetic, policy_fen
from yibao.backends.columnar.ledgers import WindowLedger
from yibao.backends.columns import ClaimColumns, ExactRate, fen
from yibao.backends.lowering import ByVisit, Const, looked_up
from yibao.compiler import arithmetic
from yibao.compiler.graph import EvaluationGraph, Node, Op, Phase, methods_by_op
from yibao.compiler.lower import (PERSONAL_BURDEN, TOTAL_PAID, difference_inputs, final_payout_id,
                                 payout_inputs, referral_checks)


# ---- the graph's parameters, read in one place (the node's payload, compiler/payloads.py)
def _param(node: Node, name: str, default: Any = None) -> Any:
    return getattr(node.payload, name, default)


def _line_name(node: Node) -> str:
    return node.payload.line


_CLAIM_MONEY = {"in_scope_cost": "in_scope_fen", "total_cost": "total_fen"}


# claims in a block up to which a constant is filled in rather than broadcast (ClaimArrays.full)
SMALL = 4096
_NO_DEDUCTIBLE = Decimal(0)   # made once: annual_payout's cache hashes it at every call

# the ops that read the ledger (year-to-date state): every other op's values for a claim
# come from the claim and the op's inputs alone
LEDGER_OPS = frozenset({Op.YEAR_TO_DATE, Op.CAP, Op.ALERT})


class ClaimArrays:
    """One block of claims sorted by person-year, then claim order (``py``, ``ord``).

    ``arrays``: column → NumPy array (money in fen, nulls already filled by the
    caller); ``visit_codes``/``visits``: the visit column dictionary-encoded.

    ``order``: when given, the claims lie in another order (the window path keeps a
    block's claims in input order, so that gathering their columns reads memory
    forwards), and ``order`` lists the claims in (person-year, claim order) order,
    ``py`` being their person-years in that order; only the running sums read it."""

    def __init__(self, arrays: dict[str, np.ndarray], visit_codes: np.ndarray,
                 visits: list[str], py: np.ndarray, order: np.ndarray | None = None):
        self.arrays = arrays
        self.visit_codes = visit_codes
        self.visits = visits
        self.count = len(py)
        self._order = order
        starts = np.flatnonzero(np.concatenate(([True], py[1:] != py[:-1]))) if len(py) else (
            np.zeros(0, dtype=np.int64))
        self._starts = starts
        # every person-year has one claim here (most of the walk's steps): a running sum
        # is the value itself
        self.single = len(starts) == self.count
        self._visit_masks: dict[tuple[str, ...], np.ndarray | bool] = {}
        # condition tree (the graph's form) → its mask: the same condition guards several
        # lines and is asked for every candidate (the C311 needs ask it 13 times a batch)
        self.conditions: dict[tuple, np.ndarray] = {}

    def value(self, name: str):
        """A claim column as an input node's value.  The claims table keeps only the
        columns the window statement reads (backends/plan.py _stored_columns): another
        is read by no op here either, and stands as an unknown."""
        return self.arrays[name] if name in self.arrays else Const(None)

    @property
    def starts(self) -> np.ndarray:
        """Where each person-year's claims begin in the block."""
        return self._starts

    def column(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def running(self, values) -> np.ndarray:
        """The running sum over each person-year, this claim included (SQL's
        SUM(...) OVER (PARTITION BY py ORDER BY ord)): one cumulative sum over the block,
        each person-year's first claim less the person-year before it's total, so the
        sum starts again at each person-year (cheaper than taking the earlier
        person-years' totals off every claim, which spreads them with np.repeat)."""
        values = self.full(values, np.int64)
        if self.single:
            return values
        if self._order is None:
            return self._running_sorted(values)
        # summed in (person-year, claim order) order and put back where the claims lie:
        # two permutations within a block, which fits in the cache
        summed = np.empty(self.count, dtype=np.int64)
        summed[self._order] = self._running_sorted(values[self._order], fresh=True)
        return summed

    def _running_sorted(self, values: np.ndarray, fresh: bool = False) -> np.ndarray:
        """``fresh``: ``values`` is a copy of the caller's, which may be written.

        Each person-year's first claim less the running total before it, then one
        cumulative sum: the totals come from a first cumulative sum at the person-years'
        ends (np.add.reduceat costs more than a cumulative sum, by the segment)."""
        if len(self._starts) <= 1:
            return np.cumsum(values)
        before = np.cumsum(values)[self._starts[1:] - 1]   # the total up to each start
        reset = values if fresh else np.array(values)
        # np.diff(before, prepend=0) in two calls: np.diff is a Python function, whose
        # own work cost more than its kernels over the walk's small steps
        totals = before.copy()
        totals[1:] -= before[:-1]
        reset[self._starts[1:]] -= totals
        return np.cumsum(reset, out=reset)

    def full(self, values, dtype=None) -> np.ndarray:
        """``values`` as one a claim: an array of the block's claims as it is (converted
        to ``dtype``), a constant broadcast, or, over a small block, filled in
        (np.broadcast_to costs more than filling a walk step's few claims)."""
        if isinstance(values, np.ndarray) and values.shape == (self.count,):
            return values if dtype is None or values.dtype == dtype else values.astype(dtype)
        if self.count <= SMALL:
            return np.full(self.count, values, dtype=dtype)
        return np.broadcast_to(np.asarray(values, dtype=dtype), (self.count,))

    def visit_in(self, visits) -> np.ndarray | bool:
        key = tuple(sorted(visits))
        if key not in self._visit_masks:
            codes = [i for i, visit in enumerate(self.visits) if visit in key]
            # one lookup a claim, by its visit's code (np.isin sorts or hashes instead);
            # the slot after the last answers -1, a visit not known (a row not admitted)
            wanted = np.zeros(len(self.visits) + 1, dtype=bool)
            wanted[codes] = True
            self._visit_masks[key] = wanted[self.visit_codes] if codes else False
        return self._visit_masks[key]


class Scope:
    """The values of one (version, candidate) over one block of claims."""

    def __init__(self, claims: ClaimArrays, candidate: str | None):
        self.claims = claims
        self.candidate = candidate
        self.values: dict[str, Any] = {}
        # line → (round(G(C_before)), round(G(C_after))): the slices telescope (ledgers.py)
        self.annual: dict[str, tuple[Any, Any]] = {}
        # (state, index) → value after this claim, for a ledger that carries state
        self.state: dict[tuple[str, int], Any] = {}


class ArraySettlement:
    """One policy version's graph, settled over arrays (``columns`` names the claim's);
    ``ledger`` supplies year-to-date state (backends/columnar/ledgers.py): running sums
    on the window path (the default), the carried state in the walk."""

    def __init__(self, graph: EvaluationGraph, columns: ClaimColumns, ledger=None):
        self.graph = graph
        self.policy = graph.policy
        self.columns = columns
        self.ledger = ledger if ledger is not None else WindowLedger()
        self._ops: dict[Op, Callable[[Node, Scope], Any]] = methods_by_op(self)
        # (node, its op's method) in evaluation order, phase by phase: the result phase
        # (after the candidate phase) reads the payouts after the ceiling (the
        # ceiling-cut nodes) as declared
        self._plan = tuple((node, self._ops.get(node.op))
                           for phase in (Phase.CLAIM, Phase.CANDIDATE, Phase.RESULT)
                           for node in graph.phase(phase))
        # what a difference, a ceiling or a sum reads, by node: looked up at every block
        self._differences = {node.id: difference_inputs(node) for node in graph.order
                             if node.op is Op.DIFFERENCE}
        self._payouts = {node.id: payout_inputs(node) for node in graph.order
                         if node.op in (Op.CEILING, Op.SUM)}
        self._released = self._release_plan()

    @property
    def ops(self) -> frozenset[Op]:
        return frozenset(self._ops)

    # ---- a block ------------------------------------------------------------------------
    def settle(self, claims: ClaimArrays, candidate: str | None,
               extra: dict[str, str] | None = None) -> dict[str, Any]:
        """Output column (backends/result_phase.py settled_columns, but ``idx``,
        ``version`` and ``cand``) → its values for the block, and ``extra``'s nodes' values
        under its keys (key → node id).  Each node's values are let go once the last node
        that reads them is worked out (:meth:`_release_plan`): a window block holds some
        50 arrays a claim otherwise, the run's peak and, past the cache, its memory
        traffic."""
        scope = Scope(claims, candidate)
        values = scope.values
        released_after = self._released if not extra else self._released_keeping(
            frozenset(extra.values()))
        for (node, op), released in zip(self._plan, released_after):
            values[node.id] = op(node, scope)
            for gone in released:
                del values[gone]
        outputs = self.outputs(scope)
        if extra:
            outputs.update((key, values[node]) for key, node in extra.items())
        return outputs

    def _released_keeping(self, nodes: frozenset[str]) -> tuple[tuple[str, ...], ...]:
        """:meth:`_release_plan` keeping ``nodes`` too, made once a set."""
        plans = self.__dict__.setdefault("_release_plans", {})
        if nodes not in plans:
            plans[nodes] = self._release_plan(nodes)
        return plans[nodes]

    def _release_plan(self, also: frozenset[str] = frozenset()) -> tuple[tuple[str, ...], ...]:
        """For each node of the plan, the nodes no later node reads, nor ``outputs`` (nor
        ``also``): their values may go once it is worked out."""
        policy, columns = self.policy, self.columns
        lines = {line.name for line in policy.lines}
        kept = {TOTAL_PAID, PERSONAL_BURDEN, *also}
        kept |= {final_payout_id(policy, line) for line in (*columns.computed, *columns.upstream)
                 if line in lines}
        kept |= {f"{name}.alert" for name in columns.alerts}
        kept |= {f"{name}.referral" for name in columns.referrals}
        last = {node.id: i for i, (node, _) in enumerate(self._plan)}   # unread: at once
        for i, (node, _) in enumerate(self._plan):
            for _, source in node.inputs:
                last[source] = i
        released: list[list[str]] = [[] for _ in self._plan]
        for name, i in last.items():
            if name not in kept:
                released[i].append(name)
        return tuple(tuple(names) for names in released)

    def evaluate(self, claims: ClaimArrays, candidate: str | None,
                 known: dict[str, Any] | None = None,
                 only: frozenset[str] | None = None) -> Scope:
        """Every node's values for the block with ``candidate`` as the winner.  The claim
        phase does not read the candidate, and the result phase reads the candidate
        phase only through the winner's figures (result_phase.winner_parts), so this is
        the result phase over the winner wherever ``candidate`` wins (the walk's take
        highest picks among these scopes claim by claim).

        ``known``: node id → its values for the block, worked out already and not
        evaluated again; ``only``: evaluate these nodes and no other (the walk works
        out its :attr:`ledger_free` nodes once for all its claims)."""
        scope = Scope(claims, candidate)
        values = scope.values
        if known:
            values.update(known)
        plan = self._plan if only is None else self._only_plan(only)
        for node, op in plan:
            if node.id not in values:
                values[node.id] = op(node, scope)
        return scope

    def _only_plan(self, only: frozenset[str]) -> tuple:
        """The plan's nodes in ``only``, kept per set (the walk asks with one set a step)."""
        plans = self.__dict__.setdefault("_only_plans", {})
        plan = plans.get(only)
        if plan is None:
            plan = plans[only] = tuple((node, op) for node, op in self._plan if node.id in only)
        return plan

    @functools.cached_property
    def ledger_free(self) -> frozenset[str]:
        """The nodes that read no year-to-date state, directly or through their inputs:
        a claim's values there do not depend on the claims before it."""
        reads_ledger: set[str] = set()
        for node in self.graph.order:
            if node.op in LEDGER_OPS or any(source in reads_ledger for _, source in node.inputs):
                reads_ledger.add(node.id)
        return frozenset(node.id for node in self.graph.order if node.id not in reads_ledger)

    def outputs(self, scope: Scope) -> dict[str, Any]:
        """As backends/result_phase.py's ``outputs``: a line the version lacks pays 0, an
        upstream line it lacks passes the claim's own figure through."""
        values, columns = scope.values, self.columns
        lines = {line.name for line in self.policy.lines}
        result: dict[str, Any] = {}
        for line in columns.computed:
            result[columns.settled("fin", line)] = (
                values[final_payout_id(self.policy, line)] if line in lines else 0)
        for line in columns.upstream:
            result[columns.final_upstream(line)] = (
                values[final_payout_id(self.policy, line)] if line in lines
                else scope.claims.column(columns.upstream_column(line)))
        result["total_paid"] = values[TOTAL_PAID]
        result["personal_burden"] = values[PERSONAL_BURDEN]
        for index, name in enumerate(columns.alerts):
            result[f"alert_{index}"] = values.get(f"{name}.alert", False)
        for index, name in enumerate(columns.referrals):
            result[f"referral_{index}"] = values.get(f"{name}.referral", False)
        return result

    # ---- claim-level helpers ----------------------------------------------------------
    def _holds(self, claims: ClaimArrays, identities) -> np.ndarray | bool:
        """Does the claim hold (after 参照执行) one of ``identities``?"""
        wanted = set(identities)
        held: np.ndarray | bool = False
        for identity in self.policy.identities:
            if self.policy.effective_identity(identity.name) in wanted:
                held = held | claims.column(self.columns.has_column(identity.name))
        return held

    def _condition(self, claims: ClaimArrays, tree: tuple):
        """compiler/conditions.compile_condition over arrays, on the graph form of the
        condition: a field is true when truthy (a missing one is false, as the SQL's
        COALESCE).  Worked out once a block (``claims.conditions``); the mask is shared,
        never written."""
        mask = claims.conditions.get(tree)
        if mask is None:
            mask = claims.conditions[tree] = self._condition_mask(claims, tree)
        return mask

    def _condition_mask(self, claims: ClaimArrays, tree: tuple):
        if tree[0] == "field":
            values = claims.column(self.columns.field_column(tree[1]))
            return values if values.dtype == bool else values != 0
        if tree[0] == "not":
            return ~np.asarray(self._condition(claims, tree[1]))
        parts = [self._condition(claims, o) for o in tree[1:]]
        combine = np.logical_and if tree[0] == "all" else np.logical_or
        # pairwise: reduce over a list first copies the parts into one 2-D array
        return functools.reduce(combine, parts)

    # ---- ops ----------------------------------------------------------------------------
    def _input(self, node: Node, scope: Scope):
        field = _param(node, "field")
        if _param(node, "declared"):
            return scope.claims.value(self.columns.field_column(field))
        if field in _CLAIM_MONEY:
            return scope.claims.value(_CLAIM_MONEY[field])
        return Const(None)   # visit, scheme, identities: read by the ops that need them

    def _upstream(self, node: Node, scope: Scope):
        return scope.claims.value(self.columns.upstream_column(_line_name(node)))

    def _identity(self, node: Node, scope: Scope):
        return Const(scope.candidate)

    def _lookup(self, node: Node, scope: Scope):
        uncovered = _is_false(scope.values[node.input("covered")])
        return looked_up(node, uncovered, scope.candidate)

    def _covers(self, node: Node, scope: Scope):
        payload = node.payload
        if not payload.covers_identity(scope.candidate):
            return False
        covered = scope.claims.visit_in(payload.visits)
        if payload.condition is not None:
            covered = covered & self._condition(scope.claims, payload.condition)
        return covered

    def _difference(self, node: Node, scope: Scope):
        values = scope.values
        covered_id, minuend, subtrahends = self._differences[node.id]
        covered = values[covered_id] if covered_id is not None else None
        if covered is not None and _is_false(covered):
            return 0
        result = values[minuend]
        for subtrahend in subtrahends:
            result = result - values[subtrahend]
        result = np.maximum(result, 0)
        return result if covered is None else np.where(covered, result, 0)

    def _year_to_date(self, node: Node, scope: Scope):
        base = scope.values[node.input("base")]
        return self.ledger.year_to_date(scope, _line_name(node), base)

    def _schedule(self, node: Node, scope: Scope):
        values = scope.values
        line = _line_name(node)
        covered = values[node.input("covered")]
        rate = values[node.input("rate")]
        deductible = _optional(node, "deductible", values)
        if isinstance(rate, ByVisit) or isinstance(deductible, ByVisit):
            return self._schedule_by_visit(node, scope, covered, rate, deductible)
        if _is_false(covered) or rate.value is None:
            return 0
        before, after = values[node.input("ytd")]
        payout = annual_payout(rate.value, deductible.value or _NO_DEDUCTIBLE)
        if isinstance(before, np.ndarray) and isinstance(after, np.ndarray):
            # G of both in one pass over a 2-row array: half the NumPy calls (G is
            # element-wise), which is most of a small step's cost in the walk
            # (np.concatenate: np.stack is a Python function, dearer than a small G)
            paid_before, paid_after = payout(np.concatenate((before, after)).reshape(2, -1))
        else:
            paid_before, paid_after = payout(before), payout(after)
        scope.annual[line] = (paid_before, paid_after)
        return np.where(covered, paid_after - paid_before, 0)

    def _schedule_by_visit(self, node: Node, scope: Scope, covered, rate, deductible):
        """The claim's visit's G (an amendment naming visits, Lhasa §四(四)一): the slices
        no longer telescope, so no ``scope.annual`` and the cap reads their running sum."""
        if _is_false(covered):
            return 0
        before, after = scope.values[node.input("ytd")]
        named = [visit for visit, _ in (rate.visits if isinstance(rate, ByVisit) else ())]
        named += [visit for visit, _ in (deductible.visits if isinstance(deductible, ByVisit)
                                         else ()) if visit not in named]

        def value_at(value, visit):
            return value.at(visit) if isinstance(value, ByVisit) else value.value

        def slice_for(visit):
            applied = value_at(rate, visit)
            if applied is None:
                return 0
            payout = annual_payout(applied, value_at(deductible, visit) or _NO_DEDUCTIBLE)
            return payout(after) - payout(before)

        sliced = np.select([np.broadcast_to(scope.claims.visit_in([visit]), (scope.claims.count,))
                            for visit in named],
                           [slice_for(visit) for visit in named], slice_for(None))
        return np.where(covered, sliced, 0)

    def _per_unit(self, node: Node, scope: Scope):
        values = scope.values
        covered = values[node.input("covered")]
        amount = values[node.input("amount")].value
        if _is_false(covered) or amount is None:
            return 0
        paid = arithmetic.per_unit_payout(ArrayArithmetic(1), amount, values[node.input("units")],
                                          values[node.input("base")])
        return np.where(covered, paid, 0)

    def _cap(self, node: Node, scope: Scope):
        """What is left of the annual cap (the ledger's ``cap``)."""
        values = scope.values
        line = _line_name(node)
        covered = values[node.input("covered")]
        if _is_false(covered):
            return 0
        slice_ = values[node.input("slice")]
        cap = _optional(node, "cap", values).value
        if cap is None:
            return np.where(covered, slice_, 0)
        return np.where(covered, self.ledger.cap(scope, line, slice_, policy_fen(cap)), 0)

    def _ceiling(self, node: Node, scope: Scope):
        rate = Decimal(_param(node, "rate"))
        lines = _param(node, "lines")
        before = {name: scope.values[source]
                  for name, source in zip(lines, self._payouts[node.id])}
        _, denominator = rate.as_integer_ratio()
        finals = arithmetic.ceiling_cut(ArrayArithmetic(denominator), before,
                                        _param(node, "reduces"),
                                        scope.claims.column("in_scope_fen"), rate)
        applies = scope.claims.visit_in(_param(node, "visits")) & self._holds(
            scope.claims, _param(node, "identities"))
        return {name: np.where(applies, finals[name], before[name]) for name in lines}

    def _ceiling_cut(self, node: Node, scope: Scope):
        return scope.values[node.input("ceiling")][_param(node, "line")]

    def _sum(self, node: Node, scope: Scope):
        values = scope.values
        total = 0
        for source in self._payouts[node.id]:
            total = total + values[source]
        return total

    def _take_highest(self, node: Node, scope: Scope):
        return Const(scope.candidate)   # the block's only candidate won

    def _alert(self, node: Node, scope: Scope):
        """The year's burden so far, fired once it reaches the claim's threshold (the
        ledger's ``alert``)."""
        alert = node.payload
        claims = scope.claims
        burden = scope.values[node.input("burden")]
        contribution = np.where(claims.visit_in(alert.visits), burden, 0)
        threshold = claims.column(self.columns.threshold_column(alert.name))
        return self.ledger.alert(scope, self.columns.alerts.index(alert.name), contribution,
                                 threshold)

    def _referral(self, node: Node, scope: Scope):
        referral = node.payload
        values = scope.values
        if referral.identities is not None and (
                values[node.input("chosen")].value not in referral.identities):
            return False
        referred: np.ndarray | bool = False
        for _, covered, slice_, payout in referral_checks(node):
            # a listed line's cap cut this claim: its slice is above its payout
            referred = referred | (values[covered] & (values[slice_] > values[payout]))
        return referred


def _optional(node: Node, role: str, values: dict) -> Any:
    """A declared input the node may lack (a line without a deductible or a cap)."""
    source = node.optional_input(role)
    return values[source] if source is not None else Const(None)


@functools.lru_cache(maxsize=256)
def annual_payout(rate, deductible: Decimal) -> Callable[[Any], Any]:
    """round(G(C)) in fen for cumulative bases C in fen: compiler/arithmetic.py's G.
    Kept per (rate, deductible): the walk asks at every step (both are frozen values)."""
    ar = ArrayArithmetic(ExactRate.of(rate).denominator)

    def payout(cumulative):
        return ar.round(arithmetic.annual_payout(ar, cumulative, deductible, rate))

    return payout


def largest_factor(graph: EvaluationGraph) -> int:
    """The largest number a fen amount is multiplied by in this graph: each rate's
    numerators (and twice a denominator, for rounding) and each per-unit amount; the
    engine checks with it that no figure leaves int64 (runner.fits_int64)."""
    factor = 2
    for node in graph.order:
        if node.op is Op.LOOKUP:
            for _, looked in node.payload.values:
                value = looked.value
                if value is None or looked.unspecified is not None:
                    continue
                if _param(node, "quantity") == "rate":
                    exact = ExactRate.of(value)
                    factor = max(factor, 2 * exact.denominator,
                                 *(2 * n + 2 * exact.denominator for _, _, n in exact.bands))
                elif _param(node, "quantity") == "per_unit":
                    factor = max(factor, fen(value))
        elif node.op is Op.CEILING:
            _, denominator = Decimal(_param(node, "rate")).as_integer_ratio()
            factor = max(factor, 2 * denominator)
    return factor


def _is_false(value) -> bool:
    return (value is False or (isinstance(value, np.bool_) and not value)
            or (isinstance(value, Const) and value.value is False))
