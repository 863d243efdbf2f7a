"""What a trace step says, decided once for every language (issue 23).

Per :class:`~yibao.compiler.graph.Op`, from the step's facts, one planner decides
what the step says: which figures to show, which reading or bound applies, the
order of the sentences.  It returns a :class:`Said`: the step's value and its
formula as a sequence of small typed phrases with their parameters.  The words
are the catalogues' (explain/trace_zh.py, explain/trace_en.py): each words every
phrase kind and decides nothing, so the two languages cannot say different things.

Wording a phrase: a catalogue's entry is a template, filled with the phrase's
fields (money with two decimals, names joined as the language joins them, a
phrase worded, a list of phrases joined with "; "), or a function of the phrase.
A phrase that continues a formula brings its own joining punctuation in each
language (Chinese joins with ，or ；, English with , or ;, not always at the same
places).  A new op adds its planner here (every op must have one) and its phrase
kinds here and in both catalogues (tests/explain/test_trace_words.py).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, Mapping, Union

import attrs

from yibao.runtime.facts import Bound, CeilingFacts, CoversFacts, InputFacts, Reading, \
    RecordedWords
from yibao.compiler.graph import Node, Op, handlers_by_op
from yibao.compiler.lower import CANDIDATE, CANDIDATE_TOTAL, CEILING, PERSONAL_BURDEN, \
    TAKE_HIGHEST, TOTAL_PAID
from yibao.runtime.trace import Step
from yibao.core.money import format_money, format_rate
from yibao.dsl.model import BandSchedule
from yibao.explain.readings import per_admission


class Phrase:
    """A message kind: a frozen attrs class whose fields are its parameters."""


_KINDS: list[type] = []


def phrase(cls):
    """Declare a phrase kind: frozen, and one that every catalogue must word."""
    kind = attrs.frozen(cls)
    _KINDS.append(kind)
    return kind


@attrs.frozen
class Said:
    value: Phrase
    formula: tuple[Phrase, ...] = ()


# ---- the phrase kinds -----------------------------------------------------------------
# Values and names.

@phrase
class Absent(Phrase):         # — : nothing claimed, nothing read
    pass


@phrase
class Yes(Phrase):
    pass


@phrase
class No(Phrase):
    pass


@phrase
class Names(Phrase):          # identities, visits: joined as the language joins names
    names: tuple[str, ...]


@phrase
class NoNames(Phrase):        # 无
    pass


@phrase
class Text(Phrase):           # a value as claimed (住院, 居民医保); a word the language may have
    text: str


@phrase
class Bands(Phrase):
    slices: tuple[Phrase, ...]


@phrase
class Band(Phrase):
    lower: Decimal
    upper: Decimal
    rate: Decimal


@phrase
class BandFrom(Phrase):       # the last band, open above
    lower: Decimal
    rate: Decimal


@phrase
class Money(Phrase):
    amount: Decimal


@phrase
class Rate(Phrase):
    rate: Decimal


@phrase
class BandRates(Phrase):      # a rate by bands, in a formula
    pass


@phrase
class Who(Phrase):            # an identity, or none held
    identity: str | None


@phrase
class HeldAs(Phrase):         # identities held, only treated as `identity` (参照执行)
    held: tuple[str, ...]
    identity: str


@phrase
class Quantity(Phrase):       # deductible | rate | cap | per_unit
    key: str


@phrase
class Display(Phrase):        # a declared field's display name (省内就医): the policy's words
    name: str


@phrase
class FixedNode(Phrase):      # a node of every graph (compiler/lower.py), or a claim field
    node: str


@phrase
class CeilingNode(Phrase):
    rate: Rate


@phrase
class CeilingNodeUnrated(Phrase):
    pass


@phrase
class FieldNode(Phrase):      # a claim field the policy declares, by its name
    field: str


@phrase
class ReferralNode(Phrase):
    referral: str


@phrase
class DueSlice(Phrase):       # {line}.slice of a schedule: what this claim is due
    line: str


@phrase
class PerUnitSlice(Phrase):   # {line}.slice of a per-unit line
    line: str


@phrase
class LineNode(Phrase):       # {line}.{suffix}: base, deductible, payout, …
    line: str
    suffix: str


@phrase
class Condition(Phrase):      # a condition tree (compiler/conditions.py)
    tree: tuple


@phrase
class Interpretation(Phrase):  # a documented reading, with the specification's sections
    reading: Reading


@phrase
class NotSet(Phrase):         # a quantity the policy does not set (不设)
    pass


@phrase
class Amounts(Phrase):        # the lines' payouts: 基本救助 6000.00; 倾斜救助 1800.00
    items: tuple[Phrase, ...]


@phrase
class Amount(Phrase):
    name: str
    amount: Decimal


@phrase
class Span(Phrase):           # a year-to-date base before → after
    before: Decimal
    after: Decimal


@phrase
class AlertRaised(Phrase):
    pass


@phrase
class NoAlert(Phrase):
    pass


@phrase
class Referred(Phrase):
    pass


# Continuations: a part joined to what comes before it.

@phrase
class Then(Phrase):           # ；part (Chinese) / ; part
    part: Phrase


@phrase
class Also(Phrase):           # ; part, in both languages
    part: Phrase


# One op's sentences.

@phrase
class AsClaimed(Phrase):
    field: Phrase


@phrase
class SettledUpstream(Phrase):
    line: str


@phrase
class NoIdentityHeld(Phrase):
    pass


@phrase
class TreatedAs(Phrase):
    treated_from: tuple[str, ...]
    identity: str


@phrase
class EvaluatedUnder(Phrase):
    identity: str


@phrase
class NotRead(Phrase):        # a lookup of a line that does not apply
    pass


@phrase
class LookupNotSet(Phrase):
    identity: Who
    quantity: Quantity


@phrase
class LookupValue(Phrase):
    identity: Who
    quantity: Quantity
    value: Phrase


@phrase
class Covered(Phrase):
    visit: str
    line: str
    identity: Who


@phrase
class VisitNotCovered(Phrase):
    visit: str
    line: str
    visits: tuple[str, ...]


@phrase
class ConditionFailed(Phrase):
    condition: Condition


@phrase
class IdentityNotCovered(Phrase):
    identity: Who
    line: str


@phrase
class ConditionHeld(Phrase):  # the condition with its own clause (§(十三)), when it has one
    condition: Condition
    clause: str


@phrase
class BaseNotApplicable(Phrase):
    pass


@phrase
class Subtraction(Phrase):
    terms: tuple[tuple[str, Decimal], ...]     # (node id, amount), the minuend first
    result: Decimal


@phrase
class NotCounted(Phrase):
    line: str
    before: Decimal


@phrase
class Counted(Phrase):
    before: Decimal
    this_claim: Decimal
    after: Decimal


@phrase
class NotApplicable(Phrase):
    pass


@phrase
class Slice(Phrase):          # G(C_after) − G(C_before), G written with its clamp
    rate: Phrase
    deductible: Decimal
    before: Decimal
    after: Decimal
    g_before: Decimal
    g_after: Decimal
    payout: Decimal


@phrase
class DeductibleNotReached(Phrase):
    after: Decimal
    deductible: Decimal


@phrase
class PerAdmission(Phrase):   # the reading named, and what the other reading would give
    reading: Interpretation
    figure: Decimal


@phrase
class PerUnit(Phrase):
    amount: Decimal
    units: str
    unit: str
    base: Decimal
    payout: Decimal


@phrase
class LineNotApplicable(Phrase):
    line: str


@phrase
class NoCap(Phrase):
    payout: Decimal


@phrase
class CapRoom(Phrase):
    due: Decimal
    cap: Decimal
    paid: Decimal
    room: Decimal
    payout: Decimal


@phrase
class CapReached(Phrase):
    pass


@phrase
class CeilingNotApplicable(Phrase):
    pass


@phrase
class CeilingHeld(Phrase):    # why the ceiling binds this candidate
    held: tuple[str, ...]


@phrase
class CeilingBound(Phrase):
    rate: Rate
    in_scope_cost: Decimal


@phrase
class CeilingLimit(Phrase):   # the bound worked out, rounded down to the fen
    limit: Decimal


@phrase
class WithinCeiling(Phrase):
    combined: Decimal


@phrase
class CeilingCut(Phrase):
    combined: Decimal
    cut: Decimal
    cuts: tuple[Phrase, ...]


@phrase
class LineCut(Phrase):
    name: str
    before: Decimal
    after: Decimal
    cut: Decimal


@phrase
class LineCeilingCut(Phrase):   # a line's payout after the ratio ceiling cut it
    line: str
    before: Decimal
    cut: Decimal
    after: Decimal


@phrase
class LineNotCut(Phrase):       # a line's payout the ratio ceiling left as it was
    line: str
    after: Decimal


@phrase
class Addition(Phrase):
    parts: tuple[tuple[str, Decimal], ...]
    total: Decimal


@phrase
class OneIdentity(Phrase):
    identity: Who


@phrase
class Totals(Phrase):
    totals: tuple[Phrase, ...]
    reason: Phrase


@phrase
class Candidate(Phrase):
    identity: Phrase
    total: Decimal


@phrase
class Tied(Phrase):
    winner: Phrase
    reading: Interpretation


@phrase
class Highest(Phrase):
    winner: Phrase


@phrase
class BurdenCounted(Phrase):
    pass


@phrase
class VisitNotCounted(Phrase):
    visit: str


@phrase
class InGroupAs(Phrase):
    alert: str
    members: tuple[str, ...]


@phrase
class InGroupOutsideOthers(Phrase):
    alert: str


@phrase
class NotInGroup(Phrase):
    pass


@phrase
class AlertedEarlier(Phrase):
    pass


@phrase
class BurdenAbove(Phrase):    # the notice's 超过: strictly above
    burden: Decimal
    threshold: Decimal | None


@phrase
class BurdenReached(Phrase):
    burden: Decimal
    threshold: Decimal | None


@phrase
class BurdenNotAbove(Phrase):
    burden: Decimal
    threshold: Decimal | None


@phrase
class BurdenBelow(Phrase):
    burden: Decimal
    threshold: Decimal | None


@phrase
class NotEligible(Phrase):
    identity: Who
    referral: str


@phrase
class NothingCapped(Phrase):
    pass


@phrase
class ReferredFor(Phrase):
    capped: tuple[str, ...]
    personal_burden: Decimal
    referral: str


PHRASES: tuple[type, ...] = tuple(_KINDS)


# ---- values and names -------------------------------------------------------------------

def shown(value: Any) -> Phrase:
    """A value as claimed or looked up: money, a flag, bands, names, a word."""
    if type(value) is Decimal:
        return Money(value)
    if value is None:
        return Absent()
    if isinstance(value, bool):
        return Yes() if value else No()
    if isinstance(value, BandSchedule):
        return Bands(tuple(BandFrom(band.lower, band.rate) if band.upper is None
                           else Band(band.lower, band.upper, band.rate)
                           for band in value.slices))
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, Decimal) for v in value):
        return Span(*value)
    if isinstance(value, (list, tuple)):
        return Names(tuple(str(v) for v in value)) if value else NoNames()
    return Text(str(value))


# The graph's fixed nodes (compiler/lower.py) and the claim's own fields: each catalogue
# has a label for every one (NODE_LABELS).
FIXED_NODES = (CANDIDATE, CANDIDATE_TOTAL, TAKE_HIGHEST, TOTAL_PAID, PERSONAL_BURDEN,
               "claim.in_scope_cost", "claim.total_cost", "claim.visit", "claim.scheme",
               "claim.identities")


def node_name(node: str, op: str = "", rate: Decimal | None = None) -> Phrase:
    """A node's name, from its id (the names inside are the policy's own); ``rate`` is the
    ratio ceiling's."""
    if node in FIXED_NODES:
        return FixedNode(node)
    if node == CEILING:
        return CeilingNode(Rate(rate)) if rate is not None else CeilingNodeUnrated()
    name, _, suffix = node.rpartition(".")
    if not name or name == "claim":
        return FieldNode(suffix or node)   # a declared claim field is named by the policy
    if suffix == "referral":
        return ReferralNode(name)
    if suffix == "slice":
        return PerUnitSlice(name) if op == Op.PER_UNIT.value else DueSlice(name)
    return LineNode(name, suffix)


def step_name(step: Step) -> Phrase:
    """A step's label: a declared field by its display name, else its node's name."""
    if isinstance(step.facts, (InputFacts, RecordedWords)) and step.facts.label:
        return Display(step.facts.label)
    rate = step.facts.rate if isinstance(step.facts, CeilingFacts) else None
    return node_name(step.node, step.op, rate)


def graph_name(node: Node) -> Phrase:
    """A graph node's name as drawn (a declared field by its display name)."""
    label = getattr(node.payload, "label", "")   # a declared field's (InputPayload)
    if label:
        return Display(label)
    rate = node.payload.rate if node.op is Op.CEILING else None
    return node_name(node.id, node.op.value, rate)


# ---- one planner per op ------------------------------------------------------------------
def _input(step: Step) -> Said:
    return Said(shown(step.facts.value), (AsClaimed(step_name(step)),))


def _upstream(step: Step) -> Said:
    f = step.facts
    return Said(Money(f.amount), (SettledUpstream(f.line),))


def _identity(step: Step) -> Said:
    f = step.facts
    if f.identity is None:
        return Said(Who(None), (NoIdentityHeld(),))
    if f.treated_from:
        return Said(Who(f.identity), (TreatedAs(f.treated_from, f.identity),))
    return Said(Who(f.identity), (EvaluatedUnder(f.identity),))


def _lookup(step: Step) -> Said:
    f = step.facts
    if f.value is None and not f.applies:
        return Said(Absent(), (NotRead(),))
    who, quantity = Who(f.identity), Quantity(f.quantity)
    if f.value is None:
        return Said(NotSet(), (LookupNotSet(who, quantity),))
    value = (Rate(f.value) if isinstance(f.value, Decimal) and f.quantity == "rate"
             else shown(f.value))
    return Said(value, (LookupValue(who, quantity, value),))


def condition_held(f: CoversFacts) -> ConditionHeld:
    """A `when` condition that held, with its own clause: 条件满足: (省内就医 或 按规定转诊) §(十三)."""
    return ConditionHeld(Condition(f.condition), f.condition_clause)


def _covers(step: Step) -> Said:
    f = step.facts
    if f.covered:
        held = (Then(condition_held(f)),) if f.condition_held else ()
        return Said(Yes(), (Covered(f.visit, f.line, Who(f.identity)), *held))
    if f.bound is Bound.NOT_COVERED:
        return Said(No(), (VisitNotCovered(f.visit, f.line, f.visits),))
    if f.bound is Bound.CONDITION_FAILED:
        return Said(No(), (ConditionFailed(Condition(f.condition)),))
    return Said(No(), (IdentityNotCovered(Who(f.identity), f.line),))


def _difference(step: Step) -> Said:
    f = step.facts
    if not f.applies:
        return Said(Money(f.result), (BaseNotApplicable(),))
    return Said(Money(f.result), (Subtraction(f.terms, f.result),))


def _year_to_date(step: Step) -> Said:
    f = step.facts
    if not f.counted:
        return Said(Span(f.before, f.after), (NotCounted(f.line, f.before),))
    return Said(Span(f.before, f.after), (Counted(f.before, f.this_claim, f.after),))


def _schedule(step: Step) -> Said:
    f = step.facts
    if not f.applies:
        return Said(Money(f.payout), (NotApplicable(),))
    rate = Rate(f.rate) if isinstance(f.rate, Decimal) else BandRates()
    # G clamps at 0 below the deductible (specification §6.2): the formula shows it.
    formula: list[Phrase] = [Slice(rate, f.deductible, f.before, f.after, f.g_before, f.g_after,
                                   f.payout)]
    if f.bound is Bound.DEDUCTIBLE_NOT_REACHED:
        formula.append(DeductibleNotReached(f.after, f.deductible))
    if f.before and (f.deductible or not isinstance(f.rate, Decimal)):
        # an earlier claim counted toward the base: per admission the figure would differ
        formula.append(PerAdmission(Interpretation(f.reading), per_admission(f)))
    return Said(Money(f.payout), tuple(formula))


def _per_unit(step: Step) -> Said:
    f = step.facts
    if not f.applies:
        return Said(Money(f.payout), (NotApplicable(),))
    return Said(Money(f.payout), (PerUnit(f.amount, str(f.units), f.unit_label or f.unit,
                                          f.base, f.payout),))


def _cap(step: Step) -> Said:
    f = step.facts
    if not f.applies:
        return Said(Money(f.payout), (LineNotApplicable(f.line),))
    if f.cap is None:
        return Said(Money(f.payout), (NoCap(f.payout),))
    formula: list[Phrase] = [CapRoom(f.due, f.cap, f.paid, f.room, f.payout)]
    if f.bound is Bound.CAP_REACHED:
        formula.append(CapReached())
    if f.paid:
        formula.append(Then(Interpretation(f.reading)))
    return Said(Money(f.payout), tuple(formula))


def _ceiling(step: Step) -> Said:
    f = step.facts
    value = Amounts(tuple(Amount(name, amount) for name, amount in f.after))
    if not f.applies:
        return Said(value, (CeilingNotApplicable(),))
    # Why the ceiling binds this candidate, and the bound itself (specification §9).
    formula: list[Phrase] = [CeilingHeld(f.held)] if f.held else []
    formula.append(CeilingBound(Rate(f.rate), f.in_scope_cost))
    if f.limit is not None:
        formula.append(CeilingLimit(f.limit))
    if f.bound is not Bound.CEILING_CUT:
        formula.append(WithinCeiling(f.combined))
        return Said(value, tuple(formula))
    cuts = tuple(LineCut(name, before, after, before - after)
                 for (name, before), (_, after) in zip(f.before, f.after) if before != after)
    formula += [CeilingCut(f.combined, f.cut, cuts), Then(Interpretation(f.reading))]
    return Said(value, tuple(formula))


def _ceiling_cut(step: Step) -> Said:
    f = step.facts
    said = (LineCeilingCut(f.line, f.before, f.cut, f.after) if f.cut
            else LineNotCut(f.line, f.after))
    return Said(Money(f.after), (said,))


def _sum(step: Step) -> Said:
    f = step.facts
    return Said(Money(f.total), (Addition(f.parts, f.total),))


def _take_highest(step: Step) -> Said:
    f = step.facts
    if len(f.totals) == 1:
        only = Who(f.totals[0][0])
        return Said(only, (OneIdentity(only),))
    via = dict(f.treated_from)

    def shown(name: str | None) -> Phrase:   # the identity held, with the one applied
        return HeldAs(via[name], name) if name in via else Who(name)
    winner = shown(f.winner)
    reason = Tied(winner, Interpretation(f.reading)) if f.tied else Highest(winner)
    totals = tuple(Candidate(shown(name), total) for name, total in f.totals)
    return Said(winner, (Totals(totals, reason),))


def _alert(step: Step) -> Said:
    f = step.facts
    formula: list[Phrase] = [BurdenCounted() if f.counted else VisitNotCounted(f.visit)]
    # Which of the person's identities put them in the group (or, for a group of
    # everyone outside the named ones, that none of theirs is named).
    if f.in_group and f.members:
        formula.append(Also(InGroupAs(f.alert, f.members)))
    elif f.in_group and f.excludes:
        formula.append(Also(InGroupOutsideOthers(f.alert)))
    if not f.in_group:
        formula.append(Also(NotInGroup()))
        if f.fired:
            formula.append(AlertedEarlier())
    elif f.fired:
        formula.append(Also((BurdenAbove if f.above else BurdenReached)(f.burden, f.threshold)))
    else:
        formula.append(Also((BurdenNotAbove if f.above else BurdenBelow)(f.burden, f.threshold)))
    return Said(AlertRaised() if f.fired else NoAlert(), tuple(formula))


def _referral(step: Step) -> Said:
    f = step.facts
    if not f.eligible:
        return Said(No(), (NotEligible(Who(f.identity), f.referral),))
    if not f.capped:
        return Said(No(), (NothingCapped(),))
    return Said(Referred(), (ReferredFor(f.capped, f.personal_burden, f.referral),))


PLANNERS: dict[Op, Callable[[Step], Said]] = handlers_by_op(globals())


_BY_NAME = {op.value: planner for op, planner in PLANNERS.items()}   # a step holds op's value


def plan(step: Step) -> Said:
    """What the step says (its facts are an op's, not an old record's words)."""
    return _BY_NAME[step.op](step)


# ---- wording ---------------------------------------------------------------------------

Entry = Union[str, Callable[[Any], str]]


@attrs.frozen
class Catalogue:
    """One language's words for every phrase kind."""

    entries: Mapping[type, Entry]
    names: str                       # how names are joined: 、 or ", "
    # Each entry as a function of its phrase, made once (a template filled by field name).
    _writers: dict[type, Callable[[Any], str]] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self):
        object.__setattr__(self, "_writers", {kind: entry if callable(entry) else
                                              self._template(kind, entry)
                                              for kind, entry in self.entries.items()})

    def _template(self, kind: type, template: str) -> Callable[[Any], str]:
        names = tuple(field.name for field in attrs.fields(kind))
        fill = self._fill
        return lambda said: template.format_map({name: fill(getattr(said, name))
                                                 for name in names})

    def word(self, said: Phrase) -> str:
        return self._writers[type(said)](said)

    def _fill(self, value: Any) -> str:
        if isinstance(value, Phrase):
            return self.word(value)
        if isinstance(value, Decimal):
            return format_money(value)
        if value is None:
            return "—"
        if isinstance(value, tuple):
            if all(isinstance(v, Phrase) for v in value):
                return "; ".join(self.word(v) for v in value)
            return self.names.join(str(v) for v in value)
        return str(value)

    def formula(self, said: Said) -> str:
        return "".join(self.word(part) for part in said.formula)


# Words the same in every language: figures and the signs between them.
NEUTRAL: dict[type, Entry] = {
    Money: "{amount}",
    Amounts: "{items}",
    Amount: "{name} {amount}",
    Span: "{before} → {after}",
    Candidate: "{identity} {total}",
    Rate: lambda p: format_rate(p.rate),
    Absent: "—",
    Names: "{names}",
    Band: lambda p: f"{p.lower:,}–{p.upper:,} {format_rate(p.rate)}",
    Display: "{name}",
    FieldNode: "{field}",
    Addition: lambda p: " + ".join(f"{name} {format_money(amount)}" for name, amount in p.parts)
    + f" = {format_money(p.total)}",
}
