"""The ratio ceiling (Xinjiang §三): its rate (S209), whom it binds (S220) and the
lines it cuts (S207)."""

from __future__ import annotations

from decimal import Decimal

from yibao.dsl import ast
from yibao.dsl.checking.identities import members
from yibao.dsl.checking.state import CheckState, suggest
from yibao.dsl.model import VISITS, CeilingDef, Sourced


_RULE_WORDS = {ast.Members: "identities", ast.Visits: "visits", ast.Reduces: "reduces"}


def ceiling(state: CheckState) -> CeilingDef | None:
    items = state.tree.of_type(ast.Ceiling)
    for extra in items[1:]:
        state.error("S226", "the ratio ceiling is stated twice", extra.span)
    if not items:
        return state.parent.ceiling if state.parent else None
    item = items[0]
    state.require_citation(item.citation, "ceiling", item.span)
    if not Decimal(0) < item.rate.value <= Decimal(1):
        state.error("S209", f"ceiling {item.rate.text} is outside 0–100%", item.rate.span,
                    hint="the ceiling is a share of the in-scope cost: above 0% and at most 100%")
    identities: tuple[str, ...] = ()
    visits: tuple[str, ...] = VISITS
    # Unless it names them, the ceiling cuts the last line.
    reduces: tuple[str, ...] = (state.lines[-1].name,) if state.lines else ()
    known = [line.name for line in state.lines]
    for rule in item.rules:
        if item.citation is None:   # the rules of a cited ceiling share its citation
            state.require_citation(rule.citation, f"ceiling: {_RULE_WORDS[type(rule)]}",
                                   rule.span)
        if isinstance(rule, ast.Members):
            identities = members(state, rule.names)
        elif isinstance(rule, ast.Reduces):
            for name in rule.lines:
                if name.text not in known:
                    state.error("S207", f"unknown line {name.text}", name.span,
                                hint=suggest(name.text, known))
            reduces = tuple(n.text for n in rule.lines)
        else:
            visits = tuple(v.text for v in rule.visits)
    if not any(isinstance(rule, ast.Members) for rule in item.rules):
        state.error("S220", "the ceiling does not say whom it binds", item.span,
                    hint="add: identities 特困人员, 低保对象 §… (the notice's 重点救助对象)")
    return CeilingDef(Sourced(item.rate.value, item.citation, item.span, state.version),
                      identities, visits, reduces, item.span)
