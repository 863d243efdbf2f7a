"""The rules of a line (or of an ``amend`` of it) applied to a :class:`LineDef`:
coverage, condition, members, base and the value tables (S207, S211, S213,
S228), for a line as written and for a line a revision amends."""

from __future__ import annotations

import attrs

from yibao.dsl import ast
from yibao.dsl.checking.amend_tables import amend_table
from yibao.dsl.checking.fields import check_condition, field_of_type
from yibao.dsl.checking.identities import members
from yibao.dsl.checking.state import CheckState, suggest
from yibao.dsl.checking.tables import table
from yibao.dsl.model import VISITS, LineDef, Rule
from yibao.dsl.values import Kind

BASE_STARTS = ("in_scope_cost", "total_cost")

# How a rule is named in a message ("line X states its rate twice").
RULE_WORDS = {
    ast.Covers: "covered visits", ast.When: "condition", ast.Members: "identities",
    ast.Base: "base", ast.Deductible: "deductible", ast.Rate: "rate", ast.Cap: "cap",
    ast.PerUnit: "per-unit amount", ast.BurdenAfter: "burden", ast.Visits: "visits",
    ast.Group: "group", ast.Threshold: "threshold",
}

# rule type → (LineDef attribute, value kind, the value's name in traces)
_VALUE_RULES = {
    ast.Deductible: ("deductible", Kind.AMOUNT, "起付标准"),
    ast.Rate: ("rate", Kind.RATE, "支付比例"),
    ast.Cap: ("cap", Kind.LIMIT, "年度限额"),
    ast.PerUnit: ("per_unit", Kind.AMOUNT, "定额标准"),
}


def rules_by_type(state: CheckState, rules: tuple, owner: str) -> dict[type, object]:
    """A block's rules by type; a rule stated twice is reported (S211) and dropped."""
    by_type: dict[type, object] = {}
    for rule in rules:
        if type(rule) in by_type:
            state.error("S211", f"{owner} states its {RULE_WORDS[type(rule)]} twice", rule.span,
                        hint="merge the two into one rule (a table by identity if they differ)")
            continue
        by_type[type(rule)] = rule
    return by_type


def apply_rules(state: CheckState, line: LineDef, rules: dict, owner: str,
                amending: bool = False, visits: tuple[str, ...] | None = None) -> LineDef:
    """``line`` with the computed line's ``rules`` (by type) applied; ``amending``: the
    value tables change the line's own, for ``visits`` only when given."""
    changes: dict = {"version": state.version}
    for rule_type, rule in rules.items():
        if rule_type is ast.Covers:
            state.require_citation(rule.citation, f"{owner}: covers", rule.span)
            for visit in rule.visits:
                if visit.text not in VISITS:
                    state.error("S213", f"unknown visit {visit.text}", visit.span,
                                hint=suggest(visit.text, VISITS)
                                or "visits are " + ", ".join(VISITS))
            changes["visits"] = tuple(v.text for v in rule.visits)
            changes["visits_rule"] = state.rule(rule.citation, rule.span)
        elif rule_type is ast.When:
            state.require_citation(rule.citation, f"{owner}: when", rule.span)
            check_condition(state, rule.condition)
            changes["condition"] = rule.condition
            changes["condition_rule"] = state.rule(rule.citation, rule.span)
        elif rule_type is ast.Members:
            state.require_citation(rule.citation, f"{owner}: identities", rule.span)
            changes["members"] = members(state, rule.names)
            changes["members_rule"] = state.rule(rule.citation, rule.span)
        elif rule_type is ast.Base:
            state.require_citation(rule.citation, f"{owner}: base", rule.span)
            if rule.unspecified is not None:
                state.error("S228", f"{owner}: a computed line's base is worked out, never "
                            "unspecified; `base unspecified … when …` is for lines settled "
                            "upstream", rule.span)
                continue
            if rule.condition is not None:
                state.error("S228", f"{owner}: a computed line has one base; `when` on a base "
                            "is for lines settled upstream", rule.span,
                            hint="use the line's own `when` to restrict which claims it covers")
            check_base(state, rule, line.name)
            changes["base_terms"] = tuple(t.text for t in rule.terms)
            changes["base_rule"] = state.rule(rule.citation, rule.span)
        else:
            _value_rule(state, line, rule, owner, changes, amending, visits)
    return attrs.evolve(line, **changes)


def _value_rule(state: CheckState, line: LineDef, rule, owner: str, changes: dict,
                amending: bool, visits: tuple[str, ...] | None = None) -> None:
    attribute, kind, word = _VALUE_RULES[type(rule)]
    if isinstance(rule, ast.PerUnit):
        field_of_type(state, rule.unit, "count")
        changes["per_unit_field"] = rule.unit.text
    name = f"{line.name}.{word}"
    if amending:
        value = amend_table(state, getattr(line, attribute), name, rule.spec, kind,
                            f"{owner}: {word}", visits)
    else:
        value = table(state, name, rule.spec, kind, f"{owner}: {word}")
    if value is not None:
        changes[attribute] = value


def upstream_rules(state: CheckState, line: LineDef, rules, owner: str) -> LineDef:
    """Bounds on what another system may pay on an upstream line (Jilin §二(一))."""
    changes: dict = {}
    conditional = list(line.conditional_bases)
    for rule in rules:
        if isinstance(rule, ast.Members):
            state.require_citation(rule.citation, f"{owner}: identities", rule.span)
            changes["members"] = members(state, rule.names)
            changes["members_rule"] = state.rule(rule.citation, rule.span)
        elif isinstance(rule, ast.Base):
            state.require_citation(rule.citation, f"{owner}: base", rule.span)
            if rule.unspecified is not None:
                if rule.condition is None:
                    state.error("S228", f"{owner}: an unspecified base says for which claims "
                                "the notice gives no bound", rule.span,
                                hint="add `when …`: the other claims keep the line's base")
                    continue
                check_condition(state, rule.condition)
                conditional.insert(0, (rule.condition, None, Rule(
                    rule.citation, rule.span, state.version, note=rule.unspecified.note)))
                continue
            check_base(state, rule, line.name)
            terms = tuple(t.text for t in rule.terms)
            if rule.condition is not None:
                check_condition(state, rule.condition)
                conditional.insert(0, (rule.condition, terms, state.rule(rule.citation,
                                                                         rule.span)))
            else:
                changes["base_terms"] = terms
                changes["base_rule"] = state.rule(rule.citation, rule.span)
        else:
            state.error("S228", f"{owner}: a line settled upstream takes only `base` and "
                        "`identities` rules", rule.span,
                        hint="its payout comes from the claim's paid; nothing else is computed")
    changes["conditional_bases"] = tuple(conditional)
    return attrs.evolve(line, version=state.version, **changes)


def check_base(state: CheckState, rule: ast.Base, line_name: str) -> None:
    """A base starts from a cost and subtracts lines settled before ``line_name`` (S207)."""
    if rule.is_remaining:
        return
    first, *rest = rule.terms
    if first.text not in BASE_STARTS:
        state.error("S207", f"a base starts from in_scope_cost or total_cost, not {first.text}",
                    first.span)
    earlier = []
    for line in state.lines:
        if line.name == line_name:
            break
        earlier.append(line.name)
    for term in rest:
        if term.text not in earlier:
            state.error("S207", f"{term.text} is not a line settled before {line_name}",
                        term.span, hint=suggest(term.text, earlier))
