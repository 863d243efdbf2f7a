"""What each op means: one method per :class:`Op`, turning a node into the closure
that computes its value for one claim.

docs/specification.md is implemented here, op by op: exact money, rounding only of the
annual payout function G (half up, to the fen), year-to-date slices, annual caps, the
ratio ceiling and its cut, take highest, alerts, referrals.  Each closure reads the
node's declared inputs from the context's values (tests/compiler/test_declared_reads.py),
the claim, the candidate and the person's year to date; the ledger is only read here.
How the closures are run, fast and with a trace, is runtime/evaluate.py's.
"""

from __future__ import annotations

import operator
from decimal import Decimal
from typing import Any, Callable, NamedTuple

from yibao.compiler.arithmetic import (DECIMAL, bands, capped as within_cap, ceiling_cut,
                                      claim_slice, per_unit_payout)
from yibao.compiler.conditions import compile_condition
from yibao.compiler.graph import EvaluationGraph, Node, Op, methods_by_op
from yibao.compiler.lower import difference_inputs, payout_inputs, referral_checks
from yibao.compiler.payloads import (CeilingPayload, Looked, LookupPayload, UnspecifiedSource,
                                     table_value)
from yibao.core.money import ZERO
from yibao.dsl.model import NO_IDENTITY, SCHEMES, BandSchedule, BandSlice, Policy
from yibao.runtime.claims import Claim, ClaimError
from yibao.runtime.context import EvaluationContext

SKIPPED = None  # the value of a lookup whose line does not apply to the claim


def _value(looked: Looked):
    """A looked-up value as the run carries it: a banded rate as the dsl's BandSchedule,
    the type the trace facts and their JSON record (runtime/facts.py)."""
    if isinstance(looked.value, tuple):
        return BandSchedule(tuple(BandSlice(*band) for band in looked.value))
    return looked.value


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

# A node's value when its line does not cover the claim: each op's closure below
# returns it first thing.  A YEAR_TO_DATE node is not here: it reads the ledger.
UNCOVERED = {Op.LOOKUP: SKIPPED, Op.DIFFERENCE: ZERO, Op.SCHEDULE: ZERO,
              Op.PER_UNIT: ZERO, Op.CAP: ZERO}


Compiled = Callable[[EvaluationContext], Any]

Compiled = Callable[[EvaluationContext], Any]


class OpSemantics:
    """The ops of one policy version's graph, each compiled to a closure by the method
    named after it (``_year_to_date`` for ``Op.YEAR_TO_DATE``)."""

    def __init__(self, graph: EvaluationGraph):
        self.graph = graph
        self.policy: Policy = graph.policy
        # the visitor: one method per op (tests check it is complete)
        self.ops: dict[Op, Callable[[Node], Compiled]] = methods_by_op(self)
        self._in_group: dict[tuple, bool] = {}   # (alert, claim identities) → in_alert_group
        self._effective = {i.name: self.policy.effective_identity(i.name)
                           for i in self.policy.identities}
        self._order = {i.name: index for index, i in enumerate(self.policy.identities)}
        self._alert_groups = {alert.name: self._group_members(alert) for alert in self.policy.alerts}

    def _input(self, node: Node) -> Compiled:
        field = node.payload.field
        if node.payload.declared:
            return lambda context: context.claim.field(field)
        return lambda context: getattr(context.claim, field)

    def _upstream(self, node: Node) -> Compiled:
        line = node.payload.line

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
        payload = node.payload
        visits = frozenset(payload.visits)
        tree = payload.condition
        condition = compile_condition(tree) if tree is not None else None
        members = {i.name: payload.covers_identity(i.name) for i in self.policy.identities}
        nobody = payload.covers_identity(None)

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
        table = node.payload
        covered_id = node.input("covered")
        # Per identity (and visit, where an amendment names visits): (value, its source
        # when it is unspecified), read on every claim.
        by_identity = {}
        for key in [i.name for i in self.policy.identities] + [None]:
            looked = table_value(table.values, key)
            if looked is not None:
                by_identity[key] = (_value(looked), looked.unspecified)
            for visit, _ in table.by_visit:
                looked = table.for_claim(key, visit)
                if looked is not None:
                    by_identity[key, visit] = (_value(looked), looked.unspecified)
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

    def _unspecified(self, table: LookupPayload, sourced: UnspecifiedSource,
                     context: EvaluationContext) -> EvaluationError:
        clause = f"§{sourced.clause}" if sourced.clause else "its clause"
        note = f" ({sourced.note})" if sourced.note else ""
        return EvaluationError(
            "C311", context.claim.claim_id, None,
            f"{table.table} for {context.candidate or NO_IDENTITY} is unspecified in "
            f"{sourced.version or self.policy.policy_id} {clause}{note}; this claim needs it",
            "the notice leaves the value to another document: supply it in a revision "
            "or a base policy; yibao never invents it")

    def _difference(self, node: Node) -> Compiled:
        covered, minuend, subtrahends = difference_inputs(node)

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
        line = node.payload.line
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
        # The rate's bands, built once per rate value rather than on every G: the rate is
        # a lookup's value, one of a few objects the lookup's table holds (issue 22 §9).
        # Keyed by identity, the value kept beside its bands so that an id is never reused.
        bands_of: dict[int, tuple] = {}

        def schedule(context: EvaluationContext) -> Decimal:
            values = context.values
            if not values[covered]:
                return ZERO
            before, after = values[ytd]
            rate_value = values[rate]
            known = bands_of.get(id(rate_value))
            if known is None or known[0] is not rate_value:
                if len(bands_of) > 64:   # a table holds few values; never grow
                    bands_of.clear()
                known = bands_of[id(rate_value)] = (rate_value, bands(rate_value))
            return claim_slice(DECIMAL, before, after,
                               (values[deductible] if deductible else None) or ZERO,
                               known[1])
        return schedule

    def _per_unit(self, node: Node) -> Compiled:
        covered, units, amount, base = (node.input("covered"), node.input("units"),
                                        node.input("amount"), node.input("base"))

        def per_unit(context: EvaluationContext) -> Decimal:
            values = context.values
            if not values[covered]:
                return ZERO
            return per_unit_payout(DECIMAL, values[amount], values[units] or 0, values[base])
        return per_unit

    def _cap(self, node: Node) -> Compiled:
        line = node.payload.line
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
        params = node.payload
        reduces, rate = params.reduces, params.rate
        payouts = tuple(zip(params.lines, payout_inputs(node)))

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
        ceiling, line = node.input("ceiling"), node.payload.line
        return lambda context: context.values[ceiling][line]

    def ceiling_applies(self, params: CeilingPayload, claim: Claim) -> bool:
        """The ceiling binds a person who holds a key-target identity, whichever identity
        wins take highest: holding another identity never lifts it (Xinjiang §四)."""
        if claim.visit not in params.visits:
            return False
        held = {self._effective[name] for name in claim.identities}
        return bool(held & set(params.identities))

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
        alert = node.payload
        burden_id = node.input("burden")
        visits = frozenset(alert.visits)
        # scheme → its threshold (a Looked, or None); a claim's scheme is one of SCHEMES (C313)
        thresholds = {scheme: table_value(alert.thresholds, scheme) for scheme in SCHEMES}
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
        referral = node.payload
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
