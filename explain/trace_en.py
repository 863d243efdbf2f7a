"""A trace step in English (``--lang en``): one writer per op, from the step's facts.

The names inside (identities, lines, alerts, visits, schemes, claim fields) are
the documents' own terms and stay in Chinese, as do the clauses' words.  The
English is written from the same figures as the Chinese (explain/trace_zh.py),
never translated from it.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from yibao.runtime.facts import Bound, CeilingFacts, CoversFacts, InputFacts, RecordedWords
from yibao.compiler.graph import Op, handlers_by_op
from yibao.compiler.lower import CANDIDATE, CANDIDATE_TOTAL, CEILING, PERSONAL_BURDEN, \
    TAKE_HIGHEST, TOTAL_PAID
from yibao.runtime.trace import Step
from yibao.core.money import format_money, format_rate
from yibao.dsl.model import NO_IDENTITY, BandSchedule
from yibao.explain.readings import per_admission, reading_words
from yibao.explain.step_words import StepWords, condition_text, write

QUANTITY = {"deductible": "deductible", "rate": "rate", "cap": "annual cap",
            "per_unit": "per-unit amount"}

# The values the views show in words, and the names the language fixes.
VALUES = {"是": "yes", "否": "no", "不设": "none", "预警": "alert", "未预警": "no alert",
          "转办": "referred", NO_IDENTITY: "no assistance identity", "无": "none"}

# The graph's fixed nodes (compiler/lower.py) and the claim's own fields.
NODE_LABELS = {
    CANDIDATE: "identity applied",
    CANDIDATE_TOTAL: "total for this identity",
    TAKE_HIGHEST: "take highest",
    TOTAL_PAID: "total paid",
    PERSONAL_BURDEN: "personal burden",
    "claim.in_scope_cost": "in-scope cost",
    "claim.total_cost": "total cost",
    "claim.visit": "visit",
    "claim.scheme": "scheme",
    "claim.identities": "identities",
}
# A line's, alert's or referral's node `{name}.{suffix}`: what the suffix names.
SUFFIXES = {
    "covered": "coverage",
    "base": "base",
    "deductible": "deductible",
    "rate": "rate",
    "cap": "annual cap",
    "per_unit": "per-unit amount",
    "ytd": "year-to-date base",
    "payout": "payout",
    "after_ceiling": "payout after the ratio ceiling",
    "burden": "monitored burden",
    "alert": "alert",
}


def value(text: str) -> str:
    """A name or word the views show as a value (是, 不设, 无救助身份, …) in English."""
    return VALUES.get(text, text)


def node_label(node: str, op: str = "") -> str:
    """A node's label in English, from its id: the names inside stay as they are."""
    if node in NODE_LABELS:
        return NODE_LABELS[node]
    name, _, suffix = node.rpartition(".")
    if not name or name == "claim":
        return suffix or node   # a declared claim field is named by the policy
    if suffix == "referral":
        return f"referral to {name}"
    if suffix == "slice":
        return f"{name} {'per-unit payout' if op == Op.PER_UNIT.value else 'due this claim'}"
    return f"{name} {SUFFIXES.get(suffix, suffix)}"


def step_label(step: Step) -> str:
    if isinstance(step.facts, (InputFacts, RecordedWords)) and step.facts.label:
        return step.facts.label      # the policy's display name: its own words
    if step.node == CEILING:
        facts = step.facts
        return (f"ratio ceiling {format_rate(facts.rate)}" if isinstance(facts, CeilingFacts)
                else "ratio ceiling")
    return node_label(step.node, step.op)


def show(figure: Any) -> str:
    if type(figure) is Decimal:
        return format_money(figure)
    if figure is None:
        return "—"
    if isinstance(figure, bool):
        return "yes" if figure else "no"
    if isinstance(figure, BandSchedule):
        return "bands: " + "; ".join(_band(band) for band in figure.slices)
    if isinstance(figure, (list, tuple)):
        return ", ".join(str(v) for v in figure) or "none"
    return value(str(figure))


def _band(band) -> str:
    if band.upper is None:
        return f"{band.lower:,} and above {format_rate(band.rate)}"
    return f"{band.lower:,}–{band.upper:,} {format_rate(band.rate)}"


def condition(tree: tuple) -> str:
    """A condition tree (compiler/conditions.py condition_tree) in words."""
    return condition_text(tree, "not", "and", "or")


def _who(identity: str | None) -> str:
    return value(identity or NO_IDENTITY)


m = format_money


# ---- one writer per op --------------------------------------------------------------------

def _input(step: Step) -> StepWords:
    return StepWords(show(step.facts.value), f"as claimed ({step_label(step)})")


def _upstream(step: Step) -> StepWords:
    f = step.facts
    return StepWords(m(f.amount), f"{f.line} is settled upstream: paid.{f.line} as claimed")


def _identity(step: Step) -> StepWords:
    f = step.facts
    if f.identity is None:
        return StepWords(_who(None), "holds no assistance identity of this policy")
    if f.treated_from:
        return StepWords(f.identity, f"{', '.join(f.treated_from)} treated as {f.identity}")
    return StepWords(f.identity, f"evaluated under the treatment of {f.identity}")


def _lookup(step: Step) -> StepWords:
    f = step.facts
    what = QUANTITY[f.quantity]
    if f.value is None and not f.applies:
        return StepWords("—", "does not apply; not read")
    if f.value is None:
        return StepWords("none", f"{_who(f.identity)} {what}: none")
    text = (format_rate(f.value) if isinstance(f.value, Decimal) and f.quantity == "rate"
            else show(f.value))
    return StepWords(text, f"{_who(f.identity)} {what} = {text}")


def _covers(step: Step) -> StepWords:
    f = step.facts
    if f.covered:
        held = f"; {condition_held(f)}" if f.condition_held else ""
        return StepWords("yes", f"{f.visit} is covered by {f.line}, and so is "
                                f"{_who(f.identity)}{held}")
    if f.bound is Bound.NOT_COVERED:
        return StepWords("no", f"{f.visit} is not covered by {f.line} ({', '.join(f.visits)})")
    if f.bound is Bound.CONDITION_FAILED:
        return StepWords("no", f"condition not met: {condition(f.condition)}")
    return StepWords("no", f"{_who(f.identity)} is not covered by {f.line}")


def condition_held(f: CoversFacts) -> str:
    """A `when` condition that held, with its own clause."""
    return f"condition met: {condition(f.condition)} §{f.condition_clause}".rstrip(" §")


def _difference(step: Step) -> StepWords:
    f = step.facts
    if not f.applies:
        return StepWords(m(f.result), "does not apply; base 0")
    terms = " − ".join(f"{node_label(node)} {m(amount)}" for node, amount in f.terms)
    return StepWords(m(f.result), f"{terms} = {m(f.result)}")


def _year_to_date(step: Step) -> StepWords:
    f = step.facts
    figure = f"{m(f.before)} → {m(f.after)}"
    if not f.counted:
        return StepWords(figure, f"not added to the year-to-date base of {f.line}, which stays "
                                 f"{m(f.before)}")
    return StepWords(figure, f"year-to-date base: before this claim {m(f.before)} + this claim "
                             f"{m(f.this_claim)} = {m(f.after)}")


def _schedule(step: Step) -> StepWords:
    f = step.facts
    if not f.applies:
        return StepWords(m(f.payout), "does not apply")
    rate = format_rate(f.rate) if isinstance(f.rate, Decimal) else "band rates"
    # G clamps at 0 below the deductible (specification §6.2): the formula shows it.
    formula = (f"G(C) = max(0, {rate} × (C − deductible {m(f.deductible)})); "
               f"G({m(f.after)}) − G({m(f.before)}) = {m(f.g_after)} − {m(f.g_before)} = "
               f"{m(f.payout)}")
    if f.bound is Bound.DEDUCTIBLE_NOT_REACHED:
        formula += f", deductible not reached: the year's base {m(f.after)} is under {m(f.deductible)}"
    if f.before and (f.deductible or not isinstance(f.rate, Decimal)):
        # an earlier claim counted toward the base: per admission the figure would differ
        formula += (f"; {reading_words(f.reading, english=True)}; per admission it would be "
                    f"{m(per_admission(f))}")
    return StepWords(m(f.payout), formula)


def _per_unit(step: Step) -> StepWords:
    f = step.facts
    if not f.applies:
        return StepWords(m(f.payout), "does not apply")
    return StepWords(m(f.payout), f"quota {m(f.amount)} × {f.units} {f.unit_label or f.unit}, at most the base "
                                  f"{m(f.base)} = {m(f.payout)}")


def _cap(step: Step) -> StepWords:
    f = step.facts
    if not f.applies:
        return StepWords(m(f.payout), f"{f.line} does not apply: pays 0")
    if f.cap is None:
        return StepWords(m(f.payout), f"no annual cap: pays {m(f.payout)}")
    reached = ", annual cap reached" if f.bound is Bound.CAP_REACHED else ""
    reading = f"; {reading_words(f.reading, english=True)}" if f.paid else ""
    return StepWords(m(f.payout), (
        f"min(due this claim {m(f.due)}, annual cap {m(f.cap)} − paid this year {m(f.paid)} = "
        f"{m(f.room)}) = {m(f.payout)}{reached}{reading}"))


def _ceiling(step: Step) -> StepWords:
    f = step.facts
    figure = "; ".join(f"{name} {m(amount)}" for name, amount in f.after)
    if not f.applies:
        return StepWords(figure, "not subject to the ratio ceiling; unchanged")
    # Why the ceiling binds this candidate, and the bound itself (specification §9).
    why = f"{', '.join(f.held)} subject to the ratio ceiling; " if f.held else ""
    limit = f"bound {format_rate(f.rate)} × in-scope cost {m(f.in_scope_cost)}"
    if f.limit is not None:
        limit += f" = {m(f.limit)} (rounded down to the fen)"
    if f.bound is not Bound.CEILING_CUT:
        return StepWords(figure, f"{why}{limit}; total paid {m(f.combined)} is within it; "
                                 "unchanged")
    cuts = "; ".join(f"{name} {m(before)} → {m(after)} (cut {m(before - after)})"
                     for (name, before), (_, after) in zip(f.before, f.after) if before != after)
    return StepWords(figure, f"{why}{limit}; total paid {m(f.combined)} exceeds it, "
                             f"{m(f.cut)} cut: {cuts}; {reading_words(f.reading, english=True)}")


def _ceiling_cut(step: Step) -> StepWords:
    f = step.facts
    if f.cut:
        return StepWords(m(f.after), f"{f.line} cut by the ratio ceiling: {m(f.before)} − "
                                     f"{m(f.cut)} = {m(f.after)}")
    return StepWords(m(f.after), f"{f.line} not cut by the ratio ceiling: {m(f.after)}")


def _sum(step: Step) -> StepWords:
    f = step.facts
    parts = " + ".join(f"{name} {m(amount)}" for name, amount in f.parts)
    return StepWords(m(f.total), f"{parts} = {m(f.total)}")


def _take_highest(step: Step) -> StepWords:
    f = step.facts
    if len(f.totals) == 1:
        only = _who(f.totals[0][0])
        return StepWords(only, f"one identity only: {only}")
    via = dict(f.treated_from)

    def shown(name):   # the identity held, with the one applied in brackets
        return f"{', '.join(via[name])} (treated as {name})" if name in via else (
            name or NO_IDENTITY)
    winner = shown(f.winner)
    listing = "; ".join(f"{shown(name)} {m(total)}" for name, total in f.totals)
    reason = (f"tied; {winner}, listed first in the policy, applies "
              f"({reading_words(f.reading, english=True)})" if f.tied
              else f"{winner} is highest")
    return StepWords(_who(f.winner), f"totals by identity: {listing}; {reason}; "
                                     "never added together")


def _alert(step: Step) -> StepWords:
    f = step.facts
    limit = m(f.threshold) if f.threshold is not None else "—"
    burden = m(f.burden)
    if not f.in_group:
        status = "not in this alert's group" + (" (alerted earlier this year)" if f.fired else "")
    elif f.fired:
        status = (f"annual burden {burden} is above threshold {limit}: alert" if f.above
                  else f"annual burden {burden} ≥ threshold {limit}: alert")
    else:
        status = (f"annual burden {burden} is not above threshold {limit}" if f.above
                  else f"annual burden {burden} < threshold {limit}")
    counted = "this claim's burden counts" if f.counted else f"{f.visit} does not count"
    # Which of the person's identities put them in the group.
    if f.in_group and f.members:
        counted += f"; in {f.alert}'s group as {', '.join(f.members)}"
    elif f.in_group and f.excludes:
        counted += f"; in {f.alert}'s group, outside every other alert's"
    return StepWords("alert" if f.fired else "no alert", f"{counted}; {status}")


def _referral(step: Step) -> StepWords:
    f = step.facts
    if not f.eligible:
        return StepWords("no", f"{_who(f.identity)} is not eligible for {f.referral}")
    if not f.capped:
        return StepWords("no", "no payout was cut by an annual cap; no referral")
    return StepWords("referred", f"{', '.join(f.capped)} reached the annual cap, personal burden "
                                 f"still {m(f.personal_burden)}: referred to {f.referral} "
                                 "(no payout computed)")


WRITERS = handlers_by_op(globals())

words = functools.partial(write, writers=WRITERS)
words.__doc__ = "A step's value and formula in English."
