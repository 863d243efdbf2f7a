"""The compiled graph lowered to columnar SQL: one method per :class:`Op`.

This is the third visitor over the evaluation graph (after the scalar
evaluator and the graph renderer).  Each node becomes a named SQL expression
over the typed claims relation (backends/columns.py), computed for a whole
table of claims at once.  The candidate identity is *static*: the candidate
phase is lowered once per (policy version, candidate identity), so a lookup by
identity is a constant, and take highest compares the candidates' columns.

The ledger is passed in, as in the scalar evaluator: a
:class:`~yibao.backends.ledgers.WindowLedger` turns year-to-date figures into
window functions (one identity all year), a
:class:`~yibao.backends.ledgers.CarriedLedger` reads the previous claim's
state (the per-person walk).  Money is integer fen; rates are exact rationals.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

import attrs
from yibao.backends.sql import exp

from yibao.backends import sql, telescoping
from yibao.backends.arithmetic_sql import FEN, SqlArithmetic
from yibao.backends.columns import ClaimColumns, ExactRate, fen
from yibao.compiler import arithmetic
from yibao.backends.layers import Definition
from yibao.compiler.graph import EvaluationGraph, Node, Op, Phase, methods_by_op
from yibao.compiler.lower import difference_inputs, payout_inputs, referral_checks
from yibao.compiler.payloads import table_value
from yibao.dsl.model import Policy


@attrs.frozen
class Const:
    """A value known when lowering (a parameter looked up for the static candidate)."""

    value: Any


@attrs.frozen
class ByVisit:
    """A parameter that differs by the claim's visit (an amendment naming visits, Lhasa
    §四(四)一): ``visits`` gives the named visits' values, ``default`` the others'."""

    default: Any
    visits: tuple[tuple[str, Any], ...]

    def at(self, visit: str | None) -> Any:
        return dict(self.visits).get(visit, self.default) if visit is not None else self.default


@attrs.define
class Scope:
    """The columns of one (version, candidate) being lowered."""

    version: int
    policy: Policy
    candidate: str | None
    prefix: str
    ids: dict[str, int]                # node id → its position in the graph's order
    values: dict[str, Any] = attrs.field(factory=dict)
    definitions: list[Definition] = attrs.field(factory=list)
    # line → (round(G(C_before)), round(G(C_after))), for ledgers that use them
    annual: dict[str, tuple[exp.Expression, exp.Expression]] = attrs.field(factory=dict)
    # the winner's identity as a column, when it is chosen per claim (the walk)
    chosen: exp.Expression | None = None
    # (state, index) → value after this claim, for ledgers that carry state
    state: dict[tuple[str, int], exp.Expression] = attrs.field(factory=dict)
    # column → its linear form, line → running total of its payouts (backends/telescoping.py)
    linear: dict[str, Any] = attrs.field(factory=dict)
    cumulative: dict[str, tuple[exp.Expression, exp.Expression]] = attrs.field(factory=dict)
    # line → the expression of its coverage, for the window ledger's telescoped sums
    coverage: dict[str, exp.Expression] = attrs.field(factory=dict)
    _defined: dict[exp.Expression, str] = attrs.field(factory=dict)

    def define(self, node: Node, suffix: str, expression: exp.Expression) -> exp.Expression:
        if isinstance(expression, (exp.Literal, exp.Column, exp.Boolean)):
            return expression   # nothing to compute: no column
        if expression in self._defined:   # the same value twice (two lines' coverage, …)
            return sql.col(self._defined[expression])
        name = f"{self.prefix}n{self.ids[node.id]}_{suffix}"
        self.definitions.append(Definition(name, expression))
        self._defined[expression] = name
        return sql.col(name)


def looked_up(node: Node, uncovered: bool, candidate: str | None) -> Const | ByVisit:
    """A LOOKUP node's value for one candidate, known when the claims are batched: a
    constant, or one by visit where an amendment names visits; None where the line
    covers none of the claims (``uncovered``, as each engine reads its coverage).  The
    SQL lowering and the columnar engine both read it."""
    if uncovered:
        return Const(None)
    table = node.payload
    default = _known(table_value(table.values, candidate))
    named = tuple((visit, _known(table.for_claim(candidate, visit)))
                  for visit, _ in table.by_visit)
    if all(value == default for _, value in named):
        return Const(default)
    return ByVisit(default, named)


class ColumnarLowering:
    """Lowers one policy version's graph; ``ledger`` supplies year-to-date state."""

    def __init__(self, graph: EvaluationGraph, version: int, columns: ClaimColumns, ledger):
        self.graph = graph
        self.policy = graph.policy
        self.version = version
        self.columns = columns
        self.ledger = ledger
        self._ids = {node.id: index for index, node in enumerate(graph.order)}
        self._ops: dict[Op, Callable[[Node, Scope], Any]] = methods_by_op(self)

    @property
    def ops(self) -> frozenset[Op]:
        return frozenset(self._ops)

    # ---- phases -----------------------------------------------------------------------
    def claim_scope(self, candidate: str | None, prefix: str) -> Scope:
        scope = Scope(self.version, self.policy, candidate, prefix, self._ids)
        for node in self.graph.phase(Phase.CLAIM):
            scope.values[node.id] = self._ops[node.op](node, scope)
        return scope

    def lower_candidate(self, candidate: str | None, prefix: str) -> Scope:
        scope = self.claim_scope(candidate, prefix)
        for node in self.graph.phase(Phase.CANDIDATE):
            scope.values[node.id] = self._ops[node.op](node, scope)
        return scope

    def lower_settlement(self, candidate: str | None, prefix: str) -> Scope:
        """Candidate and result phases for a claim whose only candidate is ``candidate``."""
        scope = self.lower_candidate(candidate, prefix)
        return self._result_phase(scope, {})

    def lower_result(self, winner: dict[str, Any], chosen: exp.Expression, prefix: str) -> Scope:
        """The result phase over the winner's columns (``winner``: node id → value, as the
        scalar evaluator's result context holds them) and the chosen identity's column."""
        scope = self.claim_scope(None, prefix)
        scope.chosen = chosen
        return self._result_phase(scope, winner)

    def _result_phase(self, scope: Scope, winner: dict[str, Any]) -> Scope:
        scope.values.update(winner)
        for node in self.graph.phase(Phase.RESULT):
            scope.values[node.id] = self._ops[node.op](node, scope)
        return scope

    def lower_node(self, node: Node, scope: Scope) -> Any:
        return self._ops[node.op](node, scope)

    # ---- claim-level helpers ----------------------------------------------------------
    def holds(self, identities) -> exp.Expression:
        """Does the claim hold (after 参照执行) one of ``identities``?"""
        wanted = set(identities)
        return sql.any_of([sql.col(self.columns.has_column(i.name)) for i in self.policy.identities
                           if self.policy.effective_identity(i.name) in wanted])

    def condition(self, tree: tuple) -> exp.Expression:
        return condition_sql(self.columns, self.policy, tree)

    # ---- ops ----------------------------------------------------------------------------
    def _input(self, node: Node, scope: Scope):
        field = node.payload.field
        if node.payload.declared:
            return sql.col(self.columns.field_column(field))
        claim_columns = {"in_scope_cost": "in_scope_fen", "total_cost": "total_fen",
                         "visit": "visit", "scheme": "scheme"}
        if field in claim_columns:
            return sql.col(claim_columns[field])
        return Const(None)   # the identities: read through has_<i> by the ops that need them

    def _upstream(self, node: Node, scope: Scope):
        return sql.col(self.columns.upstream_column(node.payload.line))

    def _identity(self, node: Node, scope: Scope):
        return Const(scope.candidate)

    def _lookup(self, node: Node, scope: Scope):
        uncovered = _is_false(scope.values[node.input("covered")])
        return looked_up(node, uncovered, scope.candidate)

    def _covers(self, node: Node, scope: Scope):
        payload = node.payload
        if not payload.covers_identity(scope.candidate):
            return exp.false()
        tests = [sql.one_of(sql.col("visit"), payload.visits)]
        if node.payload.condition is not None:
            tests.append(exp.paren(self.condition(node.payload.condition)))
        covered = scope.coverage[node.line] = scope.define(node, "covered", sql.all_of(tests))
        return covered

    def _difference(self, node: Node, scope: Scope):
        values = scope.values
        covered_id, minuend_id, subtrahend_ids = difference_inputs(node)
        covered = values[covered_id] if covered_id is not None else None
        if covered is not None and _is_false(covered):
            return sql.num(0)
        minuend, subtrahends = values[minuend_id], [values[s] for s in subtrahend_ids]
        result = minuend
        for subtrahend in subtrahends:
            result = exp.Sub(this=result, expression=subtrahend)
        result = sql.positive(result)
        if covered is not None:
            result = sql.when(covered, result, sql.num(0))
        value = scope.define(node, "value", result)
        # Never negative without the clamp: what the lines leave of a claim (each pays at
        # most its base), and the burden after payouts (validation bounds them by the bill).
        if (node.payload.remaining or node.phase is Phase.RESULT) and isinstance(
                value, exp.Column):
            form = telescoping.difference(scope, minuend, subtrahends, covered)
            if form is not None:
                scope.linear[value.name] = form
        return value

    def _year_to_date(self, node: Node, scope: Scope):
        base = scope.values[node.input("base")]
        return self.ledger.year_to_date(node, scope, node.payload.line, base)

    def _schedule(self, node: Node, scope: Scope):
        values = scope.values
        covered = values[node.input("covered")]
        rate = values[node.input("rate")]
        deductible_id = node.optional_input("deductible")
        deductible = values[deductible_id] if deductible_id else Const(None)
        if isinstance(rate, ByVisit) or isinstance(deductible, ByVisit):
            return self._schedule_by_visit(node, scope, covered, rate, deductible)
        rate = rate.value
        if _is_false(covered) or rate is None:
            return sql.num(0)
        before, after = values[node.input("ytd")]
        payout = annual_payout(rate, deductible.value or Decimal(0))
        paid_before = scope.define(node, "annual_before", payout(before))
        paid_after = scope.define(node, "annual_after", payout(after))
        scope.annual[node.payload.line] = (paid_before, paid_after)
        return scope.define(node, "slice", sql.when(
            covered, exp.Sub(this=paid_after, expression=paid_before), sql.num(0)))

    def _schedule_by_visit(self, node: Node, scope: Scope, covered, rate, deductible):
        """round(G(C_after)) − round(G(C_before)) with the claim's visit's G.  The slices
        no longer telescope to one G, so no ``scope.annual``: the ledger caps the running
        sum of the slices instead (backends/ledgers.py), exactly as the scalar path."""
        if _is_false(covered):
            return sql.num(0)
        before, after = scope.values[node.input("ytd")]
        named = [visit for visit, _ in (rate.visits if isinstance(rate, ByVisit) else ())]
        named += [visit for visit, _ in (deductible.visits if isinstance(deductible, ByVisit)
                                         else ()) if visit not in named]

        def value_at(value, visit):
            return value.at(visit) if isinstance(value, ByVisit) else value.value

        def slice_for(visit) -> exp.Expression:
            applied = value_at(rate, visit)
            if applied is None:
                return sql.num(0)
            payout = annual_payout(applied, value_at(deductible, visit) or Decimal(0))
            return exp.Sub(this=payout(after.copy()), expression=payout(before.copy()))

        branches = [(sql.col("visit").eq(sql.text(visit)), slice_for(visit)) for visit in named]
        return scope.define(node, "slice", sql.when(
            covered, sql.case(branches, slice_for(None)), sql.num(0)))

    def _per_unit(self, node: Node, scope: Scope):
        values = scope.values
        covered = values[node.input("covered")]
        amount = values[node.input("amount")].value
        if _is_false(covered) or amount is None:
            return sql.num(0)
        units = exp.func("COALESCE", values[node.input("units")], sql.num(0))
        slice_ = arithmetic.per_unit_payout(FEN, amount, units, values[node.input("base")])
        return scope.define(node, "slice", sql.when(covered, slice_, sql.num(0)))

    def _cap(self, node: Node, scope: Scope):
        values = scope.values
        covered = values[node.input("covered")]
        if _is_false(covered):
            return sql.num(0)
        cap_id = node.optional_input("cap")
        cap = values[cap_id].value if cap_id else None
        paid = self.ledger.cap(node, scope, node.payload.line, values[node.input("slice")],
                               None if cap is None else fen(cap), covered)
        if isinstance(paid, exp.Column):
            scope.linear[paid.name] = telescoping.Linear(sql.num(0), ((node.payload.line, 1),))
        return paid

    def _ceiling(self, node: Node, scope: Scope):
        params = node.payload
        before = {name: scope.values[source]
                  for name, source in zip(params.lines, payout_inputs(node))}
        # floor_fen(rate × in-scope cost): the bound is never exceeded (Xinjiang §四).
        _, denominator = Decimal(params.rate).as_integer_ratio()
        finals = arithmetic.ceiling_cut(
            SqlArithmetic(denominator), before, params.reduces, sql.col("in_scope_fen"),
            Decimal(params.rate), lambda name, value: scope.define(node, name, value))
        applies = sql.all_of([sql.one_of(sql.col("visit"), params.visits),
                              exp.paren(self.holds(params.identities))])
        # A column for each line the ceiling reduces: the others pass through unchanged.
        return {name: scope.define(node, f"final{index}", sql.when(applies, finals[name],
                                                                   before[name]))
                for index, name in enumerate(params.lines) if name in params.reduces}

    def _ceiling_cut(self, node: Node, scope: Scope):
        # The ratio ceiling has defined each line's final figure as a column already.
        return scope.values[node.input("ceiling")][node.payload.line]

    def _sum(self, node: Node, scope: Scope):
        terms = [scope.values[source] for source in payout_inputs(node)]
        total = scope.define(node, "sum", sql.add(terms))
        form = telescoping.total(scope, terms)
        if form is not None and isinstance(total, exp.Column):
            scope.linear[total.name] = form
        return total

    def _take_highest(self, node: Node, scope: Scope):
        # The walk chooses per claim (backends/settle.py); otherwise the only candidate won.
        return scope.chosen if scope.chosen is not None else Const(scope.candidate)

    def _alert(self, node: Node, scope: Scope):
        alert = node.payload
        burden = scope.values[node.input("burden")]
        contribution = sql.when(sql.one_of(sql.col("visit"), alert.visits), burden, sql.num(0))
        threshold = sql.col(self.columns.threshold_column(alert.name))  # alert_threshold's
        return self.ledger.alert(node, scope, self.columns.alerts.index(alert.name),
                                 contribution, threshold, alert, telescoping.linear_of(scope, burden))

    def alert_threshold(self, alert) -> exp.Expression:
        """The claim's threshold for ``alert`` in fen, NULL outside the alert's group: a
        function of the claim alone (scheme, identities), worked out once before
        settlement as the claim's ``thr_<a>`` (backends/prepare.py), which routing
        reads too."""
        # Money is integer fen, so "over T" (threshold above, 超过) is "reaches T + 1 fen":
        # the ledgers compare with ≥ alone, and routing tells the two apart by the column.
        strict = 1 if alert.above else 0
        thresholds = [(sql.col("scheme").eq(sql.text(scheme)),
                       sql.num(fen(sourced.value) + strict))
                      for scheme, sourced in alert.threshold.items() if scheme is not None]
        fallback = alert.threshold.for_identity(None)
        default = (sql.num(fen(fallback.value) + strict) if fallback is not None
                   else sql.typed_null("BIGINT"))
        threshold = sql.case(thresholds, default) if thresholds else default
        return sql.when(self._alert_group(alert), threshold, sql.typed_null("BIGINT"))

    def _alert_group(self, alert) -> exp.Expression:
        """The claim's own identities put the person in the alert's group (docs/specification.md §17)."""
        def held(names) -> exp.Expression:
            wanted = set(names)
            return sql.any_of([
                sql.col(self.columns.has_column(i.name)) for i in self.policy.identities
                if i.name in wanted or self.policy.effective_identity(i.name) in wanted])

        if not alert.group_excludes:
            return held(alert.group)
        others = [held(other.group) for other in self.policy.alerts
                  if other.name in alert.group and not other.group_excludes]
        return sql.negate(exp.paren(sql.any_of(others)))

    def _referral(self, node: Node, scope: Scope):
        referral = node.payload
        tests = []
        if referral.identities is not None:
            chosen = scope.values[node.input("chosen")]
            tests.append(sql.boolean(chosen.value in referral.identities)
                         if isinstance(chosen, Const) else sql.one_of(chosen, referral.identities))
        values = scope.values
        capped = [sql.all_of([values[covered], values[slice_] > values[payout]])
                  for _, covered, slice_, payout in referral_checks(node)]
        tests.append(exp.paren(sql.any_of(capped)))
        return scope.define(node, "referred", sql.all_of(tests))


def condition_sql(columns: ClaimColumns, policy: Policy, tree: tuple) -> exp.Expression:
    """A condition on declared fields, in graph form (compiler/conditions.py condition_tree),
    as SQL: a field is true when truthy, as the scalar evaluator reads it."""
    kind = tree[0]
    if kind == "field":
        name = tree[1]
        column = sql.col(columns.field_column(name))
        field = policy.field(name)
        if field is not None and field.type == "bool":
            return exp.func("COALESCE", column, exp.false())
        return exp.func("COALESCE", column, sql.num(0)).neq(sql.num(0))
    if kind == "not":
        return sql.negate(exp.paren(condition_sql(columns, policy, tree[1])))
    parts = [exp.paren(condition_sql(columns, policy, o)) for o in tree[1:]]
    return sql.all_of(parts) if kind == "all" else sql.any_of(parts)


def annual_payout(rate, deductible: Decimal) -> Callable[[exp.Expression], exp.Expression]:
    """round(G(C)) in fen for a cumulative base C in fen: compiler/arithmetic.py's G,
    the scalar evaluator's, instantiated with SQL expressions."""
    ar = SqlArithmetic(ExactRate.of(rate).denominator)

    def payout(cumulative: exp.Expression) -> exp.Expression:
        return ar.round(arithmetic.annual_payout(ar, cumulative, deductible, rate))

    return payout


def _known(looked):
    """A parameter's value; None where it is missing or unspecified (a claim that needs an
    unspecified value is refused, C311, before settlement)."""
    return None if looked is None or looked.unspecified is not None else looked.value


def _is_false(value) -> bool:
    return isinstance(value, exp.Boolean) and not value.this or (
        isinstance(value, Const) and value.value is False)
