"""A claim's trace as text an auditor reads: each step, its figures, its clause.

Only reads the result and its trace (never evaluates again).  Steps of a line
that did not apply are folded into one sentence, so the text follows what was
actually paid; the JSON trace keeps every step.
"""

from __future__ import annotations

from itertools import groupby

from yibao.compiler.claims import Claim
from yibao.compiler.evaluate import ClaimResult
from yibao.compiler.trace import Step
from yibao.core.money import format_amount_words
from yibao.dsl.model import NO_IDENTITY, Policy

_SECTION_NUMBERS = "一二三四五六七八九十"


def _money(text: str) -> str:
    from decimal import Decimal, InvalidOperation

    try:
        return format_amount_words(Decimal(text))
    except (InvalidOperation, ValueError):
        return text


def _clause(step: Step, with_quote: bool = True) -> str:
    if not step.clause:
        return ""
    text = f"§{step.clause}"
    if with_quote and step.quote:
        text += f"「{step.quote}」"
    if step.inherited:
        text += f"（沿用 {step.version}）"
    return text


def render_text(result: ClaimResult, claim: Claim, policy: Policy, quotes: bool = True) -> str:
    out: list[str] = []
    out.append(f"理赔 {claim.claim_id} 结算说明")
    out.append(f"政策: {policy.policy_id} {policy.title}（{policy.effective} 起施行）")
    identities = "、".join(claim.identities) or "无"
    out.append(
        f"申报: {claim.date} {claim.visit} {claim.scheme} · 医疗总费用 {_money(str(claim.total_cost))}"
        f" · 政策范围内费用 {_money(str(claim.in_scope_cost))} · 身份 {identities}"
    )
    sections = _sections(result.trace)
    number = 0
    for title, steps in sections:
        lines = _render_section(steps, quotes)
        if not lines:
            continue
        out.append("")
        out.append(f"{_SECTION_NUMBERS[number]}、{title}")
        number += 1
        out.extend(lines)
    out.append("")
    out.append(f"{_SECTION_NUMBERS[number]}、结果")
    out.append(f"  适用身份: {result.identity or NO_IDENTITY}")
    for line, amount in result.payouts:
        out.append(f"  {line}: {_money(str(amount))}")
    out.append(f"  支付合计: {_money(str(result.total_paid))}")
    out.append(f"  个人负担: {_money(str(result.personal_burden))}（含政策范围外费用）")
    out.append(f"  预警: {'、'.join(result.alerts) if result.alerts else '无'}")
    if result.referrals:
        out.append(f"  转一事一议: {'、'.join(result.referrals)}")
    return "\n".join(out) + "\n"


def _sections(trace: tuple[Step, ...]) -> list[tuple[str, list[Step]]]:
    upstream = [s for s in trace if s.op == "upstream"]
    candidates = [s for s in trace if s.candidate is not None]
    after = [s for s in trace if s.candidate is None and s.op not in ("input", "upstream")]
    sections: list[tuple[str, list[Step]]] = [("上游结算（先保险后救助）", upstream)]
    for candidate, steps in groupby(candidates, key=lambda s: s.candidate):
        sections.append((f"按{candidate}待遇计算", list(steps)))
    sections.append(("就高与合计", [s for s in after if s.op != "alert"]))
    sections.append(("预警监测", [s for s in after if s.op == "alert"]))
    return sections


def _render_section(steps: list[Step], quotes: bool) -> list[str]:
    lines: list[str] = []
    for line_name, group in groupby(steps, key=lambda s: s.line):
        group = list(group)
        covered = next((s for s in group if s.op == "covers"), None)
        if line_name and covered is not None and covered.value == "否":
            lines.append(f"  {line_name}: 不适用 —— {covered.formula} {_clause(covered, False)}")
            continue
        if line_name and covered is not None:
            lines.append(f"  {line_name}")
        for step in group:
            if step.skipped or step.op == "covers" and line_name:
                continue
            indent = "    " if line_name and covered is not None else "  "
            lines.append(f"{indent}{step.label}: {_value(step)}")
            if step.formula:
                lines.append(f"{indent}  {step.formula}")
            clause = _clause(step, quotes)
            if clause:
                lines.append(f"{indent}  {clause}")
    return lines


def _value(step: Step) -> str:
    if step.op in ("lookup",) and step.value.endswith("%"):
        return step.value
    return _money(step.value)
