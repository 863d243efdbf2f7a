"""The scalar evaluator: one claim through the graph, with an optional trace.

docs/specification.md is implemented here, op by op: exact money, rounding only of the
annual payout function G (half up, to the fen), year-to-date slices, annual
caps, the ratio ceiling, take highest with every candidate traced, alerts.

Each op is a visitor method that, given a node, returns a small closure
reading the evaluation context; the graph is compiled to those closures once,
so settling a claim is a flat loop with no dispatch or lookups by name.  The
ledger is read by the ops and written only by :meth:`ScalarEvaluator._commit`,
with the figures of the identity that won take highest.
"""

from __future__ import annotations

import operator
from decimal import Decimal
from typing import Any, Callable, NamedTuple

import attrs

from yibao.runtime.awaited import CODE as AWAITED, awaited_values, refusal_words
from yibao.runtime.claims import Claim, ClaimError
from yibao.compiler.conditions import compile_condition, holds
from yibao.runtime.context import EvaluationContext
from yibao.compiler.graph import EvaluationGraph, Node, Op, Phase
from yibao.runtime.ledger import AlertYearToDate, Ledger, LineYearToDate, PersonYear
from yibao.compiler.lower import (
    CANDIDATE_TOTAL, PERSONAL_BURDEN, TOTAL_PAID, final_payout_id, payout_inputs, referral_checks,
)
from yibao.compiler.arithmetic import DECIMAL, capped as within_cap, ceiling_cut, claim_slice
from yibao.runtime.trace import Step
from yibao.runtime.tracing import step_writer
from yibao.core.money import ZERO
from yibao.dsl.model import NO_IDENTITY, SCHEMES, LineDef, Policy

SKIPPED = None  # the value of a lookup whose line does not apply to the claim


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


class AlertState(NamedTuple):
    """An alert node's value: the year's burden with this claim, and whether it is on.

    Immutable; a named tuple rather than an attrs class because every claim makes
    one per alert, and a tuple is built in a fraction of the time."""

    burden: Decimal
    counted: bool      # this claim's visit counts for the alert
    in_group: bool     # the claim's identities put the person in the alert's group
    fired: bool        # on for this claim (reached now, or earlier this year)


class EvaluationError(ClaimError):
    pass


def _tuple_getter(getter, names: list[str]) -> Callable[[Any], tuple]:
    """``getter(*names)`` that always returns a tuple, whatever the number of names."""
    if len(names) > 1:
        return getter(*names)
    if names:
        single = getter(names[0])
        return lambda source: (single(source),)
    return lambda source: ()


# A node's value when its line does not cover the claim: each op's closure below
# returns it first thing.  A YEAR_TO_DATE node is not here: it reads the ledger.
_UNCOVERED = {Op.LOOKUP: SKIPPED, Op.DIFFERENCE: ZERO, Op.SCHEDULE: ZERO,
              Op.PER_UNIT: ZERO, Op.CAP: ZERO}


Compiled = Callable[[EvaluationContext], Any]


class ScalarEvaluator:
    """Evaluates claims of one policy version against a shared ledger."""

    def __init__(self, graph: EvaluationGraph):
        self.graph = graph
        self.policy: Policy = graph.policy
        self.lines = {line.name: line for line in self.policy.lines}
        self.line_names = tuple(self.lines)
        self.computed_line_names = tuple(line.name for line in self.policy.computed_lines)
        compilers: dict[Op, Callable[[Node], Compiled]] = {
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
            Op.CEILING_CUT: self._ceiling_cut,
            Op.SUM: self._sum,
            Op.TAKE_HIGHEST: self._take_highest,
            Op.ALERT: self._alert,
            Op.REFERRAL: self._referral,
        }
        self._in_group: dict[tuple, bool] = {}   # (alert, claim identities) → in_alert_group
        self.ops = compilers  # the visitor: one method per op (tests check it is complete)
        self._plans = {
            phase: tuple((node.id, compilers[node.op](node), node) for node in graph.phase(phase))
            for phase in Phase
        }
        self._effective = {i.name: self.policy.effective_identity(i.name)
                           for i in self.policy.identities}
        # With a trace: each phase's nodes with the function that writes their step.
        self._traced = {phase: tuple((node_id, compiled, step_writer(node, self))
                                     for node_id, compiled, node in plan)
                        for phase, plan in self._plans.items()}
        # Node ids used on every claim, formatted once.
        self._final_ids = tuple((name, final_payout_id(self.policy, name))
                                for name in self.line_names)
        self._commit_ids = tuple((name, f"{name}.covered", f"{name}.ytd", f"{name}.base")
                                 for name in self.computed_line_names)
        self._alert_ids = tuple((alert.name, f"{alert.name}.alert") for alert in self.policy.alerts)
        self._referral_ids = tuple((r.name, f"{r.name}.referral") for r in self.policy.referrals)
        self._alert_groups = {alert.name: self._group_members(alert) for alert in self.policy.alerts}
        # Without a trace the claim's own fields, and the fields the policy declares,
        # are read in one call each (a claim phase of INPUT nodes is a third of the
        # graph); with one, node by node as the trace shows.
        claim_plan = self._plans[Phase.CLAIM]
        inputs = [(node_id, node.params["field"], bool(node.params.get("declared")))
                  for node_id, _, node in claim_plan if node.op is Op.INPUT]
        self._claim_input_ids = tuple(
            [node_id for node_id, _, declared in inputs if not declared]
            + [node_id for node_id, _, declared in inputs if declared])
        self._read_claim_attributes = _tuple_getter(
            operator.attrgetter, [field for _, field, declared in inputs if not declared])
        self._read_declared_fields = _tuple_getter(
            operator.itemgetter, [field for _, field, declared in inputs if declared])
        self._claim_rest = tuple((node_id, compiled) for node_id, compiled, node in claim_plan
                                 if node_id not in self._claim_input_ids)
        self._candidate_gated = self._gated(self._plans[Phase.CANDIDATE])
        # Without a trace: each phase's (node id, closure), the candidate phase gated.
        self._untraced = {
            phase: tuple((node_id, compiled) for node_id, compiled, _ in plan)
            for phase, plan in ((Phase.CANDIDATE, self._candidate_gated),
                                (Phase.RESULT, self._plans[Phase.RESULT]))}
        self._order = {i.name: index for index, i in enumerate(self.policy.identities)}

    # ---- the claim ----------------------------------------------------------------
    def evaluate(self, claim: Claim, ledger: Ledger, trace: bool = False) -> ClaimResult:
        if self.policy.awaits_base is not None:
            self._refuse_awaited(claim)
        person_year = ledger.person_year(claim.person_id, claim.date.year)
        steps: list[Step] | None = [] if trace else None
        context = EvaluationContext(claim, person_year)
        self._run(Phase.CLAIM, context, steps)
        candidates = self.candidates(claim)
        if len(candidates) == 1:
            # Most claims: one candidate, which carries on in the claim's own context.
            context.candidate = candidates[0]
            self._run(Phase.CANDIDATE, context, steps)
            winner = context
            context.candidates = ((winner.candidate, winner.values[CANDIDATE_TOTAL]),)
        else:
            outcomes = []
            for candidate in candidates:
                candidate_context = EvaluationContext(claim, person_year, candidate,
                                                      dict(context.values))
                self._run(Phase.CANDIDATE, candidate_context, steps)
                outcomes.append(candidate_context)
            winner = outcomes[0]
            for outcome in outcomes[1:]:  # strictly higher wins: ties go to the first declared
                if outcome.values[CANDIDATE_TOTAL] > winner.values[CANDIDATE_TOTAL]:
                    winner = outcome
            context = EvaluationContext(claim, person_year, winner.candidate, dict(winner.values),
                               tuple((c.candidate, c.values[CANDIDATE_TOTAL]) for c in outcomes))
        values = context.values
        # Each line's final payout: its own node, after the ratio ceiling when there is
        # one.  (The winner's own figures, read by _commit, are its covered, ytd and base.)
        finals = {name: values[final_id] for name, final_id in self._final_ids}
        self._run(Phase.RESULT, context, steps)
        self._commit(winner.values, finals, values, person_year)
        return self._result(claim, context, finals, tuple(steps or ()))

    def _run(self, phase: Phase, context: EvaluationContext, steps: list[Step] | None) -> None:
        values = context.values
        if steps is None:
            if phase is Phase.CLAIM:
                claim = context.claim
                values.update(zip(self._claim_input_ids, self._read_claim_attributes(claim)
                                  + self._read_declared_fields(claim.fields)))
                plan = self._claim_rest
            else:
                plan = self._untraced[phase]
            for node_id, compiled in plan:
                values[node_id] = compiled(context)
            return
        for node_id, compiled, step in self._traced[phase]:
            value = values[node_id] = compiled(context)
            steps.append(step(context, value))

    def _refuse_awaited(self, claim: Claim) -> None:
        """The base this amendment changes is not beside it: refuse a claim that needs its
        values, naming them all (runtime/awaited.py), before anything is settled."""
        for candidate in self.candidates(claim):
            needed = awaited_values(self.policy, candidate, claim.visit,
                                    lambda condition: holds(condition, claim.field))
            if needed:
                message, hint = refusal_words(self.policy, needed)
                raise EvaluationError(AWAITED, claim.claim_id, None, message, hint)

    def _gated(self, plan: tuple) -> tuple:
        """The plan without a trace: a line that does not cover the claim is settled in
        one step.

        Most claims are outside most lines (the visit, identity or condition does not
        match), and then a line's nodes have fixed values: its lookups are skipped,
        its base, slice and payout are 0 (each op's closure says so first).  So each
        COVERS node becomes a gate that, when the line is not covered, writes those
        values at once and runs only the nodes that read the ledger (the year to
        date); when it is covered, it runs the line's nodes as the plan would.  A
        gated node moves up to its gate only when all its inputs are known there.
        The trace path keeps the plain plan; tests hold both to the same values.
        """
        position = {node_id: index for index, (node_id, _, _) in enumerate(plan)}
        gates: dict[str, list] = {node_id: [] for node_id, _, node in plan if node.op is Op.COVERS}
        moved: set[str] = set()
        for node_id, compiled, node in plan:
            gate = dict(node.inputs).get("covered")
            if gate not in gates:
                continue
            # Each input is known at the gate: another phase's, the gate's own, one of
            # its earlier nodes, or one computed before it (where it now runs).
            ready = {gate, *(gated_id for gated_id, _, _ in gates[gate])}
            if all(source in ready or source not in position or position[source] < position[gate]
                   for _, source in node.inputs):
                gates[gate].append((node_id, compiled, node))
                moved.add(node_id)
                position[node_id] = position[gate]
        steps = []
        for node_id, compiled, node in plan:
            if node_id in moved:
                continue
            if gates.get(node_id):
                compiled = self._gate(node_id, compiled, gates[node_id])
            steps.append((node_id, compiled, node))
        return tuple(steps)

    @staticmethod
    def _gate(covers_id: str, covers: Compiled, gated: list) -> Compiled:
        run = tuple((node_id, compiled) for node_id, compiled, _ in gated)
        fixed = {node_id: _UNCOVERED[node.op] for node_id, _, node in gated
                 if node.op in _UNCOVERED}
        reads = tuple((node_id, compiled) for node_id, compiled, node in gated
                      if node.op not in _UNCOVERED)

        def gate(context: EvaluationContext) -> bool:
            values = context.values
            covered = values[covers_id] = covers(context)
            if covered:
                for node_id, compiled in run:
                    values[node_id] = compiled(context)
            else:
                values.update(fixed)
                for node_id, compiled in reads:
                    values[node_id] = compiled(context)
            return covered
        return gate

    def candidates(self, claim: Claim) -> list[str | None]:
        """Effective identities (after 参照执行), each once, in the policy's order."""
        if not claim.identities:   # most claims
            return [None]
        effective = {self._effective[name] for name in claim.identities}
        if len(effective) == 1:
            return list(effective)
        return sorted(effective, key=self._order.__getitem__)

    def _commit(self, winner: dict, finals: dict, values: dict, person_year: PersonYear) -> None:
        for name, covered, ytd_id, base in self._commit_ids:
            if not winner[covered]:
                continue
            ytd = person_year.lines.get(name)
            if ytd is None:
                ytd = person_year.lines[name] = LineYearToDate()
            span = winner.get(ytd_id)
            if span is not None:
                ytd.base = span[1]
            else:
                ytd.base += winner[base]
            ytd.paid += finals[name]
        alerts = person_year.alerts
        for name, alert_id in self._alert_ids:
            outcome: AlertState = values[alert_id]
            ytd = alerts.get(name)
            if ytd is None:
                alerts[name] = AlertYearToDate(outcome.burden, outcome.fired)
            else:
                ytd.burden, ytd.fired = outcome.burden, outcome.fired

    def _result(self, claim: Claim, context: EvaluationContext, finals, steps) -> ClaimResult:
        values = context.values
        return ClaimResult(
            claim_id=claim.claim_id,
            policy=self.policy.policy_id,
            identity=context.candidate,
            payouts=tuple(finals.items()),
            total_paid=values[TOTAL_PAID],
            personal_burden=values[PERSONAL_BURDEN],
            alerts=tuple([name for name, alert_id in self._alert_ids if values[alert_id].fired]),
            referrals=tuple([name for name, referral_id in self._referral_ids
                             if values[referral_id]]),
            trace=steps,
            candidates=context.candidates,
        )

    # ---- ops: each returns the closure that computes the node's value ---------------
    def _input(self, node: Node) -> Compiled:
        field = node.params["field"]
        if node.params.get("declared"):
            return lambda context: context.claim.field(field)
        return lambda context: getattr(context.claim, field)

    def _upstream(self, node: Node) -> Compiled:
        line = node.params["line"]

        def upstream(context: EvaluationContext) -> Decimal:
            amount = context.claim.paid_amount(line)
            if amount is None:  # validation rejects this first; never read a missing payout as 0
                raise EvaluationError("C307", context.claim.claim_id, f"paid.{line}",
                                      f"missing the upstream payout of {line}")
            return amount
        return upstream

    def _identity(self, node: Node) -> Compiled:
        return lambda context: context.candidate

    def _covers(self, node: Node) -> Compiled:
        line: LineDef = node.params["line"]
        visits = frozenset(line.visits)
        condition = compile_condition(line.condition) if line.condition is not None else None
        members = {i.name: line.covers_identity(i.name) for i in self.policy.identities}
        nobody = line.covers_identity(None)

        def covers(context: EvaluationContext) -> bool:
            claim = context.claim
            if claim.visit not in visits:
                return False
            if condition is not None and not condition(claim.fields):
                return False
            candidate = context.candidate
            return nobody if candidate is None else members.get(candidate, False)
        return covers

    def _lookup(self, node: Node) -> Compiled:
        table = node.params["table"]
        covered_id = node.input("covered")
        # Per identity (and visit, where an amendment names visits): (value, the Sourced
        # when it is unspecified), read on every claim.
        by_identity = {}
        for key in [i.name for i in self.policy.identities] + [None]:
            sourced = table.for_identity(key)
            if sourced is not None:
                by_identity[key] = (sourced.value, sourced if sourced.is_unspecified else None)
            for visit, _ in table.by_visit:
                sourced = table.for_claim(key, visit)
                if sourced is not None:
                    by_identity[key, visit] = (sourced.value,
                                               sourced if sourced.is_unspecified else None)
        named_visits = frozenset(visit for visit, _ in table.by_visit)
        evaluator = self

        def lookup(context: EvaluationContext) -> Any:
            if not context.values[covered_id]:
                return SKIPPED
            visit = context.claim.visit
            found = by_identity.get((context.candidate, visit) if visit in named_visits
                                    else context.candidate)
            if found is None:
                return SKIPPED
            value, unspecified = found
            if unspecified is not None:
                raise evaluator._unspecified(table, unspecified, context)
            return value
        return lookup

    def _unspecified(self, table, sourced, context: EvaluationContext) -> EvaluationError:
        clause = f"§{sourced.clause}" if sourced.clause else "its clause"
        note = f" ({sourced.note})" if sourced.note else ""
        return EvaluationError(
            "C311", context.claim.claim_id, None,
            f"{table.name} for {context.candidate or NO_IDENTITY} is unspecified in "
            f"{sourced.version or self.policy.policy_id} {clause}{note}; this claim needs it",
            "the notice leaves the value to another document: supply it in a revision "
            "or a base policy; yibao never invents it")

    def _difference(self, node: Node) -> Compiled:
        minuend = subtrahends = covered = None
        minuend = next(source for role, source in node.inputs if role == "minuend")
        subtrahends = tuple(source for role, source in node.inputs if role == "subtrahend")
        covered = next((source for role, source in node.inputs if role == "covered"), None)

        def difference(context: EvaluationContext) -> Decimal:
            values = context.values
            if covered is not None and not values[covered]:
                return ZERO
            result = values[minuend]
            for source in subtrahends:
                result -= values[source]
            return result if result > 0 else ZERO
        return difference

    def _year_to_date(self, node: Node) -> Compiled:
        line = node.params["line"]
        covered, base = node.input("covered"), node.input("base")

        def year_to_date(context: EvaluationContext):
            ytd = context.person_year.lines.get(line)
            before = ytd.base if ytd is not None else ZERO
            if not context.values[covered]:
                return (before, before)
            return (before, before + context.values[base])
        return year_to_date

    def _schedule(self, node: Node) -> Compiled:
        covered, ytd, rate = node.input("covered"), node.input("ytd"), node.input("rate")
        deductible = node.optional_input("deductible")

        def schedule(context: EvaluationContext) -> Decimal:
            values = context.values
            if not values[covered]:
                return ZERO
            before, after = values[ytd]
            return claim_slice(DECIMAL, before, after,
                               (values[deductible] if deductible else None) or ZERO,
                               values[rate])
        return schedule

    def _per_unit(self, node: Node) -> Compiled:
        covered, units, amount, base = (node.input("covered"), node.input("units"),
                                        node.input("amount"), node.input("base"))

        def per_unit(context: EvaluationContext) -> Decimal:
            values = context.values
            if not values[covered]:
                return ZERO
            return min(values[amount] * (values[units] or 0), values[base])
        return per_unit

    def _cap(self, node: Node) -> Compiled:
        line = node.params["line"]
        covered, slice_ = node.input("covered"), node.input("slice")
        cap = node.optional_input("cap")

        def capped(context: EvaluationContext) -> Decimal:
            values = context.values
            if not values[covered]:
                return ZERO
            payout = values[slice_]
            limit = values[cap] if cap else None
            if limit is None:
                return DECIMAL.clamp(payout)
            ytd = context.person_year.lines.get(line)
            return within_cap(DECIMAL, payout, limit, ytd.paid if ytd is not None else ZERO)
        return capped

    def _ceiling(self, node: Node) -> Compiled:
        params = node.params
        reduces, rate = params["reduces"], params["rate"]
        payouts = tuple(zip(params["lines"], payout_inputs(node)))

        def ceiling(context: EvaluationContext) -> dict[str, Decimal]:
            values = context.values
            finals = {name: values[source] for name, source in payouts}
            if not self.ceiling_applies(params, context.claim):
                return finals
            # The bound is rounded down to the fen, so the combined share never exceeds
            # it; the lines the policy names (by default the last, assistance) absorb the
            # reduction, last first; it is final: later claims never pay it back.
            return ceiling_cut(DECIMAL, finals, reduces, context.claim.in_scope_cost, rate)
        return ceiling

    def _ceiling_cut(self, node: Node) -> Compiled:
        ceiling, line = node.input("ceiling"), node.params["line"]
        return lambda context: context.values[ceiling][line]

    def ceiling_applies(self, params: dict, claim: Claim) -> bool:
        """The ceiling binds a person who holds a key-target identity, whichever identity
        wins take highest: holding another identity never lifts it (Xinjiang §四)."""
        if claim.visit not in params["visits"]:
            return False
        held = {self._effective[name] for name in claim.identities}
        return bool(held & set(params["identities"]))

    def _sum(self, node: Node) -> Compiled:
        amounts = payout_inputs(node)

        def total(context: EvaluationContext) -> Decimal:
            values = context.values
            amount = ZERO
            for source in amounts:
                amount += values[source]
            return amount
        return total

    def _take_highest(self, node: Node) -> Compiled:
        return lambda context: context.candidate

    def _alert(self, node: Node) -> Compiled:
        alert = node.params["alert"]
        burden_id = node.input("burden")
        visits = frozenset(alert.visits)
        # scheme → its Sourced threshold (or None); a claim's scheme is one of SCHEMES (C313)
        thresholds = {scheme: alert.threshold.for_identity(scheme) for scheme in SCHEMES}
        new_state = tuple.__new__
        in_group_of = self._in_group   # in_alert_group's answers, read here first
        name = alert.name
        over = operator.gt if alert.above else operator.ge   # 超过 / 达到 (预警标准为)

        def alert_state(context: EvaluationContext) -> AlertState:
            claim = context.claim
            before = context.person_year.alerts.get(name)
            burden = before.burden if before is not None else ZERO
            counted = claim.visit in visits
            if counted:
                burden += context.values[burden_id]
            in_group = in_group_of.get((name, claim.identities))
            if in_group is None:
                in_group = self.in_alert_group(alert, claim)
            fired = before is not None and before.fired
            if not fired and in_group:
                threshold = thresholds[claim.scheme]
                fired = threshold is not None and over(burden, threshold.value)
            # tuple.__new__ directly: a named tuple's own __new__ is a Python function
            return new_state(AlertState, (burden, counted, in_group, fired))
        return alert_state

    def in_alert_group(self, alert, claim: Claim) -> bool:
        """Whether the claim's own identities (held or after 参照执行) put the person in
        the alert's group; an `except` group is everyone outside the named groups."""
        key = (alert.name, claim.identities)
        found = self._in_group.get(key)
        if found is None:
            members, excludes = self._alert_groups[alert.name]
            held = set(claim.identities)
            held.update(self._effective[i] for i in claim.identities)
            found = not (held & members) if excludes else bool(held & members)
            if len(self._in_group) > 4096:   # a batch holds few identity lists; never grow
                self._in_group.clear()
            self._in_group[key] = found
        return found

    def alert_members(self, alert, claim: Claim) -> tuple[tuple[str, ...], bool]:
        """The claim's identities (held, or after 参照执行) that put the person in the
        alert's group, in the policy's order, and whether the group is `except` (then
        the person is in it for holding none of the named groups' identities)."""
        members, excludes = self._alert_groups[alert.name]
        held = set(claim.identities)
        held.update(self._effective[i] for i in claim.identities)
        named = held & members
        if excludes:
            return (), True
        return tuple(sorted(named, key=self._order.__getitem__)), False

    def _group_members(self, alert) -> tuple[frozenset, bool]:
        if not alert.group_excludes:
            return frozenset(alert.group), False
        others = set()
        for other in self.policy.alerts:
            if other.name in alert.group and not other.group_excludes:
                others.update(other.group)
        return frozenset(others), True

    def _referral(self, node: Node) -> Compiled:
        referral = node.params["referral"]
        checks = referral_checks(node)
        evaluator = self

        def referred(context: EvaluationContext) -> bool:
            """Refer when a listed line's cap cut this claim's payout (the slice was larger)."""
            if referral.identities is not None and context.candidate not in referral.identities:
                return False
            return bool(evaluator.capped_lines(checks, context.values))
        return referred


    @staticmethod
    def capped_lines(checks, values) -> list[str]:
        """The lines whose cap cut this claim (``checks``: compiler/lower.py's
        referral_checks): covered, and the slice above the payout before the ceiling."""
        return [line for line, covered, slice_, payout in checks
                if values[covered] and values[slice_] > values[payout]]


__all__ = ["ScalarEvaluator", "ClaimResult", "EvaluationError", "AlertState"]
