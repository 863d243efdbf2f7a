"""What a policy leaves open and what it carries over: for `check` and reviews."""

from __future__ import annotations

from yibao.dsl import ast
from yibao.dsl.loader import LoadedPolicy
from yibao.dsl.model import ByIdentity, Policy


def _tables(policy: Policy):
    """(table, who it applies to when it has a single value) for every value table."""
    for line in policy.lines:
        members = "、".join(line.members) if line.members else None
        for table in (line.deductible, line.rate, line.cap, line.per_unit):
            if table is not None:
                yield table, members
    for alert in policy.alerts:
        yield alert.threshold, None
    if policy.subsidy is not None:
        yield policy.subsidy, None
    for param in policy.params:
        yield param, None


def _entry(table: ByIdentity, key, sourced, members: str | None = None,
           visit: str | None = None, values=None) -> dict:
    everyone = members or ("全体" if len(values or table.values) == 1 else "其他（others）")
    # A value an amendment gave some visits (Lhasa §四(四)一) names its visit.
    name = table.name if visit is None else f"{table.name}（{visit}）"
    return {
        "value": name,
        "identity": key if key is not None else everyone,
        "clause": f"§{sourced.clause}" if sourced.clause else "",
        "version": sourced.version,
        "note": sourced.note or "",
    }


def _condition(condition: ast.Condition) -> str:
    """A condition as written in the policy (``not in_province and not standard_care``)."""
    return ast.condition_text(condition, "not", "and", "or")


def inventory(loaded: LoadedPolicy) -> dict:
    policy = loaded.latest
    unspecified, inherited = [], []
    for table, members in _tables(policy):
        for visit, values in table.visit_tables():
            for key, sourced in values:
                if sourced.is_unspecified:
                    unspecified.append(_entry(table, key, sourced, members, visit, values))
                if sourced.inherited:
                    inherited.append(_entry(table, key, sourced, members, visit, values))
    for line in policy.lines:   # bounds a notice leaves open (Jilin §二(一), 非规范就医)
        for condition, terms, rule in line.conditional_bases:
            if terms is None:
                unspecified.append({
                    "value": f"{line.name}.计算基数", "identity": f"when {_condition(condition)}",
                    "clause": f"§{rule.citation.clause}" if rule.citation else "",
                    "version": rule.version, "note": rule.note or ""})
    return {
        "policy": policy.policy_id,
        "versions": [p.policy_id for p in loaded.versions],
        "effective": [str(p.effective) for p in loaded.versions],
        "identities": [i.name for i in policy.identities],
        "lines": [{"name": l.name, "upstream": l.upstream} for l in policy.lines],
        "unspecified": unspecified,
        "inherited": inherited,
        "warnings": [d.to_json() for d in loaded.warnings],
    }
