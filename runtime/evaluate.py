"""The scalar evaluator: how one claim is run through the graph, fast, with an optional trace.

What each op means is runtime/op_semantics.py's: there each node becomes a small
closure reading the evaluation context.  Here the graph is compiled to those
closures once, so settling a claim is a flat loop with no dispatch or lookups by
name; a line that does not cover the claim is settled in one step (the gated
plan); candidates are run and take highest chosen; the ledger is written only by
:meth:`ScalarEvaluator._commit`, with the figures of the identity that won.
"""

from __future__ import annotations

import functools
import operator
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable

import attrs

from yibao.compiler.conditions import holds
from yibao.compiler.graph import EvaluationGraph, Op, Phase
from yibao.compiler.lower import CANDIDATE_TOTAL, PERSONAL_BURDEN, TOTAL_PAID, final_payout_id
from yibao.runtime.awaited import CODE as AWAITED, awaited_values, refusal_words
from yibao.runtime.claims import Claim
from yibao.runtime.context import EvaluationContext
from yibao.runtime.ledger import AlertYearToDate, Ledger, LineYearToDate, PersonYear
from yibao.runtime.op_semantics import (
    UNCOVERED, AlertState, Compiled, EvaluationError, OpSemantics,
)

if TYPE_CHECKING:
    from yibao.runtime.trace import Step


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

def _tuple_getter(getter, names: list[str]) -> Callable[[Any], tuple]:
    """``getter(*names)`` that always returns a tuple, whatever the number of names."""
    if len(names) > 1:
        return getter(*names)
    if names:
        single = getter(names[0])
        return lambda source: (single(source),)
    return lambda source: ()

class ScalarEvaluator(OpSemantics):
    """Evaluates claims of one policy version against a shared ledger."""

    def __init__(self, graph: EvaluationGraph):
        super().__init__(graph)
        self.lines = {line.name: line for line in self.policy.lines}
        self.line_names = tuple(self.lines)
        self.computed_line_names = tuple(line.name for line in self.policy.computed_lines)
        compilers = self.ops
        self._plans = {
            phase: tuple((node.id, compilers[node.op](node), node) for node in graph.phase(phase))
            for phase in Phase
        }
        # Node ids used on every claim, formatted once.
        self._final_ids = tuple((name, final_payout_id(self.policy, name))
                                for name in self.line_names)
        # (line, its covered, ytd and base nodes, its place among the final payouts)
        self._commit_ids = tuple((name, f"{name}.covered", f"{name}.ytd", f"{name}.base",
                                  self.line_names.index(name))
                                 for name in self.computed_line_names)
        self._alert_ids = tuple((alert.name, f"{alert.name}.alert") for alert in self.policy.alerts)
        self._referral_ids = tuple((r.name, f"{r.name}.referral") for r in self.policy.referrals)
        # Without a trace the claim's own fields, and the fields the policy declares,
        # are read in one call each (a claim phase of INPUT nodes is a third of the
        # graph); with one, node by node as the trace shows.
        claim_plan = self._plans[Phase.CLAIM]
        inputs = [(node_id, node.payload.field, bool(node.payload.declared))
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
        # Without a trace: the candidate and result phases' (node id, closure), the
        # candidate phase gated; plain attributes, not a dict by phase: an Enum's hash is
        # a Python call, three a claim (issue 22 §9).
        self._untraced_candidate = tuple((node_id, compiled)
                                         for node_id, compiled, _ in self._candidate_gated)
        self._untraced_result = tuple((node_id, compiled)
                                      for node_id, compiled, _ in self._plans[Phase.RESULT])
        self._awaits_base = self.policy.awaits_base is not None
        self._candidates: dict[tuple[str, ...], tuple[str | None, ...]] = {}
        self._policy_id = self.policy.policy_id

    # ---- the claim ----------------------------------------------------------------
    def evaluate(self, claim: Claim, ledger: Ledger, trace: bool = False) -> ClaimResult:
        if self._awaits_base:
            self._refuse_awaited(claim)
        person_year = ledger.person_year(claim.person_id, claim.date.year)
        context = EvaluationContext(claim, person_year)
        steps: list[Step] = []
        if trace:
            traced = self._traced
            candidate_plan, result_plan = traced[Phase.CANDIDATE], traced[Phase.RESULT]
            run = functools.partial(_run_traced, steps=steps)
            run(traced[Phase.CLAIM], context)
        else:
            candidate_plan, result_plan = self._untraced_candidate, self._untraced_result
            run = _run_untraced
            # The claim's own fields, and the fields the policy declares, read in one call
            # each (a claim phase of INPUT nodes is a third of the graph).
            context.values.update(zip(self._claim_input_ids,
                                      self._read_claim_attributes(claim)
                                      + self._read_declared_fields(claim.fields)))
            run(self._claim_rest, context)
        candidates = self.candidates(claim)
        if len(candidates) == 1:
            # Most claims: one candidate, which carries on in the claim's own context.
            context.candidate = candidates[0]
            run(candidate_plan, context)
            winner = context
            context.candidates = ((winner.candidate, winner.values[CANDIDATE_TOTAL]),)
        else:
            outcomes = []
            for candidate in candidates:
                candidate_context = EvaluationContext(claim, person_year, candidate,
                                                      dict(context.values))
                run(candidate_plan, candidate_context)
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
        payouts = tuple([(name, values[final_id]) for name, final_id in self._final_ids])
        run(result_plan, context)
        self._commit(winner.values, payouts, values, person_year)
        return self._result(claim, context, payouts, tuple(steps))

    def _run(self, phase: Phase, context: EvaluationContext, steps: list[Step] | None) -> None:
        """One phase's nodes, as :meth:`evaluate` runs them (with a trace when ``steps``
        is a list); evaluate itself picks its plans once a claim, not once a phase."""
        if steps is not None:
            _run_traced(self._traced[phase], context, steps)
        elif phase is Phase.CLAIM:
            context.values.update(zip(self._claim_input_ids,
                                      self._read_claim_attributes(context.claim)
                                      + self._read_declared_fields(context.claim.fields)))
            _run_untraced(self._claim_rest, context)
        else:
            _run_untraced(self._untraced_candidate if phase is Phase.CANDIDATE
                          else self._untraced_result, context)

    @functools.cached_property
    def _traced(self) -> dict:
        """With a trace: each phase's nodes with the function that writes their step.
        Built when a trace is first asked for: the untraced runs (settle, eval without
        --trace) never import the trace's facts and words (fixed costs, issue 22 §9)."""
        from yibao.runtime import tracing

        return {phase: tuple((node_id, compiled, tracing.step_writer(node, self))
                             for node_id, compiled, node in plan)
                for phase, plan in self._plans.items()}

    def _refuse_awaited(self, claim: Claim) -> None:
        """The base this amendment changes is not beside it: refuse a claim that needs its
        values, naming them all (runtime/awaited.py), before anything is settled."""
        for candidate in self.candidates(claim):
            needed = awaited_values(self.policy, candidate, claim.visit,
                                    lambda condition: holds(condition, claim.fields))
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
        fixed = {node_id: UNCOVERED[node.op] for node_id, _, node in gated
                 if node.op in UNCOVERED}
        reads = tuple((node_id, compiled) for node_id, compiled, node in gated
                      if node.op not in UNCOVERED)

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

    def candidates(self, claim: Claim) -> tuple[str | None, ...]:
        """Effective identities (after 参照执行), each once, in the policy's order."""
        identities = claim.identities
        if not identities:   # most claims
            return _NO_IDENTITY
        # A batch holds few identity lists: each one's candidates are worked out once.
        found = self._candidates.get(identities)
        if found is None:
            effective = {self._effective[name] for name in identities}
            found = tuple(sorted(effective, key=self._order.__getitem__))
            if len(self._candidates) > 4096:   # never grow without bound
                self._candidates.clear()
            self._candidates[identities] = found
        return found

    def _commit(self, winner: dict, payouts: tuple, values: dict,
                person_year: PersonYear) -> None:
        lines = person_year.lines
        for name, covered, ytd_id, base, final_index in self._commit_ids:
            if not winner[covered]:
                continue
            ytd = lines.get(name)
            if ytd is None:
                ytd = lines[name] = LineYearToDate()
            span = winner.get(ytd_id)
            if span is not None:
                ytd.base = span[1]
            else:
                ytd.base += winner[base]
            ytd.paid += payouts[final_index][1]
        alerts = person_year.alerts
        for name, alert_id in self._alert_ids:
            outcome: AlertState = values[alert_id]
            ytd = alerts.get(name)
            if ytd is None:
                alerts[name] = AlertYearToDate(outcome.burden, outcome.fired)
            else:
                ytd.burden, ytd.fired = outcome.burden, outcome.fired

    def _result(self, claim: Claim, context: EvaluationContext, payouts: tuple,
                steps: tuple) -> ClaimResult:
        values = context.values
        return ClaimResult(
            claim_id=claim.claim_id,
            policy=self._policy_id,
            identity=context.candidate,
            payouts=payouts,
            total_paid=values[TOTAL_PAID],
            personal_burden=values[PERSONAL_BURDEN],
            alerts=tuple([name for name, alert_id in self._alert_ids if values[alert_id].fired]),
            referrals=tuple([name for name, referral_id in self._referral_ids
                             if values[referral_id]]),
            trace=steps,
            candidates=context.candidates,
        )


_NO_IDENTITY = (None,)   # the one candidate of a claim that holds no identity


def _run_untraced(plan: tuple, context: EvaluationContext) -> None:
    values = context.values
    for node_id, compiled in plan:
        values[node_id] = compiled(context)


def _run_traced(plan: tuple, context: EvaluationContext, steps: list[Step]) -> None:
    values = context.values
    for node_id, compiled, step in plan:
        value = values[node_id] = compiled(context)
        steps.append(step(context, value))


__all__ = ["ScalarEvaluator", "ClaimResult", "EvaluationError", "AlertState"]
