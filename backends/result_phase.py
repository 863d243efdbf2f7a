"""After take highest: what a claim's outcome holds, as output columns.

The result phase of each version's graph (totals, personal burden, alerts,
referrals) is lowered over the winner's values — the same node ids the scalar
evaluator reads after take highest, payouts final after the ratio ceiling.
On the window path the winner is the claim's only candidate; in the walk it is
chosen per claim.  Alerts accumulate the year's burden through the ledger
(a running sum, or the walk's carried state), as lines do.
"""

from __future__ import annotations

from yibao.backends.sql import exp

from yibao.backends import sql
from yibao.backends.columns import ClaimColumns
from yibao.backends.lowering import ColumnarLowering, Scope
from yibao.compiler.graph import Op
from yibao.compiler.lower import PERSONAL_BURDEN, TOTAL_PAID, final_payout_id, payout_id
from yibao.dsl.model import Policy


def winner_parts(policy: Policy, line: str) -> dict[str, str]:
    """What the walk carries from the winner to the result phase for a computed line:
    part → the node whose value it is.  Without a ratio ceiling the final payout and
    the one before it are one node (``fin`` and ``pay`` carry the same figure)."""
    return {"fin": final_payout_id(policy, line), "pay": payout_id(line),
            "slice": f"{line}.slice", "cov": f"{line}.covered", "base": f"{line}.base"}


def output_columns(columns: ClaimColumns) -> list[str]:
    """A result row's columns: the settled columns, with the claim id second."""
    names = settled_columns(columns)
    return names[:1] + ["claim_id"] + names[1:]


def settled_columns(columns: ClaimColumns) -> list[str]:
    """What settlement writes for a claim.  Not its id: a string carried through every
    window's sort and every step of the walk costs more than joining it back once, by
    ``idx``, for the results."""
    names = ["idx", "version", "cand"]
    names += [columns.settled("fin", line) for line in columns.computed]
    names += [columns.final_upstream(line) for line in columns.upstream]
    names += ["total_paid", "personal_burden"]
    names += [f"alert_{i}" for i in range(len(columns.alerts))]
    names += [f"referral_{i}" for i in range(len(columns.referrals))]
    return names


def settled_type(name: str) -> str:
    """The SQL type of a settled column other than ``idx`` and ``version``."""
    if name == "cand":
        return "VARCHAR"
    return "BOOLEAN" if name.startswith(("alert_", "referral_")) else "BIGINT"


def outputs(columns: ClaimColumns, lowering: ColumnarLowering, scope: Scope,
            chosen: exp.Expression) -> dict[str, exp.Expression]:
    """Output column → expression, from a scope whose result phase has been lowered."""
    values = scope.values
    lines = {line.name for line in lowering.policy.lines}
    result: dict[str, exp.Expression] = {"cand": chosen}
    policy = lowering.policy
    for line in columns.computed:
        result[columns.settled("fin", line)] = sql.bigint(
            values[final_payout_id(policy, line)] if line in lines else sql.num(0))
    for line in columns.upstream:
        final = values[final_payout_id(policy, line)] if line in lines else sql.col(
            columns.upstream_column(line))
        result[columns.final_upstream(line)] = sql.bigint(final)
    result["total_paid"] = sql.bigint(values[TOTAL_PAID])
    result["personal_burden"] = sql.bigint(values[PERSONAL_BURDEN])
    alerts = _by_name(lowering, Op.ALERT, lambda node: node.payload.name, values)
    for index, name in enumerate(columns.alerts):
        result[f"alert_{index}"] = alerts.get(name, exp.false())
    referrals = _by_name(lowering, Op.REFERRAL, lambda node: node.payload.name,
                         values)
    for index, name in enumerate(columns.referrals):
        result[f"referral_{index}"] = referrals.get(name, exp.false())
    return result


def _by_name(lowering: ColumnarLowering, op: Op, name_of, values) -> dict:
    return {name_of(node): values[node.id] for node in lowering.graph.order if node.op is op}


def winner_values(lowering: ColumnarLowering, column_of) -> dict:
    """Node id → the winner's column ``column_of(part, line)``, for the result phase."""
    policy = lowering.policy
    values = {}
    for line in policy.computed_lines:
        for part, node_id in winner_parts(policy, line.name).items():
            # one node, two parts (no ceiling): the final payout's column reads it
            values.setdefault(node_id, column_of(part, line.name))
    for line in policy.upstream_lines:
        values[final_payout_id(policy, line.name)] = column_of("fin_up", line.name)
    return values
