"""The scalar evaluator: one claim through the graph, with an optional trace.

DOMAIN.md §3 is implemented here, op by op: exact money, rounding only of the
annual payout function G (half up, to the fen), year-to-date slices, annual
caps, the ratio ceiling, take highest with every candidate traced, alerts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

import attrs

from yibao.compiler.claims import Claim, ClaimError
from yibao.compiler.conditions import holds
from yibao.compiler.graph import EvaluationGraph, Node, Op, Phase
from yibao.compiler.ledger import AlertYearToDate, Ledger, LineYearToDate, PersonYear
from yibao.compiler.lower import CANDIDATE_TOTAL, PERSONAL_BURDEN, TOTAL_PAID, payout_id
from yibao.compiler.schedule import annual_payout
from yibao.compiler.trace import Step
from yibao.core.money import ZERO, floor_fen, round_fen, to_money
from yibao.dsl.model import NO_IDENTITY, BandSchedule, LineDef, Policy

SKIPPED = None  # the value of a node whose line does not apply to the claim


@attrs.frozen
class ClaimResult:
    claim_id: str
    policy: str
    identity: str | None
    payouts: tuple[tuple[str, Decimal], ...]
    total_paid: Decimal
    personal_burden: Decimal
    alerts: tuple[str, ...]
    referrals: tuple[str, ...]
    trace: tuple[Step, ...] = ()
    candidates: tuple[tuple[str | None, Decimal], ...] = ()

    def payout(self, line: str) -> Decimal:
        return dict(self.payouts)[line]


@attrs.define
class _Context:
    claim: Claim
    person_year: PersonYear
    candidate: str | None = None
    values: dict[str, Any] = attrs.field(factory=dict)


class EvaluationError(ClaimError):
    pass


class ScalarEvaluator:
    """Evaluates claims of one policy version against a shared ledger."""

    def __init__(self, graph: EvaluationGraph):
        self.graph = graph
        self.policy: Policy = graph.policy
        self.claim_nodes = graph.phase(Phase.CLAIM)
        self.candidate_nodes = graph.phase(Phase.CANDIDATE)
        self.result_nodes = graph.phase(Phase.RESULT)
        self.lines = {line.name: line for line in self.policy.lines}
        self._ops: dict[Op, Callable[[Node, _Context], Any]] = {
            Op.INPUT: self._input,
            Op.UPSTREAM: self._upstream,
            Op.IDENTITY: self._identity,
            Op.LOOKUP: self._lookup,
            Op.COVERS: self._covers,
            Op.DIFFERENCE: self._difference,
            Op.YEAR_TO_DATE: self._year_to_date,
            Op.SCHEDULE: self._schedule,
            Op.PER_UNIT: self._per_unit,
            Op.CAP: self._cap,
            Op.CEILING: self._ceiling,
            Op.SUM: self._sum,
            Op.TAKE_HIGHEST: self._take_highest,
            Op.ALERT: self._alert,
            Op.REFERRAL: self._referral,
        }

    # ---- the claim ----------------------------------------------------------------
    def evaluate(self, claim: Claim, ledger: Ledger, trace: bool = False) -> ClaimResult:
        from yibao.compiler.formulas import describe

        person_year = ledger.person_year(claim.person_id, claim.date.year)
        steps: list[Step] = []
        context = _Context(claim, person_year)
        for node in self.claim_nodes:
            context.values[node.id] = self._ops[node.op](node, context)
            if trace:
                steps.append(describe(node, context, self))
        shared = context.values
        outcomes = []
        for candidate in self.candidates(claim):
            candidate_context = _Context(claim, person_year, candidate, dict(shared))
            for node in self.candidate_nodes:
                candidate_context.values[node.id] = self._ops[node.op](node, candidate_context)
                if trace:
                    steps.append(describe(node, candidate_context, self))
            outcomes.append(candidate_context)
        winner = max(outcomes, key=lambda c: (c.values[CANDIDATE_TOTAL], -outcomes.index(c)))
        context = _Context(claim, person_year, winner.candidate, dict(winner.values))
        # From here on a line's payout is its final figure, after the ratio ceiling.
        for name, amount in self._final_payouts(winner).items():
            # keep what each line paid before the ceiling, for referrals and traces
            context.values[f"{name}.before_ceiling"] = context.values[payout_id(name)]
            context.values[payout_id(name)] = amount
        context.values["candidates"] = outcomes
        for node in self.result_nodes:
            context.values[node.id] = self._ops[node.op](node, context)
            if trace:
                steps.append(describe(node, context, self))
        self._commit(winner, person_year)
        return self._result(claim, context, outcomes, tuple(steps))

    def candidates(self, claim: Claim) -> list[str | None]:
        """Effective identities (after 参照执行), each once, in the policy's order."""
        effective = {self.policy.effective_identity(name) for name in claim.identities}
        if not effective:
            return [None]
        return sorted(effective, key=self.policy.identity_order)

    def _final_payouts(self, context: _Context) -> dict[str, Decimal]:
        values = context.values
        ceiling = values.get("ratio_ceiling")
        if ceiling is not None:
            return dict(ceiling)
        return {line.name: values[payout_id(line.name)] for line in self.policy.lines}

    def _commit(self, winner: _Context, person_year: PersonYear) -> None:
        finals = self._final_payouts(winner)
        for line in self.policy.computed_lines:
            if not winner.values[f"{line.name}.covered"]:
                continue
            ytd = person_year.lines.setdefault(line.name, LineYearToDate())
            span = winner.values.get(f"{line.name}.ytd")
            if span is not None:
                ytd.base = span[1]
            else:
                ytd.base += winner.values[f"{line.name}.base"]
            ytd.paid += finals[line.name]

    def _result(self, claim: Claim, context: _Context, outcomes, steps) -> ClaimResult:
        finals = self._final_payouts(context)
        fired = tuple(
            alert.name for alert in self.policy.alerts
            if context.person_year.alert(alert.name).fired
        )
        return ClaimResult(
            claim_id=claim.claim_id,
            policy=self.policy.policy_id,
            identity=context.candidate,
            payouts=tuple((name, to_money(amount)) for name, amount in finals.items()),
            total_paid=to_money(context.values[TOTAL_PAID]),
            personal_burden=to_money(context.values[PERSONAL_BURDEN]),
            alerts=fired,
            referrals=tuple(r.name for r in self.policy.referrals
                            if context.values[f"{r.name}.referral"]),
            trace=steps,
            candidates=tuple((c.candidate, c.values[CANDIDATE_TOTAL]) for c in outcomes),
        )

    # ---- ops ----------------------------------------------------------------------
    def _input(self, node: Node, context: _Context) -> Any:
        field = node.params["field"]
        claim = context.claim
        if node.params.get("declared"):
            return claim.field(field)
        return getattr(claim, field)

    def _upstream(self, node: Node, context: _Context) -> Decimal:
        amount = context.claim.paid_amount(node.params["line"])
        if amount is None:  # validation already rejects this; never read a missing payout as 0
            raise EvaluationError("C307", context.claim.claim_id, f"paid.{node.params['line']}",
                                  f"missing the upstream payout of {node.params['line']}")
        return amount

    def _identity(self, node: Node, context: _Context) -> str | None:
        return context.candidate

    def _covers(self, node: Node, context: _Context) -> bool:
        line: LineDef = node.params["line"]
        if context.claim.visit not in line.visits:
            return False
        if line.condition is not None and not holds(line.condition, context.claim.field):
            return False
        return line.covers_identity(context.candidate)

    def _lookup(self, node: Node, context: _Context) -> Any:
        if not context.values[node.input("covered")]:
            return SKIPPED
        sourced = node.params["table"].for_identity(context.candidate)
        if sourced is None:
            return SKIPPED
        if sourced.is_unspecified:
            clause = f"§{sourced.clause}" if sourced.clause else "its clause"
            note = f" ({sourced.note})" if sourced.note else ""
            raise EvaluationError(
                "C311", context.claim.claim_id, None,
                f"{node.params['table'].name} for {context.candidate or NO_IDENTITY} is unspecified "
                f"in {sourced.version or self.policy.policy_id} {clause}{note}; this claim needs it",
                "the notice leaves the value to another document: supply it in a revision "
                "or a base policy; yibao never invents it")
        return sourced.value

    def _difference(self, node: Node, context: _Context) -> Decimal:
        values = context.values
        covered = None
        result = None
        for role, source in node.inputs:
            if role == "covered":
                covered = values[source]
            elif role == "minuend":
                result = values[source]
            elif role == "subtrahend":
                result = result - values[source]
        if covered is False:
            return ZERO
        return result if result > 0 else ZERO

    def _year_to_date(self, node: Node, context: _Context):
        line_ytd = context.person_year.line(node.params["line"])
        if not context.values[node.input("covered")]:
            return (line_ytd.base, line_ytd.base)
        base = context.values[node.input("base")]
        return (line_ytd.base, line_ytd.base + base)

    def _schedule(self, node: Node, context: _Context) -> Decimal:
        values = context.values
        if not values[node.input("covered")]:
            return ZERO
        before, after = values[node.input("ytd")]
        rate = values[node.input("rate")]
        deductible = values.get(f"{node.params['line']}.deductible") or ZERO
        return round_fen(annual_payout(after, deductible, rate)) - round_fen(
            annual_payout(before, deductible, rate))

    def _per_unit(self, node: Node, context: _Context) -> Decimal:
        values = context.values
        if not values[node.input("covered")]:
            return ZERO
        units = values[node.input("units")] or 0
        amount = values[node.input("amount")] * units
        base = values[node.input("base")]
        return min(amount, base)

    def _cap(self, node: Node, context: _Context) -> Decimal:
        values = context.values
        if not values[node.input("covered")]:
            return ZERO
        payout = values[node.input("slice")]
        cap = values.get(f"{node.params['line']}.cap")
        if cap is not None:
            room = cap - context.person_year.line(node.params["line"]).paid
            payout = min(payout, room)
        return payout if payout > 0 else ZERO

    def _ceiling(self, node: Node, context: _Context) -> dict[str, Decimal]:
        params = node.params
        values = context.values
        finals = {name: values[payout_id(name)] for name in params["lines"]}
        if not self.ceiling_applies(params, context.claim):
            return finals
        # The bound is rounded down to the fen, so the combined share never exceeds it.
        limit = floor_fen(params["rate"] * context.claim.in_scope_cost)
        excess = sum(finals.values(), ZERO) - limit
        # The lines the policy names (by default the last, assistance) absorb the
        # reduction, last first; it is final: later claims never pay it back.
        for name in reversed(params["reduces"]):
            if excess <= 0:
                break
            cut = min(excess, finals[name])
            finals[name] -= cut
            excess -= cut
        return finals

    def ceiling_applies(self, params: dict, claim: Claim) -> bool:
        """The ceiling binds a person who holds a key-target identity, whichever identity
        wins take highest: holding another identity never lifts it (Xinjiang §四)."""
        if claim.visit not in params["visits"]:
            return False
        held = {self.policy.effective_identity(name) for name in claim.identities}
        return bool(held & set(params["identities"]))

    def _sum(self, node: Node, context: _Context) -> Decimal:
        values = context.values
        total = ZERO
        for role, source in node.inputs:
            value = values[source]
            if role == "chosen":
                total += sum((values[payout_id(line.name)]
                              for line in self.policy.computed_lines), ZERO)
            elif role == "total":
                continue
            elif isinstance(value, dict):
                total += sum(value.values(), ZERO)
            else:
                total += value
        return total

    def _take_highest(self, node: Node, context: _Context) -> str | None:
        return context.candidate

    def _alert(self, node: Node, context: _Context) -> bool:
        alert = node.params["alert"]
        claim = context.claim
        state = context.person_year.alerts.setdefault(alert.name, AlertYearToDate())
        if claim.visit in alert.visits:
            state.burden += context.values[node.input("burden")]
        if not state.fired and self.in_alert_group(alert, claim):
            threshold = alert.threshold.for_identity(claim.scheme)
            if threshold is not None and state.burden >= threshold.value:
                state.fired = True
        return state.fired

    def _referral(self, node: Node, context: _Context) -> bool:
        """Refer when a listed line's cap cut this claim's payout (the slice was larger)."""
        referral = node.params["referral"]
        if referral.identities is not None and context.candidate not in referral.identities:
            return False
        capped = self.capped_lines(referral, context)
        return bool(capped)

    def capped_lines(self, referral, context: _Context) -> list[str]:
        values = context.values
        return [line for line in referral.lines
                if values.get(f"{line}.covered") and values[f"{line}.slice"] > values.get(
                    f"{line}.before_ceiling", values[payout_id(line)])]

    def in_alert_group(self, alert, claim: Claim) -> bool:
        held = set(claim.identities) | {self.policy.effective_identity(i) for i in claim.identities}
        if not alert.group_excludes:
            return bool(held & set(alert.group))
        for other in self.policy.alerts:
            if other.name in alert.group and not other.group_excludes and held & set(other.group):
                return False
        return True


__all__ = ["ScalarEvaluator", "ClaimResult", "EvaluationError", "BandSchedule"]
