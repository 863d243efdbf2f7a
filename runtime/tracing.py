"""One trace step per evaluated node: the figures its op computed, as typed facts.

Only called when a trace is asked for, so the evaluation itself stays lean.
A step carries numbers, names and what bound them (runtime/facts.py), never
words: explain/ writes those, in Chinese and English, from the same facts.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any, Callable, Protocol

from yibao.runtime.claims import Claim
from yibao.compiler.conditions import condition_tree, holds
from yibao.runtime.context import EvaluationContext
from yibao.runtime.facts import (
    AlertFacts, Bound, CapFacts, CeilingCutFacts, CeilingFacts, CoversFacts, DifferenceFacts, IdentityFacts,
    InputFacts, LookupFacts, PerUnitFacts, ReferralFacts, ScheduleFacts, SumFacts,
    TakeHighestFacts, UpstreamFacts, YearToDateFacts,
)
from yibao.compiler.graph import EvaluationGraph, Node, Op, Phase, handlers_by_op
from yibao.compiler.lower import PERSONAL_BURDEN, payout_inputs, referral_checks
from yibao.compiler.payloads import CeilingPayload, table_value
from yibao.compiler.arithmetic import DECIMAL, annual_payout
from yibao.runtime.trace import Step
from yibao.core.money import ZERO, floor_fen
from yibao.dsl.model import NO_IDENTITY, LineDef, Policy


class ScalarEvaluator(Protocol):
    """What the facts read of the scalar evaluator (runtime/evaluate.py).  The evaluator
    imports this module to trace; naming what it offers here, rather than importing
    it, keeps the two files out of an import circle."""

    graph: EvaluationGraph
    policy: Policy

    def ceiling_applies(self, params: CeilingPayload, claim: Claim) -> bool: ...

    def capped_lines(self, checks, values) -> list[str]: ...

    def alert_members(self, alert, claim: Claim) -> tuple[tuple[str, ...], bool]: ...


# A builder's second answer when the step cites the node's own clause; otherwise it
# names the citation (or None: no clause) that decided this claim.
OWN = object()


def step_writer(node: Node, evaluator: ScalarEvaluator) -> Callable[[EvaluationContext, Any], Step]:
    """The function that writes a node's trace step from the claim's context and the
    node's value.  A trace describes every node of every claim, so all that depends
    on the node alone (its citation, the sources of a lookup's values) is worked out
    here, once per policy version."""
    facts_of = _FACTS[node.op](node, evaluator)
    node_id, op, line = node.id, node.op.value, node.line
    covered = dict(node.inputs).get("covered")
    cited = _cited(node.citation)
    per_candidate = node.phase is Phase.CANDIDATE
    if node.op in _FIXED:   # INPUT, UPSTREAM: only the value changes
        def written(value: Any) -> Step:
            facts, _ = facts_of(None, value)
            return Step(node_id, op, facts, *cited, None, line)

        # A visit, scheme, identity list or flag takes few values: each one's step is
        # written once and reused (steps are immutable).  Amounts are written each time.
        reused = functools.lru_cache(maxsize=_MAX_REUSED)(written)

        def fixed(context: EvaluationContext, value: Any) -> Step:
            return reused(value) if type(value) in _FEW_VALUES else written(value)
        return fixed

    is_lookup = node.op is Op.LOOKUP
    # A lookup's value may come from a revision: its source, by candidate, cites it.
    sources = None if not is_lookup else {
        candidate: (None, "", False) if sourced is None else
        (_cited(sourced.citation) if sourced.citation else None, sourced.version,
         sourced.inherited)
        for candidate, sourced in _sources(_written(node, evaluator), evaluator).items()}
    # A value an amendment changed for some visits: its source depends on the claim's
    # visit too, so that a trace never quotes the amendment for a visit it leaves alone.
    by_visit = is_lookup and node.payload.varies_by_visit
    skips = node.op in (Op.SCHEDULE, Op.YEAR_TO_DATE, Op.CAP, Op.PER_UNIT)

    def describe(context: EvaluationContext, value: Any) -> Step:
        facts, citation = facts_of(context, value)
        # An op may name a more precise clause for this claim (e.g. a treated-as rule).
        clause, quote = cited if citation is OWN else _cited(citation)
        version, inherited = "", False
        skipped = skips and not context.values.get(covered, True)
        if sources is not None:
            source, version, inherited = (
                sources[context.candidate] if not by_visit
                else sources.get((context.candidate, context.claim.visit))
                or sources[context.candidate])
            if source is not None:
                clause, quote = source
            skipped = value is None and not context.values.get(covered)
        return Step(node_id, op, facts, clause, quote,
                    (context.candidate or NO_IDENTITY) if per_candidate else None, line,
                    version, inherited, skipped)

    if covered is None or node.op not in _SAME_WHEN_UNCOVERED:
        return describe
    # Most claims are outside most lines, and an uncovered line's node says the same
    # whatever the claim: its step is written once per candidate and value, then reused
    # (steps are immutable).
    uncovered_steps: dict[tuple, Step] = {}

    def step(context: EvaluationContext, value: Any) -> Step:
        if context.values.get(covered, True):
            return describe(context, value)
        key = (context.candidate, value)
        found = uncovered_steps.get(key)
        if found is None:
            found = uncovered_steps[key] = describe(context, value)
        return found
    return step


def _cited(citation) -> tuple[str, str]:
    """A step's clause and quote."""
    if citation is None:
        return "", ""
    return citation.clause, citation.quote or ""


def _sources(table, evaluator: ScalarEvaluator) -> dict:
    """A lookup's values as sourced: by candidate, and by (candidate, visit) for the visits
    an amendment names."""
    candidates = [i.name for i in evaluator.policy.identities] + [None]
    sources = {candidate: table.for_identity(candidate) for candidate in candidates}
    for visit, _ in table.by_visit:
        sources.update({(candidate, visit): table.for_claim(candidate, visit)
                        for candidate in candidates})
    return sources


# ---- one builder of facts per op: (node, evaluator) → (context, value) → (facts, citation)

def _input(node: Node, evaluator):
    field, label = node.payload.field, node.payload.label
    return lambda context, value: (InputFacts(field, value, label), OWN)


def _upstream(node: Node, evaluator):
    line = node.payload.line
    return lambda context, value: (UpstreamFacts(line, value), OWN)


def _identity(node: Node, evaluator):
    policy = evaluator.policy

    def facts(context: EvaluationContext, value):
        held = tuple(name for name in context.claim.identities
                     if policy.effective_identity(name) == value)
        mapped = tuple(name for name in held if name != value)
        citation = OWN
        if mapped:   # the treated-as rule's own clause (参照执行)
            rule = policy.identity(mapped[0])
            citation = rule.citation if rule else node.citation
        return IdentityFacts(value, held, mapped), citation
    return facts


def _lookup(node: Node, evaluator):
    quantity = node.id.rsplit(".", 1)[1]
    covered = node.input("covered")
    line = node.line

    def facts(context: EvaluationContext, value):
        return LookupFacts(line, quantity, context.candidate, value,
                           bool(context.values.get(covered))), OWN
    return facts


def _written(node: Node, evaluator):
    """A LOOKUP's table as the policy writes it (its values' clauses, quotes and
    versions, which the trace cites); the node's payload holds the values alone."""
    return getattr(evaluator.policy.line(node.payload.line), node.payload.quantity)


def _covers(node: Node, evaluator):
    policy = evaluator.policy
    # the line's rule, for the clause and quote the trace cites (the notice's words)
    line: LineDef = policy.line(node.payload.line)
    condition = line.condition
    tree = condition_tree(condition, policy.field_label) if condition is not None else None
    rule = line.condition_rule
    condition_clause, condition_quote = _cited(rule.citation if rule else None)
    visits = tuple(line.visits)

    def facts(context: EvaluationContext, value):
        claim = context.claim
        made = functools.partial(
            CoversFacts, line.name, claim.visit, visits, context.candidate,
            condition=tree,
            condition_clause=condition_clause, condition_quote=condition_quote)
        if value:   # covered: the evaluator has already checked visit, condition and identity
            return made(True, condition_held=True if condition is not None else None), OWN
        if claim.visit not in line.visits:
            return made(False, Bound.NOT_COVERED), OWN
        if condition is not None and not holds(condition, claim.fields):
            return made(False, Bound.CONDITION_FAILED, condition_held=False), OWN
        held = True if condition is not None else None
        if not line.covers_identity(context.candidate):
            # Cite why: the line's membership rule, or the identity's own clause.
            identity = policy.identity(context.candidate) if context.candidate else None
            reason = (line.members_rule.citation if line.members_rule
                      else identity.citation if identity else _membership_citation(line))
            return made(False, Bound.IDENTITY_NOT_COVERED, condition_held=held), reason
        return made(True, condition_held=held), OWN
    return facts


def _membership_citation(line: LineDef):
    """Without an `identities` rule, the tables name who a line pays."""
    for table in (line.rate, line.deductible, line.per_unit):
        if table is not None:
            for _, sourced in table.items():
                if sourced.citation is not None:
                    return sourced.citation
    return None


def _difference(node: Node, evaluator):
    covered = dict(node.inputs).get("covered")
    terms = tuple(source for role, source in node.inputs if role in ("minuend", "subtrahend"))

    def facts(context: EvaluationContext, value):
        values = context.values
        if covered is not None and not values[covered]:
            return DifferenceFacts((), value, applies=False), OWN
        figures = tuple((source, values[source]) for source in terms)
        raw = figures[0][1] - sum((amount for _, amount in figures[1:]), ZERO)
        return DifferenceFacts(figures, value,
                               bound=Bound.CLAMPED_AT_ZERO if raw < 0 else None), OWN
    return facts


def _year_to_date(node: Node, evaluator):
    line = node.payload.line
    covered, base = node.input("covered"), node.input("base")

    def facts(context: EvaluationContext, value):
        before, after = value
        counted = bool(context.values[covered])
        this_claim = context.values[base] if counted else ZERO
        return YearToDateFacts(line, before, after, this_claim, counted), OWN
    return facts


def _schedule(node: Node, evaluator):
    line = node.payload.line
    covered, ytd, rate_id = node.input("covered"), node.input("ytd"), node.input("rate")
    deductible_id = node.optional_input("deductible")

    def facts(context: EvaluationContext, value):
        values = context.values
        if not values[covered]:
            return ScheduleFacts(line, False), OWN
        before, after = values[ytd]
        rate = values[rate_id]
        deductible = (values[deductible_id] if deductible_id else None) or Decimal(0)
        # The slice is round(G(after)) − round(G(before)) (compiler/arithmetic.claim_slice),
        # so G(after) is G(before) plus the slice: G once, not twice more (issue 22 §9).
        g_before = DECIMAL.round(annual_payout(DECIMAL, before, deductible, rate))
        g_after = g_before + value
        bound = Bound.DEDUCTIBLE_NOT_REACHED if after <= deductible else None
        return ScheduleFacts(line, True, rate, deductible, before, after, g_before, g_after,
                             value, bound), OWN
    return facts


def _per_unit(node: Node, evaluator):
    line, unit = node.payload.line, node.payload.unit
    unit_label = evaluator.policy.field_label(unit)
    covered, units_id, amount_id, base_id = (node.input("covered"), node.input("units"),
                                             node.input("amount"), node.input("base"))

    def facts(context: EvaluationContext, value):
        values = context.values
        if not values[covered]:
            return PerUnitFacts(line, False), OWN
        units, amount, base = values[units_id] or 0, values[amount_id], values[base_id]
        bound = Bound.BASE if amount * units > base else None
        return PerUnitFacts(line, True, amount, units, unit, base=base, payout=value,
                            bound=bound, unit_label=unit_label), OWN
    return facts


def _cap(node: Node, evaluator):
    line = node.payload.line
    covered, slice_id = node.input("covered"), node.input("slice")
    cap_id = node.optional_input("cap")

    def facts(context: EvaluationContext, value):
        values = context.values
        if not values[covered]:
            return CapFacts(line, False), OWN
        due = values[slice_id]
        cap = values[cap_id] if cap_id else None
        paid = context.person_year.line(line).paid
        if cap is None:
            return CapFacts(line, True, due, None, paid, None, value), OWN
        bound = Bound.CAP_REACHED if value < due else None
        return CapFacts(line, True, due, cap, paid, cap - paid, value, bound), OWN
    return facts


def _ceiling(node: Node, evaluator):
    params = node.payload
    lines, rate, identities = params.lines, params.rate, set(params.identities)
    payouts = tuple(zip(lines, payout_inputs(node)))
    policy = evaluator.policy

    def facts(context: EvaluationContext, value):
        claim, values = context.claim, context.values
        before = tuple((name, values[source]) for name, source in payouts)
        after = tuple((name, value[name]) for name in lines)
        if not evaluator.ceiling_applies(params, claim):
            return CeilingFacts(False, rate, claim.in_scope_cost, before, after), OWN
        held = tuple(sorted({policy.effective_identity(name) for name in claim.identities}
                            & identities, key=policy.identity_order))
        cut = any(a != b for (_, b), (_, a) in zip(before, after))
        return CeilingFacts(True, rate, claim.in_scope_cost, before, after,
                            floor_fen(rate * claim.in_scope_cost),
                            sum((amount for _, amount in before), ZERO), held,
                            Bound.CEILING_CUT if cut else None), OWN
    return facts


def _ceiling_cut(node: Node, evaluator):
    line, before = node.payload.line, node.input("payout")

    def facts(context: EvaluationContext, value):
        return CeilingCutFacts(line, context.values[before], value), OWN
    return facts


def _sum(node: Node, evaluator):
    # Each part named by its line, in the policy's order (the inputs may list the
    # computed lines first, as the settled columns do).
    graph = evaluator.graph
    by_line = {graph.node(source).line: source for source in payout_inputs(node)}
    parts_of = tuple((name, by_line[name]) for name in node.payload.lines)

    def facts(context: EvaluationContext, value):
        values = context.values
        return SumFacts(tuple((name, values[source]) for name, source in parts_of), value), OWN
    return facts


def _take_highest(node: Node, evaluator):
    policy = evaluator.policy

    def facts(context: EvaluationContext, value):
        totals = context.candidates
        best = max(total for _, total in totals)
        tied = sum(1 for _, total in totals if total == best) > 1
        held = context.claim.identities
        treated = tuple(
            (name, via) for name, _ in totals if name is not None and name not in held
            for via in [tuple(i for i in held if policy.effective_identity(i) == name)] if via)
        return TakeHighestFacts(totals, value, tied and len(totals) > 1,
                                treated_from=treated), OWN
    return facts


def _alert(node: Node, evaluator):
    alert = node.payload

    def facts(context: EvaluationContext, value):
        claim = context.claim
        threshold = table_value(alert.thresholds, claim.scheme)
        members, excludes = evaluator.alert_members(alert, claim)
        return AlertFacts(alert.name, claim.visit, value.counted, value.burden,
                          threshold.value if threshold else None, alert.above, value.in_group,
                          value.fired, context.person_year.alert(alert.name).fired,
                          members, excludes), OWN
    return facts


def _referral(node: Node, evaluator):
    referral = node.payload
    checks = referral_checks(node)

    def facts(context: EvaluationContext, value):
        eligible = referral.identities is None or context.candidate in referral.identities
        capped = tuple(evaluator.capped_lines(checks, context.values)) if eligible else ()
        return ReferralFacts(referral.name, context.candidate, eligible, capped,
                             context.values[PERSONAL_BURDEN], bool(value)), OWN
    return facts


# Ops whose facts depend on the value alone: written once per value (see step_writer).
_FIXED = (Op.INPUT, Op.UPSTREAM)
# Value types of claim fields whose values a batch repeats (visit, scheme, identities,
# flags), and how many steps of one node are kept for reuse at most.
_FEW_VALUES = frozenset((str, tuple, bool, type(None)))
_MAX_REUSED = 256
# Ops whose facts, when their line does not cover the claim, depend on the node, the
# candidate and the value alone, and whose value is then a constant (UNCOVERED in
# runtime/op_semantics.py): a step per candidate.  Not a year to date: its value is the
# ledger's figure, so reuse would keep a step per person.
_SAME_WHEN_UNCOVERED = frozenset((Op.LOOKUP, Op.DIFFERENCE, Op.SCHEDULE, Op.PER_UNIT, Op.CAP))

FACTS: dict[Op, Callable[[Node, ScalarEvaluator], Callable]] = handlers_by_op(globals())
_FACTS = FACTS
