"""One claim's evaluation laid over the graph, read from its trace alone.

The renderer never evaluates: each node's figure, whether the claim's path
went through it, and what the losing take-highest candidates would have had,
all come from the :class:`~yibao.runtime.trace.Step` list the evaluator
recorded (docs/specification.md §8: every candidate is traced).
"""

from __future__ import annotations

import enum

import attrs

from yibao.runtime.evaluate import ClaimResult
from yibao.runtime.facts import AlertFacts, Bound, CapFacts, CeilingCutFacts, CeilingFacts, \
    PerUnitFacts, ScheduleFacts
from yibao.compiler.lower import CANDIDATE, TAKE_HIGHEST
from yibao.core.money import format_money
from yibao.runtime.trace import Step
from yibao.dsl.model import NO_IDENTITY
from yibao.explain.identity_shown import identity_shown
from yibao.explain.step_words import covered
from yibao.explain.trace_zh import words


class Mark(enum.Enum):
    TAKEN = "taken"        # on the claim's path: evaluated and applied
    UNTAKEN = "untaken"    # evaluated but not applied: a line not covered, a value skipped


@attrs.frozen
class NodeOverlay:
    value: str                                 # the node's figure, in the graph's Chinese
    mark: Mark
    step: Step
    losers: tuple[tuple[str, str], ...] = ()   # (candidate, value) of losing candidates
    note: str = ""                             # what bound the figure (未达起付标准, …)
    zero: bool = False                         # a payout on the path that paid 0


@attrs.frozen
class Overlay:
    claim_id: str
    winner: str                                # the identity applied (or NO_IDENTITY)
    nodes: dict[str, NodeOverlay] = attrs.field(eq=False)
    # The winner as the person holds it: 监测帮扶对象（参照低保对象）(explain/identity_shown.py).
    winner_shown: str = ""

    def mark(self, node_id: str) -> Mark | None:
        entry = self.nodes.get(node_id)
        return entry.mark if entry else None


class MissingTrace(ValueError):
    """The result was settled without a trace, so there is nothing to overlay."""


def overlay_from_result(result: ClaimResult) -> Overlay:
    if not result.trace:
        raise MissingTrace(f"claim {result.claim_id} was settled without a trace")
    winner = result.identity or NO_IDENTITY
    chosen = [s for s in result.trace if s.candidate in (None, winner)]
    losing = [s for s in result.trace if s.candidate not in (None, winner)]
    uncovered = {s.line for s in chosen if s.op == "covers" and not covered(s)}
    shown = identity_shown(result.trace, result.identity)
    nodes: dict[str, NodeOverlay] = {}
    for step in chosen:
        applied = not step.skipped and step.line not in uncovered
        # The identity nodes name the winner as the person holds it (参照执行).
        value = shown if step.node in (CANDIDATE, TAKE_HIGHEST) else words(step).value
        nodes[step.node] = NodeOverlay(value, Mark.TAKEN if applied else Mark.UNTAKEN, step)
    for node, note in bound_notes(chosen, uncovered).items():
        entry = nodes[node]
        nodes[node] = attrs.evolve(entry, note=note, zero=_paid_zero(entry.step))
    for step in losing:
        entry = nodes.get(step.node)
        if entry is not None:
            nodes[step.node] = attrs.evolve(
                entry, losers=entry.losers + ((step.candidate, words(step).value),))
    return Overlay(result.claim_id, winner, nodes, shown)


def _paid_zero(step: Step) -> bool:
    return isinstance(step.facts, CapFacts) and not step.facts.payout


def bound_notes(chosen: list[Step], uncovered: set[str | None]) -> dict[str, str]:
    """What bound each figure on the applied identity's path, in the graph's Chinese: a
    line's payout says why it paid 0 or less than its formula (not covered, deductible
    not reached, cap reached, ceiling cut) and what the line had paid this year; the
    slice its deductible, the ceiling its cut, an alert the year's burden."""
    reasons: dict[str | None, list[str]] = {}
    notes: dict[str, str] = {}
    for step in chosen:
        facts = step.facts
        if isinstance(facts, ScheduleFacts) and facts.bound is Bound.DEDUCTIBLE_NOT_REACHED:
            note = f"未达起付标准 {format_money(facts.deductible)}"
            notes[step.node] = note
            reasons.setdefault(step.line, []).append(note)
        elif isinstance(facts, PerUnitFacts) and facts.bound is Bound.BASE:
            reasons.setdefault(step.line, []).append("以计算基数为限")
        elif isinstance(facts, CeilingFacts) and facts.bound is Bound.CEILING_CUT:
            notes[step.node] = f"比例上限压减 {format_money(facts.cut)}"
        elif isinstance(facts, CeilingCutFacts) and facts.cut:
            # the line's own figure after the ceiling (its payout node keeps the one before)
            notes[step.node] = f"比例上限压减 {format_money(facts.cut)}"
        elif isinstance(facts, AlertFacts):
            notes[step.node] = f"年度累计负担 {format_money(facts.burden)}"
    for step in chosen:
        facts = step.facts
        if not isinstance(facts, CapFacts):
            continue
        found = list(reasons.get(step.line, ()))
        if step.line in uncovered or not facts.applies:
            found = ["不予保障"]
        elif facts.bound is Bound.CAP_REACHED:
            found.append(f"已达年度限额（年度已付 {format_money(facts.paid)}）")
        elif facts.cap is not None:
            found.append(f"年度已付 {format_money(facts.paid)}")
        if found:
            notes[step.node] = "；".join(found)
    return notes
