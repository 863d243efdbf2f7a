"""After take highest: totals, personal burden, alerts and referrals in SQL.

The result phase of each version's graph is lowered over the settled winner's
columns (the same node ids the scalar evaluator reads after take highest:
payouts are final, after the ratio ceiling).  Alerts are the one annual
figure left: the year's cumulative burden is a running sum, and an alert that
fired stays listed on every later claim of the person that year (DOMAIN.md
§3.7), a running OR, so both are window functions across versions.
"""

from __future__ import annotations

from sqlglot import exp

from yibao.backends import sql
from yibao.backends.columns import ClaimColumns
from yibao.backends.layers import Definition
from yibao.backends.lowering import AlertParts, ColumnarLowering
from yibao.compiler.graph import Op
from yibao.compiler.lower import PERSONAL_BURDEN, TOTAL_PAID, payout_id


def winner_values(columns: ClaimColumns, lowering: ColumnarLowering) -> dict:
    """Node id → settled column, as the scalar evaluator's result context holds them."""
    policy = lowering.policy
    values = {}
    for line in policy.computed_lines:
        name = line.name
        values[payout_id(name)] = sql.col(columns.settled("fin", name))
        values[f"{name}.before_ceiling"] = sql.col(columns.settled("pay", name))
        values[f"{name}.slice"] = sql.col(columns.settled("slice", name))
        values[f"{name}.covered"] = sql.col(columns.settled("cov", name))
        values[f"{name}.base"] = sql.col(columns.settled("base", name))
    for line in policy.upstream_lines:
        values[payout_id(line.name)] = sql.col(columns.final_upstream(line.name))
    return values


def result_definitions(columns: ClaimColumns, lowerings: list[ColumnarLowering]
                       ) -> list[Definition]:
    """Per claim, no window: totals, burden, referrals, and each alert's burden and threshold."""
    totals, burdens = [], []
    alerts: dict[str, list[tuple[exp.Expression, AlertParts]]] = {}
    referrals: dict[str, list[tuple[exp.Expression, exp.Expression]]] = {}
    definitions: list[Definition] = []
    for lowering in lowerings:
        is_version = sql.col("version").eq(sql.num(lowering.version))
        scope = lowering.lower_result(winner_values(columns, lowering), f"r{lowering.version}_")
        definitions += scope.definitions
        totals.append((is_version, scope.values[TOTAL_PAID]))
        burdens.append((is_version, scope.values[PERSONAL_BURDEN]))
        for node in lowering.graph.order:
            if node.op is Op.ALERT:
                parts = scope.values[node.id]
                alerts.setdefault(parts.name, []).append((is_version, parts))
            elif node.op is Op.REFERRAL:
                name = node.params["referral"].name
                referrals.setdefault(name, []).append((is_version, scope.values[node.id]))
    definitions.append(Definition("total_paid", sql.bigint(_by_version(totals, sql.num(0)))))
    definitions.append(Definition("personal_burden",
                                  sql.bigint(_by_version(burdens, sql.num(0)))))
    for index, name in enumerate(columns.alerts):
        versions = alerts.get(name, [])
        definitions.append(Definition(f"alert_{index}_contribution", sql.bigint(sql.case(
            [(v, parts.contribution) for v, parts in versions], sql.num(0)))))
        definitions.append(Definition(f"alert_{index}_threshold", sql.bigint(sql.case(
            [(v, parts.threshold) for v, parts in versions], sql.typed_null("BIGINT")))))
    for index, name in enumerate(columns.referrals):
        branches = referrals.get(name, [])
        definitions.append(Definition(f"referral_{index}", sql.case(branches, exp.false())))
    return definitions


def _by_version(branches, default):
    if len(branches) == 1:
        return branches[0][1]
    return sql.case(branches, default)


def alert_definitions(columns: ClaimColumns, lowerings: list[ColumnarLowering]
                      ) -> list[Definition]:
    """The annual burden so far, and whether the alert has fired by this claim (windows)."""
    definitions = []
    for index, name in enumerate(columns.alerts):
        having = [lowering.version for lowering in lowerings
                  if any(a.name == name for a in lowering.policy.alerts)]
        burden = f"alert_{index}_burden"
        reaches = exp.func("COALESCE", sql.col(burden) >= sql.col(f"alert_{index}_threshold"),
                           exp.false())
        fired_so_far = sql.running(exp.Max(this=sql.when(reaches, sql.num(1), sql.num(0))))
        listed = sql.any_of([sql.col("version").eq(sql.num(v)) for v in having])
        definitions += [
            Definition(burden, sql.running_sum(sql.col(f"alert_{index}_contribution"))),
            Definition(f"alert_{index}", sql.all_of([exp.paren(listed),
                                                     fired_so_far.eq(sql.num(1))])),
        ]
    return definitions


def alert_inputs(columns: ClaimColumns) -> list[str]:
    return ["idx", "py", "ord", "version"] + [
        f"alert_{i}_{what}" for i in range(len(columns.alerts))
        for what in ("contribution", "threshold")]


def output_columns(columns: ClaimColumns, with_alerts: bool = True) -> list[str]:
    names = ["idx", "claim_id", "version", "cand"]
    names += [columns.settled("fin", line) for line in columns.computed]
    names += [columns.final_upstream(line) for line in columns.upstream]
    names += ["total_paid", "personal_burden"]
    if with_alerts:
        names += [f"alert_{i}" for i in range(len(columns.alerts))]
    names += [f"referral_{i}" for i in range(len(columns.referrals))]
    return names
