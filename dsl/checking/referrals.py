"""Referrals to case review (Lhasa's 一事一议): whom they concern and the computed
lines whose annual cap refers a claim (S207, S220)."""

from __future__ import annotations

from yibao.dsl import ast
from yibao.dsl.checking.identities import members
from yibao.dsl.checking.named import named_items
from yibao.dsl.checking.state import CheckState, suggest
from yibao.dsl.model import ReferralDef


def build_referrals(state: CheckState) -> tuple[ReferralDef, ...]:
    inherited = {r.name: r for r in state.parent.referrals} if state.parent else {}
    return named_items(state, ast.Referral, inherited, "referral",
                       lambda item, _names: _referral(state, item))


def _referral(state: CheckState, item: ast.Referral) -> ReferralDef | None:
    name = item.name.text
    identities = None
    lines: tuple[str, ...] = ()
    citation = None
    computed = [line.name for line in state.lines if not line.upstream]
    for rule in item.rules:
        if isinstance(rule, ast.Members):
            state.require_citation(rule.citation, f"refer {name}: identities", rule.span)
            identities = members(state, rule.names)
            continue
        citation = rule.citation
        state.require_citation(rule.citation, f"refer {name}: capped", rule.span)
        for line_name in rule.lines:
            if line_name.text not in computed:
                state.error("S207", f"{line_name.text} is not a computed line",
                            line_name.span, hint=suggest(line_name.text, computed))
        lines = tuple(n.text for n in rule.lines)
    if not lines:
        state.error("S220", f"refer {name} needs `capped LINE, …`", item.name.span)
        return None
    return ReferralDef(name, identities, lines, citation, item.span, state.version)
