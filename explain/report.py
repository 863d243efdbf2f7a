"""An explanation as words and tables in one language, ready for Markdown or HTML.

Both renderers format the same :class:`Report`, so a case file's Markdown and
the auditor's HTML page never disagree: the claim's inputs, the result, the
take-highest comparison, the year-to-date figures, the alerts and referrals,
then every step with its figure, formula and the clause's words.
"""

from __future__ import annotations

import attrs

from yibao.runtime.claims import Claim
from yibao.runtime.evaluate import ClaimResult
from yibao.runtime.trace import Step
from yibao.core.money import format_money
from yibao.dsl.model import NO_IDENTITY, Policy
from yibao.explain.figures import money, readable
from yibao.explain.identity_shown import identity_shown
from yibao.explain.labels import Language
from yibao.explain.outline import (alert_checks, claim_inputs, sections, winner_label,
                                   year_to_date)


@attrs.frozen
class Table:
    anchor: str                      # a stable id: inputs, result, take-highest, ...
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    strong: tuple[int, ...] = ()     # rows to emphasise (the applied identity, the totals)
    notes_title: str = ""
    notes: tuple[str, ...] = ()      # said under the table: the inputs' clauses, quoted


@attrs.frozen
class StepView:
    label: str
    value: str
    formula: str
    clause: str                      # §(五)「the quoted words」, as the language writes it
    reference: str = ""              # §(五) alone
    repeated: bool = False           # an earlier step printed the same clause and words


@attrs.frozen
class GroupView:
    line: str | None
    heading: bool                    # a line of defence with its own heading
    note: str                        # why a line did not apply, else ""
    steps: tuple[StepView, ...]
    condition: str = ""              # a line that applied: its `when` condition held (§)


@attrs.frozen
class SectionView:
    title: str                       # numbered; a take-highest candidate says if it applied
    chosen: bool                     # False for a losing take-highest candidate
    groups: tuple[GroupView, ...]


@attrs.frozen
class Report:
    lang: Language
    title: str
    policy: str
    tables: tuple[Table, ...]
    sections: tuple[SectionView, ...]


def build_report(result: ClaimResult, claim: Claim, policy: Policy, lang: Language,
                 quotes: bool = True) -> Report:
    title = lang.word("title", claim=claim.claim_id)
    in_force = lang.word("in_force", date=str(policy.effective))
    about = f"{lang.word('policy')}: {policy.policy_id} {policy.title} · {in_force}"
    views = _mark_repeated([_section(index, section, result, lang, quotes)
                            for index, section in enumerate(sections(result.trace))])
    tables = [_inputs(result, claim, lang, _quoted_in(views) if quotes else None),
              _result(result, lang), _take_highest(result, lang),
              _year_to_date(result, lang), _alerts(result, lang)]
    return Report(lang, title, about, tuple(t for t in tables if t is not None and t.rows),
                  tuple(views))


# ---- tables --------------------------------------------------------------------------

def _inputs(result: ClaimResult, claim: Claim, lang: Language,
            quoted: tuple[str, ...] | None) -> Table:
    """The claim as read, each row with the clause that declares it (§(十三)) in a third
    column; the clauses' words once, under the table (issue 24 item 7).  Words the steps
    already quote (the upstream lines' §(三)) are not said again: the § leads to them.
    ``quoted`` is None when the clauses' words are not wanted (--no-quotes)."""
    rows = [(lang.word("date"), str(claim.date), ""), (lang.word("person"), claim.person_id, "")]
    inputs = claim_inputs(result.trace)
    for step in inputs:
        rows.append((lang.label(step), money(lang.words(step).value), lang.reference(step)))
    notes = () if quoted is None else _sources(inputs, lang, quoted)
    return Table("inputs", lang.word("claim"),
                 (lang.word("item"), lang.word("claimed"), lang.word("source")), tuple(rows),
                 notes_title=lang.word("sources") if notes else "", notes=notes)


def _sources(inputs: list[Step], lang: Language, quoted: tuple[str, ...]) -> tuple[str, ...]:
    """Each clause's words once, after the names of the inputs that cite them:
    省内就医 §(十三)「按规定外出就医的救助对象，执行我市医疗保障和医疗救助政策」."""
    cited: dict[str, list[str]] = {}
    for step in inputs:
        words = lang.clause(step)
        if step.quote and not any(words in text for text in quoted):
            cited.setdefault(words, []).append(lang.label(step))
    return tuple(f"{lang.names(names)} {words}" for words, names in cited.items())


def _mark_repeated(views: list[SectionView]) -> list[SectionView]:
    """Each step whose clause and words an earlier step printed, marked: on paper it cites
    the § alone (a take-highest candidate repeats every clause of the one before it)."""
    seen: set[str] = set()
    marked = []
    for view in views:
        groups = []
        for group in view.groups:
            steps = []
            for step in group.steps:
                repeated = "「" in step.clause and step.clause in seen
                seen.add(step.clause)
                steps.append(attrs.evolve(step, repeated=repeated))
            groups.append(attrs.evolve(group, steps=tuple(steps)))
        marked.append(attrs.evolve(view, groups=tuple(groups)))
    return marked


def _quoted_in(views: list[SectionView]) -> tuple[str, ...]:
    """What the steps print of the clauses (§(三)「…」), and why a line did not apply."""
    return tuple(text for view in views for group in view.groups
                 for text in (group.note, *(step.clause for step in group.steps)) if text)


def _result(result: ClaimResult, lang: Language) -> Table:
    shown = identity_shown(result.trace, result.identity, lang.english)
    rows = [(lang.word("identity"), lang.value(shown))]
    rows += [(line, money(format_money(amount))) for line, amount in result.payouts]
    rows.append((lang.word("total_paid"), money(format_money(result.total_paid))))
    rows.append((lang.word("personal_burden"),
                 money(format_money(result.personal_burden)) + lang.word("burden_note")))
    rows.append((lang.word("alerts"), lang.names(result.alerts) or lang.word("none")))
    rows.append((lang.word("referrals"), lang.names(result.referrals) or lang.word("none")))
    total_row = len(result.payouts) + 1
    return Table("result", lang.word("result"), (lang.word("item"), lang.word("figure")),
                 tuple(rows), strong=(total_row,))


def _take_highest(result: ClaimResult, lang: Language) -> Table | None:
    if len(result.candidates) < 2:
        return None
    winner = winner_label(result)
    rows, strong = [], []
    for index, (candidate, total) in enumerate(result.candidates):
        name = candidate or NO_IDENTITY
        applied = name == winner
        if applied:
            strong.append(index)
        rows.append((lang.value(identity_shown(result.trace, candidate, lang.english)),
                     money(format_money(total)),
                     lang.word("applied") if applied else ""))
    return Table("take-highest", lang.word("take_highest"),
                 (lang.word("identities"), lang.word("candidate_total"), ""), tuple(rows),
                 tuple(strong))


def _year_to_date(result: ClaimResult, lang: Language) -> Table:
    rows = tuple((row.line, *(lang.value(money(v)) for v in (
        row.base_before, row.base_after, row.paid_before, row.cap, row.paid_now)))
        for row in year_to_date(result))
    header = tuple(lang.word(k) for k in ("line", "ytd_before", "ytd_after", "paid_before",
                                          "annual_cap", "paid_now"))
    return Table("year-to-date", lang.word("year_to_date"), header, rows)


def _alerts(result: ClaimResult, lang: Language) -> Table:
    rows = tuple((lang.label(check.step), money(check.burden), money(check.threshold),
                  *attrs.astuple(lang.words(check.step)))
                 for check in alert_checks(result.trace))
    fired = tuple(index for index, check in enumerate(alert_checks(result.trace))
                  if check.step.node.removesuffix(".alert") in result.alerts)
    header = tuple(lang.word(k) for k in ("alert", "burden_ytd", "threshold", "outcome", "reason"))
    return Table("alerts", lang.word("alerts_section"), header, rows, fired)


# ---- steps ---------------------------------------------------------------------------

def _section(index: int, section, result: ClaimResult, lang: Language, quotes: bool) -> SectionView:
    chosen = True
    if section.kind == "candidate":
        title = lang.word("candidate", candidate=lang.value(section.candidate or NO_IDENTITY))
        if len(result.candidates) > 1:
            chosen = section.candidate == winner_label(result)
            status = lang.word("applied") if chosen else lang.word("not_applied")
            title += f" ({status})" if lang.english else f"（{status}）"
    else:
        title = lang.word(section.kind)
    groups = []
    for group in section.groups:
        note = ""
        if group.nested and not group.applies:
            note = f"{lang.word('not_applicable')}: {lang.refusal(group.covers, quotes)}"
        steps = tuple(_step(step, lang, quotes) for step in group.steps)
        condition = lang.condition_met(group.covers) if group.nested and not note else ""
        groups.append(GroupView(group.line, group.nested, note, steps, condition))
    return SectionView(lang.number(index) + title, chosen, tuple(groups))


def _step(step: Step, lang: Language, quotes: bool) -> StepView:
    words = lang.words(step)
    value = words.value if step.op == "lookup" and words.value.endswith("%") else readable(
        words.value)
    return StepView(lang.label(step), value, words.formula, lang.clause(step, quotes),
                    lang.reference(step))
