"""A claim's trace as text an auditor reads: each step, its figures, its clause.

Only reads the result and its trace (never evaluates again).  Steps of a line
that did not apply are folded into one sentence, so the text follows what was
actually paid; the JSON trace keeps every step.  Chinese by default, English
labels on request; colour only when the caller passes a palette (a terminal).
"""

from __future__ import annotations

from yibao.runtime.claims import Claim
from yibao.runtime.evaluate import ClaimResult
from yibao.runtime.trace import Step
from yibao.dsl.model import NO_IDENTITY, Policy
from yibao.explain.colour import PLAIN, Palette
from yibao.explain.figures import money
from yibao.explain.identity_shown import identity_shown
from yibao.explain.labels import ZH, Language
from yibao.explain.outline import Section, claim_inputs, sections
from yibao.explain.provenance import Provenance


def render_text(result: ClaimResult, claim: Claim, policy: Policy, quotes: bool = True,
                lang: Language = ZH, palette: Palette = PLAIN,
                provenance: Provenance | None = None) -> str:
    out = _header(claim, policy, lang)
    out.extend(_fields(result.trace, quotes, lang, palette))
    number = 0
    for section in sections(result.trace):
        out.append("")
        out.append(palette.paint(palette.heading, lang.number(number) + _title(section, lang)))
        number += 1
        out.extend(_render_section(section, quotes, lang, palette))
    out.append("")
    out.append(palette.paint(palette.heading, lang.number(number) + lang.word("result")))
    out.extend(_result(result, lang, palette))
    if provenance is not None:
        out.extend(["", palette.paint(palette.clause, provenance.words(lang.english))])
    return "\n".join(out) + "\n"


def _header(claim: Claim, policy: Policy, lang: Language) -> list[str]:
    identities = lang.names(claim.identities) or lang.word("none")
    in_force = lang.word("in_force", date=str(policy.effective))
    opening, closing = (" (", ")") if lang.english else ("（", "）")
    return [
        lang.word("title", claim=claim.claim_id),
        f"{lang.word('policy')}: {policy.policy_id} {policy.title}{opening}{in_force}{closing}",
        f"{lang.word('claim')}: {claim.date} {claim.visit} {claim.scheme} · "
        f"{lang.word('total_cost')} {money(str(claim.total_cost))}"
        f" · {lang.word('in_scope_cost')} {money(str(claim.in_scope_cost))}"
        f" · {lang.word('identities')} {identities}",
    ]


def _fields(trace: tuple[Step, ...], quotes: bool, lang: Language, palette: Palette) -> list[str]:
    """The fields the policy declares, as claimed, each with its clause and the clause's words
    (省内就医: 是 §(十三)「按规定外出就医的…」); the same words twice are quoted once."""
    declared = [step for step in claim_inputs(trace)
                if step.op == "input" and (step.clause or step.facts.label)]
    if not declared:
        return []
    out, said = [f"{lang.word('fields')}:"], set()
    for step in declared:
        clause = lang.clause(step, quotes)
        if clause in said and "「" in clause:
            clause = lang.reference(step) + lang.word("quoted_above")
        said.add(clause)
        value = palette.paint(palette.value, money(lang.words(step).value))
        out.append(f"  {lang.label(step)}: {value} {palette.paint(palette.clause, clause)}".rstrip())
    return out


def _title(section: Section, lang: Language) -> str:
    if section.kind == "candidate":
        return lang.word("candidate", candidate=lang.value(section.candidate or NO_IDENTITY))
    return lang.word(section.kind)


def _result(result: ClaimResult, lang: Language, palette: Palette) -> list[str]:
    paint = palette.paint
    shown = identity_shown(result.trace, result.identity, lang.english)
    out = [f"  {lang.word('identity')}: {lang.value(shown)}"]
    for line, amount in result.payouts:
        out.append(f"  {line}: {paint(palette.value, money(str(amount)))}")
    out.append(f"  {lang.word('total_paid')}: {paint(palette.value, money(str(result.total_paid)))}")
    out.append(f"  {lang.word('personal_burden')}: "
               f"{paint(palette.value, money(str(result.personal_burden)))}{lang.word('burden_note')}")
    alerts = paint(palette.alert, lang.names(result.alerts)) if result.alerts else lang.word("none")
    out.append(f"  {lang.word('alerts')}: {alerts}")
    if result.referrals:
        out.append(f"  {lang.word('referrals')}: {paint(palette.alert, lang.names(result.referrals))}")
    return out


def _render_section(section: Section, quotes: bool, lang: Language, palette: Palette) -> list[str]:
    lines: list[str] = []
    dash = " — " if lang.english else " —— "
    for group in section.groups:
        if group.nested and not group.applies:
            covers = group.covers
            lines.append(palette.paint(
                palette.untaken, f"  {group.line}: {lang.word('not_applicable')}{dash}"
                f"{lang.refusal(covers, quotes)}"))
            continue
        if group.nested:
            lines.append(f"  {group.line}")
            held = lang.condition_met(group.covers)
            if held:
                lines.append(palette.paint(palette.clause, f"    {held}"))
        indent = "    " if group.nested else "  "
        for step in group.steps:
            lines.extend(_step(step, indent, quotes, lang, palette))
    return lines


def _step(step: Step, indent: str, quotes: bool, lang: Language, palette: Palette) -> list[str]:
    words = lang.words(step)
    value = palette.paint(palette.value, _value(step, words.value))
    lines = [f"{indent}{lang.label(step)}: {value}"]
    if words.formula:
        lines.append(f"{indent}  {words.formula}")
    clause = lang.clause(step, quotes)
    if clause:
        lines.append(f"{indent}  {palette.paint(palette.clause, clause)}")
    return lines


def _value(step: Step, value: str) -> str:
    if step.op in ("lookup",) and value.endswith("%"):
        return value
    return money(value)
