"""Lower a checked policy to its evaluation graph.

The lines are lowered in settlement order ("先保险后救助"): upstream payouts
first, then each computed line as the same small chain of nodes —
covers → base → year-to-date → deductible/rate (schedule) → cap — then the
ratio ceiling, the candidate's total, take highest, the claim's totals and the
alerts.
"""

from __future__ import annotations

from yibao.compiler.conditions import condition_fields, condition_tree
from yibao.compiler.graph import EvaluationGraph, Node, Op, Phase, Role, build_graph
from yibao.compiler.payloads import (
    AlertPayload, Band, CapPayload, CeilingCutPayload, CeilingPayload, CoversPayload,
    DifferencePayload, IdentityPayload, InputPayload, Looked, LookupPayload, PerUnitPayload,
    ReferralPayload, SchedulePayload, SumPayload, TakeHighestPayload, UnspecifiedSource,
    UpstreamPayload, YearToDatePayload)
from yibao.dsl.model import (UNSPECIFIED, AlertDef, BandSchedule, ByIdentity, LineDef, Policy,
                             Sourced)

IN_SCOPE = "claim.in_scope_cost"
TOTAL_COST = "claim.total_cost"
VISIT = "claim.visit"
SCHEME = "claim.scheme"
IDENTITIES = "claim.identities"
CANDIDATE = "candidate.identity"
CANDIDATE_TOTAL = "candidate.total"
CEILING = "ratio_ceiling"
TAKE_HIGHEST = "take_highest"
TOTAL_PAID = "total_paid"
PERSONAL_BURDEN = "personal_burden"

CLAIM_FIELDS = ("in_scope_cost", "total_cost", "visit", "scheme", "identities")
# A line's looked-up quantities, each a node `{line}.{quantity}` (explain/ names them).
QUANTITIES = ("deductible", "rate", "cap", "per_unit")


def payout_id(line: str) -> str:
    """A line's payout as its cap leaves it, before any ratio ceiling."""
    return f"{line}.payout"


def after_ceiling_id(line: str) -> str:
    """A line's payout as the ratio ceiling leaves it (a policy with a ceiling only)."""
    return f"{line}.after_ceiling"


def final_payout_id(policy: Policy, line: str) -> str:
    """The node holding a line's final payout: after the ratio ceiling for a line the
    ceiling reduces (specification §9), else the payout itself."""
    if policy.ceiling is not None and line in policy.ceiling.reduces:
        return after_ceiling_id(line)
    return payout_id(line)


def payout_inputs(node: Node) -> tuple[str, ...]:
    """The payouts a node reads (a ceiling, a total), in the order it declares them."""
    return tuple(source for role, source in node.inputs if role == "payout")


def difference_inputs(node: Node) -> tuple[str | None, str, tuple[str, ...]]:
    """A difference node's (coverage or None, minuend, subtrahends), from its inputs."""
    covered = next((source for role, source in node.inputs if role == Role.COVERED), None)
    minuend = next(source for role, source in node.inputs if role == Role.MINUEND)
    subtrahends = tuple(source for role, source in node.inputs if role == Role.SUBTRAHEND)
    return covered, minuend, subtrahends


def referral_checks(node: Node) -> tuple[tuple[str, str, str, str], ...]:
    """(line, its coverage, its slice, its payout before the ceiling) for each line a
    referral node lists, from its inputs: one of each role a line, in the lines' order."""
    roles = {role: [source for name, source in node.inputs if name == role]
             for role in (Role.COVERED, Role.SLICE, Role.PAYOUT)}
    lines = node.payload.lines
    return tuple(zip(lines, roles["covered"], roles["slice"], roles["payout"]))


def lower_policy(policy: Policy) -> EvaluationGraph:
    nodes: list[Node] = []
    for field in CLAIM_FIELDS:
        nodes.append(Node(f"claim.{field}", Op.INPUT, Phase.CLAIM,
                          payload=InputPayload(field)))
    for field in policy.fields:
        # A declared field's display name (省内就医) travels with its node: the views
        # name it so wherever they show the field.
        nodes.append(Node(f"claim.{field.name}", Op.INPUT, Phase.CLAIM,
                          payload=InputPayload(field.name, True, policy.field_label(field.name)),
                          citation=field.citation, span=field.span))
    nodes.append(Node(CANDIDATE, Op.IDENTITY, Phase.CANDIDATE,
                      inputs=((Role.IDENTITIES, IDENTITIES),), payload=IdentityPayload(),
                      citation=policy.take_highest.citation if policy.take_highest else None))
    earlier: list[str] = []
    for line in policy.lines:
        if line.upstream:
            nodes.append(Node(payout_id(line.name), Op.UPSTREAM, Phase.CLAIM,
                              payload=UpstreamPayload(line.name), line=line.name,
                              citation=line.citation, span=line.span))
        else:
            nodes.extend(_computed_line(policy, line, earlier))
        earlier.append(line.name)
    all_payouts = [payout_id(line.name) for line in policy.lines]
    if policy.ceiling is not None:
        ceiling = policy.ceiling
        nodes.append(Node(
            CEILING, Op.CEILING, Phase.CANDIDATE,
            inputs=((Role.IN_SCOPE_COST, IN_SCOPE), (Role.VISIT, VISIT), (Role.IDENTITY, CANDIDATE),
                    # whom it binds is read from every identity the claim holds (§四)
                    (Role.IDENTITIES, IDENTITIES))
            + tuple((Role.PAYOUT, p) for p in all_payouts),
            payload=CeilingPayload(ceiling.rate.value, ceiling.identities, ceiling.visits,
                                   tuple(l.name for l in policy.lines), ceiling.reduces),
            citation=ceiling.rate.citation, span=ceiling.span))
        # The cut, one node for each line the ceiling reduces: what every later node
        # reads as the line's payout (the cap's figure stays the figure before the
        # ceiling, which referrals compare with the slice).
        for line in policy.lines:
            if line.name not in ceiling.reduces:
                continue
            nodes.append(Node(
                after_ceiling_id(line.name), Op.CEILING_CUT, Phase.CANDIDATE,
                inputs=((Role.CEILING, CEILING), (Role.PAYOUT, payout_id(line.name))),
                payload=CeilingCutPayload(line.name), line=line.name,
                citation=ceiling.rate.citation, span=ceiling.span))
    final = {line.name: final_payout_id(policy, line.name) for line in policy.lines}
    # Take highest compares what each identity would be paid in all, after the
    # ceiling; upstream payouts are the same for every candidate.
    nodes.append(Node(CANDIDATE_TOTAL, Op.SUM, Phase.CANDIDATE,
                      inputs=tuple((Role.PAYOUT, final[l.name]) for l in policy.lines),
                      payload=SumPayload(l.name for l in policy.lines)))
    take_highest = policy.take_highest
    nodes.append(Node(TAKE_HIGHEST, Op.TAKE_HIGHEST, Phase.RESULT,
                      inputs=((Role.TOTAL, CANDIDATE_TOTAL),), payload=TakeHighestPayload(),
                      citation=take_highest.citation if take_highest else None,
                      span=take_highest.span if take_highest else _no_span()))
    # The winner's lines (its computed ones first, then the upstream ones, as the
    # settled columns list them); `chosen` says whose figures they are.
    paid_lines = tuple(policy.computed_lines) + tuple(policy.upstream_lines)
    nodes.append(Node(TOTAL_PAID, Op.SUM, Phase.RESULT,
                      inputs=((Role.CHOSEN, TAKE_HIGHEST),)
                      + tuple((Role.PAYOUT, final[l.name]) for l in paid_lines),
                      payload=SumPayload(l.name for l in policy.lines)))
    nodes.append(Node(PERSONAL_BURDEN, Op.DIFFERENCE, Phase.RESULT,
                      inputs=((Role.MINUEND, TOTAL_COST), (Role.SUBTRAHEND, TOTAL_PAID)),
                      payload=DifferencePayload()))
    for alert in policy.alerts:
        nodes.extend(_alert(policy, alert))
    for referral in policy.referrals:
        nodes.append(Node(
            f"{referral.name}.referral", Op.REFERRAL, Phase.RESULT,
            # A listed line whose cap cut the claim: covered, and its slice above its
            # payout before the ratio ceiling (a ceiling cut is no reason to refer).
            inputs=((Role.CHOSEN, TAKE_HIGHEST), (Role.BURDEN, PERSONAL_BURDEN)) + tuple(
                (role, f"{line}.{suffix}") for line in referral.lines
                for role, suffix in ((Role.COVERED, "covered"), (Role.SLICE, "slice"),
                                     (Role.PAYOUT, "payout"))),
            payload=ReferralPayload(referral.name, referral.identities, referral.lines),
            citation=referral.citation, span=referral.span))
    return build_graph(policy, nodes)


def _no_span():
    from yibao.core.span import NO_SPAN

    return NO_SPAN


def _computed_line(policy: Policy, line: LineDef, earlier: list[str]) -> list[Node]:
    name = line.name
    nodes: list[Node] = []
    condition_inputs = tuple((Role.FIELD, f"claim.{f}") for f in condition_fields(line.condition))
    covers_citation = line.visits_rule.citation if line.visits_rule else None
    nodes.append(Node(
        f"{name}.covered", Op.COVERS, Phase.CANDIDATE,
        inputs=((Role.VISIT, VISIT), (Role.IDENTITY, CANDIDATE)) + condition_inputs,
        payload=CoversPayload(
            name, line.visits,
            condition_tree(line.condition) if line.condition is not None else None,
            (i.name for i in policy.identities if line.covers_identity(i.name)),
            line.covers_identity(None)),
        line=name, citation=covers_citation,
        span=line.visits_rule.span if line.visits_rule else line.span))
    if line.base_terms:
        start, *subtracted = line.base_terms
        base_inputs = ((Role.MINUEND, f"claim.{start}"),) + tuple(
            (Role.SUBTRAHEND, payout_id(term)) for term in subtracted)
    else:
        base_inputs = ((Role.MINUEND, IN_SCOPE),) + tuple(
            (Role.SUBTRAHEND, payout_id(term)) for term in earlier)
    base_rule = line.base_rule
    nodes.append(Node(
        f"{name}.base", Op.DIFFERENCE, Phase.CANDIDATE,
        inputs=base_inputs + ((Role.COVERED, f"{name}.covered"),),
        payload=DifferencePayload(remaining=not line.base_terms), line=name,
        citation=base_rule.citation if base_rule else None,
        span=base_rule.span if base_rule else line.span))
    for table, quantity in zip((line.deductible, line.rate, line.cap, line.per_unit),
                               QUANTITIES):
        if table is None:
            continue
        # A value an amendment changed for some visits only is read by the claim's visit too.
        by_visit = ((Role.VISIT, VISIT),) if table.varies_by_visit else ()
        nodes.append(Node(
            f"{name}.{quantity}", Op.LOOKUP, Phase.CANDIDATE,
            inputs=((Role.IDENTITY, CANDIDATE), (Role.COVERED, f"{name}.covered")) + by_visit,
            payload=_lookup_payload(name, quantity, table), line=name,
            citation=_table_citation(table), span=_table_span(table)))
    if line.per_unit is not None:
        nodes.append(Node(
            f"{name}.slice", Op.PER_UNIT, Phase.CANDIDATE,
            inputs=((Role.BASE, f"{name}.base"), (Role.AMOUNT, f"{name}.per_unit"),
                    (Role.UNITS, f"claim.{line.per_unit_field}"), (Role.COVERED, f"{name}.covered")),
            payload=PerUnitPayload(name, line.per_unit_field), line=name))
    else:
        nodes.append(Node(
            f"{name}.ytd", Op.YEAR_TO_DATE, Phase.CANDIDATE,
            inputs=((Role.BASE, f"{name}.base"), (Role.COVERED, f"{name}.covered")),
            payload=YearToDatePayload(name), line=name))
        schedule_inputs = [(Role.YTD, f"{name}.ytd"), (Role.RATE, f"{name}.rate")]
        if line.deductible is not None:
            schedule_inputs.append((Role.DEDUCTIBLE, f"{name}.deductible"))
        nodes.append(Node(
            f"{name}.slice", Op.SCHEDULE, Phase.CANDIDATE,
            inputs=tuple(schedule_inputs) + ((Role.COVERED, f"{name}.covered"),),
            payload=SchedulePayload(name), line=name))
    cap_inputs = [(Role.SLICE, f"{name}.slice"), (Role.COVERED, f"{name}.covered")]
    if line.cap is not None:
        cap_inputs.append((Role.CAP, f"{name}.cap"))
    nodes.append(Node(
        payout_id(name), Op.CAP, Phase.CANDIDATE, inputs=tuple(cap_inputs),
        payload=CapPayload(name), line=name))
    return nodes


def _table_citation(table):
    for _, sourced in table.items():
        if sourced.citation is not None:
            return sourced.citation
    return None


def _table_span(table):
    for _, sourced in table.items():
        return sourced.span
    return _no_span()


def _alert(policy: Policy, alert) -> list[Node]:
    lines = alert.after_lines if alert.after_lines is not None else tuple(
        l.name for l in policy.lines)
    if alert.after_lines is None:
        burden_inputs = ((Role.MINUEND, TOTAL_COST), (Role.SUBTRAHEND, TOTAL_PAID))
    else:
        burden_inputs = ((Role.MINUEND, TOTAL_COST), (Role.CHOSEN, TAKE_HIGHEST)) + tuple(
            (Role.SUBTRAHEND, final_payout_id(policy, line)) for line in lines)
    burden_citation = alert.burden_rule.citation if alert.burden_rule else None
    return [
        Node(f"{alert.name}.burden", Op.DIFFERENCE, Phase.RESULT,
             inputs=burden_inputs, payload=DifferencePayload(lines=lines),
             citation=burden_citation,
             span=alert.span),
        Node(f"{alert.name}.alert", Op.ALERT, Phase.RESULT,
             inputs=((Role.BURDEN, f"{alert.name}.burden"), (Role.VISIT, VISIT), (Role.SCHEME, SCHEME),
                     (Role.IDENTITIES, IDENTITIES)),
             payload=_alert_payload(policy, alert),
             citation=_table_citation(alert.threshold), span=alert.span),
    ]


def _looked(sourced: Sourced) -> Looked:
    """A table's value as plain data (a banded rate as its bands)."""
    value = sourced.value
    if value is UNSPECIFIED:
        return Looked(None, UnspecifiedSource(sourced.clause, sourced.note, sourced.version))
    if isinstance(value, BandSchedule):
        return Looked(tuple(Band(s.lower, s.upper, s.rate) for s in value.slices))
    return Looked(value)


def _plain(values) -> tuple:
    return tuple((key, _looked(sourced)) for key, sourced in values)


def _lookup_payload(line: str, quantity: str, table: ByIdentity) -> LookupPayload:
    return LookupPayload(line, quantity, table.name, _plain(table.values),
                         tuple((visit, _plain(values)) for visit, values in table.by_visit))


def _alert_payload(policy: Policy, alert: AlertDef) -> AlertPayload:
    """The alert's group as identities: an `except` group is everyone outside the
    named alerts' groups (docs/specification.md §17), so its members are those."""
    if alert.group_excludes:
        members = {identity for other in policy.alerts
                   if other.name in alert.group and not other.group_excludes
                   for identity in other.group}
    else:
        members = set(alert.group)
    return AlertPayload(alert.name, alert.visits, alert.group, alert.group_excludes,
                        members, _plain(alert.threshold.values), alert.above)
