"""A claim's trace arranged as the explanation reads it, for every renderer.

Sections follow the settlement: the upstream lines, one section per
take-highest candidate, then take highest and the totals, then the alerts.
Within a section the steps are grouped by line; a line that did not apply is
kept as its coverage step alone, so the views follow what was actually paid
(the JSON trace keeps every step).  Also gathered here: the claim's inputs,
the year-to-date figures, the take-highest comparison and the alerts, all read
from the result and its trace, never evaluated again.
"""

from __future__ import annotations

from itertools import groupby

import attrs

from yibao.runtime.evaluate import ClaimResult
from yibao.runtime.trace import Step
from yibao.runtime.facts import AlertFacts, CapFacts, RecordedWords, YearToDateFacts
from yibao.core.money import format_money
from yibao.dsl.model import NO_IDENTITY
from yibao.explain.step_words import covered


@attrs.frozen
class LineGroup:
    line: str | None
    covers: Step | None          # the line's coverage step, when it has one
    steps: tuple[Step, ...]      # the steps to show (not the skipped ones, not coverage)

    @property
    def applies(self) -> bool:
        return self.covers is None or covered(self.covers)

    @property
    def nested(self) -> bool:
        """A line with a coverage step is shown under its own heading."""
        return self.line is not None and self.covers is not None


@attrs.frozen
class Section:
    kind: str                    # upstream | candidate | totals | alerts_section
    groups: tuple[LineGroup, ...]
    candidate: str | None = None


def sections(trace: tuple[Step, ...]) -> list[Section]:
    """The sections with something to show, in settlement order."""
    upstream = [s for s in trace if s.op == "upstream"]
    candidates = [s for s in trace if s.candidate is not None]
    after = [s for s in trace if s.candidate is None and s.op not in ("input", "upstream")]
    found = [Section("upstream", _groups(upstream))]
    for candidate, steps in groupby(candidates, key=lambda s: s.candidate):
        found.append(Section("candidate", _groups(list(steps)), candidate))
    found.append(Section("totals", _groups([s for s in after if s.op != "alert"])))
    found.append(Section("alerts_section", _groups([s for s in after if s.op == "alert"])))
    return [section for section in found if section.groups]


def _groups(steps: list[Step]) -> tuple[LineGroup, ...]:
    groups = []
    for line, group in groupby(steps, key=lambda s: s.line):
        group = list(group)
        covers = next((s for s in group if s.op == "covers"), None) if line else None
        shown = tuple(s for s in group if not s.skipped and not (line and s.op == "covers"))
        if covers is not None and not covered(covers):
            shown = ()
        if shown or covers is not None:
            groups.append(LineGroup(line, covers, shown))
    return tuple(groups)


# ---- figures gathered for tables ---------------------------------------------------------

@attrs.frozen
class YearToDate:
    line: str
    base_before: str
    base_after: str
    paid_before: str
    cap: str
    paid_now: str


@attrs.frozen
class AlertCheck:
    step: Step
    burden: str
    threshold: str


def claim_inputs(trace: tuple[Step, ...]) -> list[Step]:
    """The claim's fields and the upstream payouts, as traced."""
    return [s for s in trace if s.op in ("input", "upstream")]


def winner_label(result: ClaimResult) -> str:
    return result.identity or NO_IDENTITY


def year_to_date(result: ClaimResult) -> list[YearToDate]:
    """Per line that applied to the identity applied: the year-to-date figures it used."""
    winner = winner_label(result)
    payouts = {line: f"{amount:.2f}" for line, amount in result.payouts}
    rows = []
    for section in sections(result.trace):
        if section.kind != "candidate" or section.candidate != winner:
            continue
        for group in section.groups:
            if not group.nested or not group.applies:
                continue
            figures = {name: value for step in group.steps
                       for name, value in _year_to_date_figures(step)}
            ytd = next((s for s in group.steps if s.op == "year_to_date"), None)
            if ytd is None and "paid" not in figures:
                continue
            rows.append(YearToDate(
                group.line, figures.get("before", "—"), figures.get("after", "—"),
                figures.get("paid", "—"), figures.get("cap", "不设"),
                payouts.get(group.line, "—")))
    return rows


# An old record's steps name their figures in Chinese (yibao-audit/1–2).
_RECORDED_NAMES = {"本次前累计": "before", "本次后累计": "after", "年度已付": "paid",
                   "年度限额": "cap", "年度累计负担": "burden", "预警标准": "threshold"}


def _year_to_date_figures(step: Step) -> list[tuple[str, str]]:
    """A line's year-to-date figures a step worked with: base before and after this
    claim, paid this year before it, the annual cap."""
    facts = step.facts
    if isinstance(facts, YearToDateFacts) and facts.counted:
        return [("before", format_money(facts.before)), ("after", format_money(facts.after))]
    if isinstance(facts, CapFacts) and facts.applies:
        found = [("paid", format_money(facts.paid))]
        return found + ([("cap", format_money(facts.cap))] if facts.cap is not None else [])
    if isinstance(facts, RecordedWords):
        return [(_RECORDED_NAMES[name], value) for name, value in facts.inputs
                if name in _RECORDED_NAMES]
    return []


def alert_checks(trace: tuple[Step, ...]) -> list[AlertCheck]:
    checks = []
    for step in trace:
        if step.op != "alert":
            continue
        facts = step.facts
        if isinstance(facts, AlertFacts):
            threshold = format_money(facts.threshold) if facts.threshold is not None else "—"
            checks.append(AlertCheck(step, format_money(facts.burden), threshold))
        else:
            figures = {_RECORDED_NAMES.get(name): value for name, value in facts.inputs}
            checks.append(AlertCheck(step, figures.get("burden", "—"),
                                     figures.get("threshold", "—")))
    return checks
