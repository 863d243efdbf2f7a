"""``amend LINE [for VISITS] { … }``: a revision changes a line it inherits
(S223, S240, S241); a line whose base policy is not beside the file is kept
with every value it does not set unspecified, naming the base it waits for."""

from __future__ import annotations

from yibao.dsl import ast
from yibao.dsl.checking.line_rules import RULE_WORDS, apply_rules, rules_by_type, upstream_rules
from yibao.dsl.checking.state import CheckState, suggest
from yibao.dsl.model import UNSPECIFIED, VISITS, ByIdentity, LineDef, Rule, Sourced


def amend_line(state: CheckState, item: ast.Amendment) -> None:
    """Apply one ``amend`` to the lines declared so far, in place."""
    target = item.target.text
    index = next((i for i, line in enumerate(state.lines) if line.name == target), None)
    if index is None:
        if state.parent is not None or not state.tree.header or not state.tree.header.extends:
            state.error("S223", f"amend {target}: no such line in the version it extends",
                        item.target.span,
                        hint=suggest(target, [line.name for line in state.lines]))
            return
        # A standalone amendment (its base is not in this folder): the values it
        # changes are unknown until the base is supplied.
        state.lines.append(_line_awaiting_base(state, target, item))
        index = len(state.lines) - 1
    line = state.lines[index]
    if line.upstream and item.visits is None:
        # An upstream line may take several bases, each under its own `when`.
        state.lines[index] = upstream_rules(state, line, item.rules, f"amend {target}")
        return
    rules = rules_by_type(state, item.rules, f"amend {target}")
    if item.visits is not None:
        visits = _amended_visits(state, line, item, rules)
        if visits is None:
            return
        state.lines[index] = apply_rules(state, line, rules, f"amend {target}", amending=True,
                                         visits=visits)
        return
    state.lines[index] = apply_rules(state, line, rules, f"amend {target}", amending=True)


def _amended_visits(state: CheckState, line: LineDef, item: ast.Amendment, rules: dict):
    """``amend X for 住院, …``: visits the line covers; only its rate and deductible
    change per visit (a cap or a coverage is the line's, whatever the visit)."""
    scope = item.visits
    owner = f"amend {line.name} for …"
    state.require_citation(scope.citation, owner, scope.span)
    ok = True
    if line.upstream:
        state.error("S240", f"{owner}: {line.name} is settled upstream; its payout is not "
                    "computed, so no rate of it changes by visit", scope.span,
                    hint="drop `for …`, or amend a computed line")
        return None
    for visit in scope.visits:
        if visit.text not in VISITS:
            state.error("S213", f"unknown visit {visit.text}", visit.span,
                        hint=suggest(visit.text, VISITS)
                        or "visits are " + ", ".join(VISITS))
            ok = False
        elif visit.text not in line.visits:
            state.error("S241", f"{owner}: {line.name} does not cover {visit.text}", visit.span,
                        hint=f"{line.name} covers {'、'.join(line.visits)}")
            ok = False
    for rule_type, rule in rules.items():
        if rule_type not in (ast.Rate, ast.Deductible):
            state.error("S240", f"{owner}: an amendment for some visits changes only the rate "
                        f"and the deductible, not the {RULE_WORDS[rule_type]}", rule.span,
                        hint="state it in an `amend` without `for`")
            ok = False
    return tuple(v.text for v in scope.visits) if ok else None


def _line_awaiting_base(state: CheckState, target: str, item: ast.Amendment) -> LineDef:
    """A line this file amends but whose base policy is not available: every value
    it does not set itself is unspecified, naming the base it waits for."""
    base = state.tree.header.extends
    note = f"given by the base policy {base}, which is not in this folder"
    citation = next((r.spec.citation for r in item.rules
                     if hasattr(r, "spec") and r.spec.citation), None)

    def open_value(word: str) -> ByIdentity:
        return ByIdentity(f"{target}.{word}", ((None, Sourced(
            UNSPECIFIED, citation, item.span, base, note=note)),))

    return LineDef(target, False, None, item.span, visits=VISITS,
                   visits_rule=Rule(citation, item.span, base),
                   deductible=open_value("起付标准"), rate=open_value("支付比例"),
                   cap=open_value("年度限额"), version=base)
