"""One claim in a fresh year, settled exactly over the evaluation graph, as a function of the burden.

Lint's settlement model is a visitor over the compiled :class:`EvaluationGraph`,
like the scalar evaluator, the SQL lowering and the renderer: one handler per
:class:`Op` (:data:`HANDLERS`; a test fails when an op has none), each running
the op's money rule from compiler/arithmetic.py in exact Fractions
(:class:`~yibao.lint.exact.FractionArithmetic`, no rounding).

The claim is the one lint's analyses reason about (docs/specification.md §6):
a person with nothing paid yet this year, of one :class:`ClaimKind` (identity,
visit, yes/no fields).  Which computed lines cover it is the COVERS nodes'
value on those inputs, through the condition semantics the evaluator uses
(compiler/conditions.py); the values a line applies are its LOOKUP nodes'
(the policy's tables, by identity and visit).  The burden B is what the
in-scope cost leaves after the upstream lines; they pay U in all (booked on
the first of them), so the in-scope cost is B + U.  Out-of-scope costs are taken as 0, so a base on ``total_cost`` sees
the in-scope cost.

Besides the payouts, a settlement lists its *switches*: the quantities whose
sign decides a kink (a base reaching a deductible or a band edge, a payout
reaching its cap, the ceiling's excess), recorded by the arithmetic in the
order the graph computes them.  Every payout is piecewise linear in B, with
kinks only where a switch changes sign; :mod:`yibao.lint.curves` uses them to
find every kink exactly.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable, Collection, Mapping

import attrs

from yibao.compiler.conditions import compile_condition, tree_fields
from yibao.compiler.arithmetic import capped, ceiling_cut, claim_slice, per_unit_payout
from yibao.compiler.graph import EvaluationGraph, Node, Op, Phase, handlers_by_op
from yibao.compiler.lower import difference_inputs, final_payout_id, payout_id, payout_inputs
from yibao.lint.exact import FractionArithmetic
from yibao.compiler.payloads import table_value
from yibao.dsl.model import UNSPECIFIED

ZERO = Fraction(0)

# The analyses read one candidate identity's settlement.  The result phase (take
# highest among candidates, the claim's totals, alerts, referrals) chooses and
# watches the year: no analysis reads it, and its clamps (the personal burden) are
# not kinks of any payout, so the model stops after the candidate's total.
MODELLED_PHASES = (Phase.CLAIM, Phase.CANDIDATE)


@attrs.frozen
class ClaimKind:
    """The modelled claim's inputs: one effective identity (the candidate, and the only
    identity the person holds), one visit and the yes/no fields that decide coverage (a
    field left out is not enumerated: a condition on it is taken as satisfiable).

    ``unknown`` names a line that covers such a claim but needs a value the notice leaves
    unspecified, with the value's word: the engine refuses such a claim (C311), and the
    analyses leave the line out, as if it did not cover the claim (lint/render.py reports
    it as not analysed)."""

    identity: str | None
    visit: str
    fields: tuple[tuple[str, bool], ...]
    unknown: tuple[tuple[str, str], ...]


@attrs.frozen
class Settlement:
    burden: Fraction
    upstream: Fraction
    payouts: tuple[tuple[str, Fraction], ...]          # every line, after the ceiling
    before_ceiling: tuple[tuple[str, Fraction], ...]   # computed lines, before it
    switches: tuple[Fraction, ...]

    @property
    def in_scope(self) -> Fraction:
        return self.burden + self.upstream

    @property
    def total(self) -> Fraction:
        return sum((amount for _, amount in self.payouts), ZERO)

    def payout(self, line: str) -> Fraction:
        return dict(self.payouts)[line]


@attrs.frozen
class _Claim:
    """What one handler may read besides its inputs' values: the modelled claim."""

    kind: ClaimKind
    left_out: frozenset[str]      # the lines whose values are unspecified (ClaimKind.unknown)
    burden: Fraction
    upstream: Fraction
    first_upstream: str | None
    arithmetic: FractionArithmetic

    @property
    def in_scope(self) -> Fraction:
        return self.burden + self.upstream


Handler = Callable[[Node, Mapping[str, Any], _Claim], Any]


class _Inputs(Mapping):
    """The values a node may read: its declared inputs only (the graph is the evaluated
    graph, so an analysis never reads a figure by naming convention)."""

    def __init__(self, node: Node, values: dict[str, Any]):
        self._node, self._values = node, values
        self._declared = frozenset(source for _, source in node.inputs)

    def __getitem__(self, node_id: str) -> Any:
        if node_id not in self._declared:
            raise KeyError(f"{self._node.id} reads {node_id}, which is not among its inputs")
        return self._values[node_id]

    def __iter__(self):
        return iter(self._declared)

    def __len__(self) -> int:
        return len(self._declared)


def visit(graph: EvaluationGraph, kind: ClaimKind, burden: Fraction,
          upstream: Fraction = ZERO, phases: tuple[Phase, ...] = MODELLED_PHASES,
          ops: Collection[Op] = frozenset(Op)) -> tuple[dict[str, Any], tuple[Fraction, ...]]:
    """Every node's exact value in ``phases`` for the modelled claim, and the switches.

    ``ops`` restricts the visit to nodes of those ops, which must read only each other:
    lint/scenarios.py reads coverage and the lines' values (INPUT, IDENTITY, COVERS,
    LOOKUP), which no money op precedes."""
    policy = graph.policy
    claim = _Claim(kind, frozenset(line for line, _ in kind.unknown), burden, upstream,
                   next((line.name for line in policy.upstream_lines), None),
                   FractionArithmetic([]))
    values: dict[str, Any] = {}
    for node in graph.order:
        if node.phase in phases and node.op in ops:
            values[node.id] = HANDLERS[node.op](node, _Inputs(node, values), claim)
    return values, tuple(claim.arithmetic.switches)


def settle(graph: EvaluationGraph, kind: ClaimKind, burden: Fraction,
           upstream: Fraction = ZERO) -> Settlement:
    """Every line's payout after the ceiling, the covering lines' before it, the switches."""
    values, switches = visit(graph, kind, burden, upstream)
    lines = [line.name for line in graph.policy.lines]
    finals = tuple((name, values[final_payout_id(graph.policy, name)]) for name in lines)
    before = tuple((node.line, values[payout_id(node.line)]) for node in graph.order
                   if node.op is Op.COVERS and values[node.id])
    return Settlement(burden, upstream, finals, before, switches)


# ---- one handler per op ----------------------------------------------------------

def _input(node: Node, values: Mapping, claim: _Claim) -> Any:
    field = node.payload.field
    if field in ("in_scope_cost", "total_cost"):
        return claim.in_scope            # out-of-scope costs are taken as 0
    if field == "visit":
        return claim.kind.visit
    if field == "identities":
        identity = claim.kind.identity
        return (identity,) if identity is not None else ()
    return dict(claim.kind.fields).get(field)   # a yes/no field (None: not enumerated)


def _upstream(node: Node, values: Mapping, claim: _Claim) -> Fraction:
    # U is booked on the first upstream line; the others pay nothing.
    return claim.upstream if node.payload.line == claim.first_upstream else ZERO


def _identity(node: Node, values: Mapping, claim: _Claim) -> str | None:
    return claim.kind.identity


def _covers(node: Node, values: Mapping, claim: _Claim) -> bool:
    # A line whose value is unspecified for the claim is left out: it pays nothing here.
    return node.line not in claim.left_out and covers(node, values)


def covers(node: Node, values: Mapping) -> bool:
    """A COVERS node's value from its inputs: the claim's visit is one the line covers,
    its condition holds on the fields (compiler/conditions.py, as the evaluator reads
    it), and the line covers the candidate identity (LineDef.covers_identity, from which
    the evaluator builds its table).  A field not enumerated (None) leaves the
    condition satisfiable: it is taken to hold."""
    payload = node.payload
    if values[node.input("visit")] not in payload.visits:
        return False
    if not payload.covers_identity(values[node.input("identity")]):
        return False
    if payload.condition is None:
        return True
    # The lowering gives the condition's fields as inputs in condition_fields' order.
    sources = [source for role, source in node.inputs if role == "field"]
    fields = {name: values[source]
              for name, source in zip(tree_fields(payload.condition), sources)}
    return None in fields.values() or compile_condition(payload.condition)(fields)


def _lookup(node: Node, values: Mapping, claim: _Claim) -> Any:
    """The line's value for the candidate identity (and the claim's visit, where an
    amendment names visits), as the evaluator reads it; None when the line does not
    cover the claim or states no value for the identity; UNSPECIFIED as it is (the
    scenario then leaves the line out)."""
    if not values[node.input("covered")]:
        return None
    table = node.payload
    identity = values[node.input("identity")]
    by_visit = _role(node, "visit")
    looked = (table.for_claim(identity, values[by_visit]) if by_visit
              else table_value(table.values, identity))
    if looked is None:
        return None
    return UNSPECIFIED if looked.unspecified is not None else looked.value


def _difference(node: Node, values: Mapping, claim: _Claim) -> Fraction:
    covered, minuend, subtrahends = difference_inputs(node)
    if covered is not None and not values[covered]:
        return ZERO   # an uncovered line's base: no switch, it never moves
    ar = claim.arithmetic
    return ar.clamp(ar.sub(values[minuend], ar.add([values[source] for source in subtrahends])))


def _year_to_date(node: Node, values: Mapping, claim: _Claim) -> tuple[Fraction, Fraction]:
    # A fresh year: nothing before this claim, so C_before = 0 and C_after is the base.
    if not values[node.input("covered")]:
        return (ZERO, ZERO)
    return (ZERO, values[node.input("base")])


def _schedule(node: Node, values: Mapping, claim: _Claim) -> Fraction:
    if not values[node.input("covered")]:
        return ZERO
    before, after = values[node.input("ytd")]
    deductible = values[_role(node, "deductible")] if _role(node, "deductible") else None
    rate = values[node.input("rate")]
    # No deductible for the identity is 0; no rate, a member the line pays nothing.
    # Unrounded, G(C_after) − G(C_before) = G(base): G(0) is 0 (compiler/arithmetic.py).
    return claim_slice(claim.arithmetic, before, after,
                       ZERO if deductible is None else deductible,
                       ZERO if rate is None else rate)


def _per_unit(node: Node, values: Mapping, claim: _Claim) -> Fraction:
    """Units are a claim field without bound, and more units never pay more than the base:
    the model's claim brings as many as its base pays for, base ÷ amount (none without an
    amount), so the line pays its whole base (docs/specification.md §5.4)."""
    if not values[node.input("covered")]:
        return ZERO
    amount, base = values[node.input("amount")], values[node.input("base")]
    units = base / Fraction(amount) if amount is not None and amount > 0 else ZERO
    return per_unit_payout(claim.arithmetic, ZERO if amount is None else amount, units, base)


def _cap(node: Node, values: Mapping, claim: _Claim) -> Fraction:
    if not values[node.input("covered")]:
        return ZERO
    ar = claim.arithmetic
    due = values[node.input("slice")]
    cap = values[_role(node, "cap")] if _role(node, "cap") else None
    if cap is None:
        return ar.clamp(due)
    return capped(ar, due, ar.const(cap), ZERO)   # a fresh year: the whole cap is room


def _role(node: Node, role: str) -> str | None:
    """The input with ``role``, or None when the line states no such value."""
    return next((source for name, source in node.inputs if name == role), None)


def _ceiling(node: Node, values: Mapping, claim: _Claim) -> dict[str, Fraction]:
    """Combined payouts ≤ rate × in-scope cost; the reduced lines absorb the excess, last
    first.  The engine rounds the bound down to the fen; here it is exact."""
    params = node.payload
    finals = {name: values[source]
              for name, source in zip(params.lines, payout_inputs(node))}
    if not ceiling_applies(params, values[node.input("visit")], values[node.input("identity")]):
        return finals
    return ceiling_cut(claim.arithmetic, finals, params.reduces,
                       values[node.input("in_scope_cost")], params.rate)


def ceiling_applies(params, visit: str, identity: str | None) -> bool:
    """The ceiling binds a claim of a visit it names, of a person holding an identity it
    names (Xinjiang §四): the modelled person holds the one effective identity."""
    return visit in params.visits and identity in params.identities


def _ceiling_cut(node: Node, values: Mapping, claim: _Claim) -> Fraction:
    return values[node.input("ceiling")][node.payload.line]


def _sum(node: Node, values: Mapping, claim: _Claim) -> Fraction:
    return claim.arithmetic.add([values[source] for source in payout_inputs(node)])


def _take_highest(node: Node, values: Mapping, claim: _Claim) -> Fraction:
    # One candidate (the scenario's identity) is the highest: the value is its total.
    return values[node.input("total")]


def _alert(node: Node, values: Mapping, claim: _Claim) -> None:
    return None   # an alert watches the year's cumulative burden: never a payout


def _referral(node: Node, values: Mapping, claim: _Claim) -> None:
    return None   # a case review (一事一议) is decided by people: never a payout


HANDLERS: dict[Op, Handler] = handlers_by_op(globals())
