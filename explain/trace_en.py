"""A trace step in English (``--lang en``): the English words of every phrase kind that
explain/trace_plan.py decides a step says, the same decisions as the Chinese.

The names inside (identities, lines, alerts, visits, schemes, claim fields) are
the documents' own terms and stay in Chinese, as do the clauses' words.  The
English is written from the same figures as the Chinese (explain/trace_zh.py),
never translated from it.
"""

from __future__ import annotations

import functools

from yibao.runtime.facts import CoversFacts
from yibao.compiler.lower import CANDIDATE, CANDIDATE_TOTAL, PERSONAL_BURDEN, \
    TAKE_HIGHEST, TOTAL_PAID
from yibao.runtime.trace import Step
from yibao.core.money import format_money, format_rate
from yibao.dsl.model import NO_IDENTITY
from yibao.explain import trace_plan as plan
from yibao.explain.readings import reading_words
from yibao.explain.step_words import condition_text, write

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
    "burden": "monitored burden",
    "alert": "alert",
    "after_ceiling": "payout after the ratio ceiling",
}


def value(text: str) -> str:
    """A name or word the views show as a value (是, 不设, 无救助身份, …) in English."""
    return VALUES.get(text, text)


def node_label(node: str, op: str = "") -> str:
    """A node's label in English, from its id: the names inside stay as they are."""
    return CATALOGUE.word(plan.node_name(node, op))


def step_label(step: Step) -> str:
    return CATALOGUE.word(plan.step_name(step))


def condition(tree: tuple) -> str:
    """A condition tree (compiler/conditions.py condition_tree) in words."""
    return condition_text(tree, "not", "and", "or")


# ---- the words of every phrase kind (explain/trace_plan.py decides which) ---------------

ENTRIES = {
    **plan.NEUTRAL,
    plan.Yes: "yes",
    plan.No: "no",
    plan.NoNames: "none",
    plan.Text: lambda p: value(p.text),
    plan.Bands: "bands: {slices}",
    plan.BandFrom: lambda p: f"{p.lower:,} and above {format_rate(p.rate)}",
    plan.FixedNode: lambda p: NODE_LABELS[p.node],
    plan.CeilingNode: "ratio ceiling {rate}",
    plan.CeilingNodeUnrated: "ratio ceiling",
    plan.ReferralNode: "referral to {referral}",
    plan.DueSlice: "{line} due this claim",
    plan.PerUnitSlice: "{line} per-unit payout",
    plan.LineNode: lambda p: f"{p.line} {SUFFIXES.get(p.suffix, p.suffix)}",
    plan.BandRates: "band rates",
    plan.Who: lambda p: value(p.identity or NO_IDENTITY),
    plan.HeldAs: "{held} (treated as {identity})",
    plan.Quantity: lambda p: QUANTITY[p.key],
    plan.Condition: lambda p: condition(p.tree),
    plan.Interpretation: lambda p: reading_words(p.reading, english=True),
    plan.NotSet: "none",
    plan.AlertRaised: "alert",
    plan.NoAlert: "no alert",
    plan.Referred: "referred",
    plan.Then: "; {part}",
    plan.Also: "; {part}",
    plan.AsClaimed: "as claimed ({field})",
    plan.SettledUpstream: "{line} is settled upstream: paid.{line} as claimed",
    plan.NoIdentityHeld: "holds no assistance identity of this policy",
    plan.TreatedAs: "{treated_from} treated as {identity}",
    plan.EvaluatedUnder: "evaluated under the treatment of {identity}",
    plan.NotRead: "does not apply; not read",
    plan.LookupNotSet: "{identity} {quantity}: none",
    plan.LookupValue: "{identity} {quantity} = {value}",
    plan.Covered: "{visit} is covered by {line}, and so is {identity}",
    plan.VisitNotCovered: "{visit} is not covered by {line} ({visits})",
    plan.ConditionFailed: "condition not met: {condition}",
    plan.IdentityNotCovered: "{identity} is not covered by {line}",
    plan.ConditionHeld: lambda p: f"condition met: {condition(p.condition.tree)} "
                                  f"§{p.clause}".rstrip(" §"),
    plan.BaseNotApplicable: "does not apply; base 0",
    plan.Subtraction: lambda p: " − ".join(f"{node_label(node)} {format_money(amount)}"
                                           for node, amount in p.terms)
    + f" = {format_money(p.result)}",
    plan.NotCounted: "not added to the year-to-date base of {line}, which stays {before}",
    plan.Counted: "year-to-date base: before this claim {before} + this claim {this_claim} = "
                  "{after}",
    plan.NotApplicable: "does not apply",
    plan.Slice: "G(C) = max(0, {rate} × (C − deductible {deductible})); "
                "G({after}) − G({before}) = {g_after} − {g_before} = {payout}",
    plan.DeductibleNotReached: ", deductible not reached: the year's base {after} is under "
                               "{deductible}",
    plan.PerAdmission: "; {reading}; per admission it would be {figure}",
    plan.PerUnit: "quota {amount} × {units} {unit}, at most the base {base} = {payout}",
    plan.LineNotApplicable: "{line} does not apply: pays 0",
    plan.NoCap: "no annual cap: pays {payout}",
    plan.CapRoom: "min(due this claim {due}, annual cap {cap} − paid this year {paid} = {room}) "
                  "= {payout}",
    plan.CapReached: ", annual cap reached",
    plan.CeilingNotApplicable: "not subject to the ratio ceiling; unchanged",
    plan.CeilingHeld: "{held} subject to the ratio ceiling; ",
    plan.CeilingBound: "bound {rate} × in-scope cost {in_scope_cost}",
    plan.CeilingLimit: " = {limit} (rounded down to the fen)",
    plan.WithinCeiling: "; total paid {combined} is within it; unchanged",
    plan.CeilingCut: "; total paid {combined} exceeds it, {cut} cut: {cuts}",
    plan.LineCut: "{name} {before} → {after} (cut {cut})",
    plan.LineCeilingCut: "{line} cut by the ratio ceiling: {before} − {cut} = {after}",
    plan.LineNotCut: "{line} not cut by the ratio ceiling: {after}",
    plan.OneIdentity: "one identity only: {identity}",
    plan.Totals: "totals by identity: {totals}; {reason}; never added together",
    plan.Tied: "tied; {winner}, listed first in the policy, applies ({reading})",
    plan.Highest: "{winner} is highest",
    plan.BurdenCounted: "this claim's burden counts",
    plan.VisitNotCounted: "{visit} does not count",
    plan.InGroupAs: "in {alert}'s group as {members}",
    plan.InGroupOutsideOthers: "in {alert}'s group, outside every other alert's",
    plan.NotInGroup: "not in this alert's group",
    plan.AlertedEarlier: " (alerted earlier this year)",
    plan.BurdenAbove: "annual burden {burden} is above threshold {threshold}: alert",
    plan.BurdenReached: "annual burden {burden} ≥ threshold {threshold}: alert",
    plan.BurdenNotAbove: "annual burden {burden} is not above threshold {threshold}",
    plan.BurdenBelow: "annual burden {burden} < threshold {threshold}",
    plan.NotEligible: "{identity} is not eligible for {referral}",
    plan.NothingCapped: "no payout was cut by an annual cap; no referral",
    plan.ReferredFor: "{capped} reached the annual cap, personal burden still "
                      "{personal_burden}: referred to {referral} (no payout computed)",
}
CATALOGUE = plan.Catalogue(ENTRIES, ", ")


def condition_held(facts: CoversFacts) -> str:
    """A `when` condition that held, with its own clause."""
    return CATALOGUE.word(plan.condition_held(facts))


words = functools.partial(write, catalogue=CATALOGUE)
words.__doc__ = "A step's value and formula in English."
