"""Alerts (高额医疗费用支出预警): burden after which lines, visits, the group and
the threshold by scheme (S207, S213, S220)."""

from __future__ import annotations

from yibao.dsl import ast
from yibao.dsl.checking.identities import members
from yibao.dsl.checking.line_rules import rules_by_type
from yibao.dsl.checking.named import named_items
from yibao.dsl.checking.state import CheckState, suggest
from yibao.dsl.checking.tables import table
from yibao.dsl.inherit import inherit_alert
from yibao.dsl.model import SCHEMES, VISITS, AlertDef
from yibao.dsl.values import Kind


def build_alerts(state: CheckState) -> tuple[AlertDef, ...]:
    parent = state.parent
    inherited = {a.name: inherit_alert(a) for a in parent.alerts} if parent else {}
    return named_items(state, ast.Alert, inherited, "alert",
                       lambda item, names: _alert(state, item, names))


def _alert(state: CheckState, item: ast.Alert, alert_names: set[str]) -> AlertDef | None:
    name = item.name.text
    rules = rules_by_type(state, item.rules, f"alert {name}")
    burden = rules.get(ast.BurdenAfter)
    visits = rules.get(ast.Visits)
    group = rules.get(ast.Group)
    threshold = rules.get(ast.Threshold)
    if threshold is None or group is None:
        state.error("S220", f"alert {name} needs a group and a threshold", item.name.span)
        return None
    after = None
    if burden is not None:
        state.require_citation(burden.citation, f"alert {name}: burden", burden.span)
        known = [line.name for line in state.lines]
        for line_name in burden.lines:
            if line_name.text not in known:
                state.error("S207", f"unknown line {line_name.text}", line_name.span,
                            hint=suggest(line_name.text, known))
        after = None if burden.after_all_lines else tuple(n.text for n in burden.lines)
    visit_names = VISITS
    if visits is not None:
        state.require_citation(visits.citation, f"alert {name}: visits", visits.span)
        for visit in visits.visits:
            if visit.text not in VISITS:
                state.error("S213", f"unknown visit {visit.text}", visit.span,
                            hint=suggest(visit.text, VISITS))
        visit_names = tuple(v.text for v in visits.visits)
    state.require_citation(group.citation, f"alert {name}: group", group.span)
    if group.excluding:
        for other in group.names:
            if other.text not in alert_names or other.text == name:
                state.error("S220", f"unknown alert {other.text}", other.span,
                            hint=suggest(other.text, alert_names - {name}))
        group_members = tuple(n.text for n in group.names)
    else:
        group_members = members(state, group.names)
    thresholds = table(state, f"{name}.预警标准", threshold.spec, Kind.AMOUNT,
                       f"alert {name}: threshold", identity_keys=False, keys=SCHEMES)
    if thresholds is None:
        return None
    return AlertDef(
        name, after, state.rule(burden.citation, burden.span) if burden else None,
        visit_names, state.rule(visits.citation, visits.span) if visits else None,
        group_members, group.excluding, state.rule(group.citation, group.span), thresholds,
        item.span, state.version, threshold.above,
    )
