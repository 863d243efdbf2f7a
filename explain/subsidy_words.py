"""A premium subsidy's rule in Chinese words (runtime/subsidy.py gives the figures)."""

from __future__ import annotations

from yibao.runtime.subsidy import SubsidyCandidate
from yibao.core.money import format_rate


def rule_words(candidate: SubsidyCandidate) -> str:
    if candidate.kind == "full":
        return "全额资助"
    if candidate.kind == "share":
        return f"按个人缴费的{format_rate(candidate.share)}资助"
    if candidate.kind == "fixed":
        words = f"定额资助 {candidate.amount:.2f}"
        return words + (f"（不高于{candidate.at_most}定额）" if candidate.at_most else "")
    return "不享受资助参保"
