"""What each graph node computes, in Chinese words: one function per op.

The graph renderer is a visitor over the closed :class:`Op` set like the
evaluator; a test fails when an op has no words here.  Identity tables are
listed value by value (identities with the same value on one row), so a
reviewer checks them against the notice at a glance.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Callable

import attrs

from yibao.compiler.conditions import condition_tree
from yibao.compiler.graph import EvaluationGraph, Node, Op, handlers_by_op
from yibao.core.money import format_rate
from yibao.explain.trace_zh import QUANTITY, condition, graph_label
from yibao.dsl.model import UNSPECIFIED, BandSchedule, ByIdentity, Sourced

EVERYONE_ELSE = "其他"   # a table's row for everyone it does not name
EVERYONE = "各身份"      # a table with that row only


@attrs.frozen
class NodeWords:
    formula: tuple[str, ...] = ()              # lines of the formula in words
    table: tuple[tuple[str, str], ...] = ()    # (who, value) rows of an identity table


def node_words(node: Node, graph: EvaluationGraph) -> NodeWords:
    return WORDS[node.op](node, graph)


# ---- values of a policy table ---------------------------------------------------------

def parameter_words(sourced: Sourced, what: str = "") -> tuple[str, ...]:
    """A table value as the notice gives it; a band schedule one band a line."""
    value = sourced.value
    if value is UNSPECIFIED:
        return (f"未规定（{sourced.note}）" if sourced.note else "未规定",)
    if value is None:
        return ("不设",)
    if isinstance(value, BandSchedule):
        return tuple(_band(b) for b in value.slices)
    if isinstance(value, Decimal):
        return (format_rate(value) if what == "支付比例" else _amount(value),)
    return (str(value),)


def _amount(value: Decimal) -> str:
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


def _band(band) -> str:
    span = (f"{_amount(band.lower)}–{_amount(band.upper)}" if band.upper is not None
            else f"{_amount(band.lower)} 以上")
    return f"{span} {format_rate(band.rate)}"


def table_rows(table: ByIdentity, what: str = "") -> tuple[tuple[str, str], ...]:
    """Rows (identities, value), identities with equal values joined, in table order.

    A band schedule takes one row a band, the identities on its first.
    """
    grouped: dict[tuple[str, ...], list[str]] = {}
    for key, sourced in table.items():
        grouped.setdefault(parameter_words(sourced, what), []).append(key or EVERYONE_ELSE)
    if list(grouped.values()) == [[EVERYONE_ELSE]]:
        grouped = {value: [EVERYONE] for value in grouped}
    rows = []
    for values, keys in grouped.items():
        rows.append(("、".join(keys), values[0]))
        rows.extend(("", value) for value in values[1:])
    # Values an amendment gave some visits only (Lhasa §四(四)一): the visit leads the row.
    default = dict(table.values)
    for visit, values_of_visit in table.by_visit:
        for key, sourced in values_of_visit:
            if default.get(key) != sourced:
                words = parameter_words(sourced, what)
                rows.append((f"{visit}: {key or EVERYONE_ELSE}", words[0]))
                rows.extend(("", value) for value in words[1:])
    return tuple(rows)


# ---- one function per op -----------------------------------------------------------

def _label(graph: EvaluationGraph, node_id: str) -> str:
    return graph_label(graph.node(node_id))


def _input(node, graph):
    return NodeWords((f"申报 {graph.policy.field_label(node.payload.field)}",))


def _upstream(node, graph):
    return NodeWords((f"上游结算，取申报 paid.{node.payload.line}",))


def _identity(node, graph):
    mapped = [f"{i.name} → {i.treated_as}" for i in graph.policy.identities if i.treated_as]
    lines = ["逐一试算所持身份（参照执行后）"]
    return NodeWords(tuple(lines + mapped))


def _lookup(node, graph):
    # the table as the policy writes it: the rows cite their clauses
    written = getattr(graph.policy.line(node.payload.line), node.payload.quantity)
    return NodeWords((), table_rows(written, QUANTITY[node.payload.quantity]))


def _covers(node, graph):
    # the words follow the line as written (its members, or the tables' identities)
    line = graph.policy.line(node.payload.line)
    words = [f"就诊类型 ∈ {{{'、'.join(line.visits)}}}"]
    if line.condition is not None:
        words.append(f"条件: {condition(condition_tree(line.condition, graph.policy.field_label))}")
    members = "、".join(line.members) if line.members is not None else "表中列明的身份"
    words.append(f"身份: {members}")
    return NodeWords(tuple(words))


def _difference(node, graph):
    terms = [_label(graph, source) for role, source in node.inputs
             if role in ("minuend", "subtrahend")]
    return NodeWords((" − ".join(terms), "不低于 0"))


def _year_to_date(node, graph):
    return NodeWords(("C前 = 本年此前累计基数", "C后 = C前 + 计算基数"))


def _schedule(node, graph):
    deductible = " − 起付标准" if any(r == "deductible" for r, _ in node.inputs) else ""
    return NodeWords((f"G(C) = 支付比例 × (C{deductible})",
                      "round(G(C后)) − round(G(C前))"))


def _per_unit(node, graph):
    unit = graph.policy.field_label(node.payload.unit)
    return NodeWords((f"min(定额标准 × {unit}, 计算基数)",))


def _cap(node, graph):
    if any(role == "cap" for role, _ in node.inputs):
        return NodeWords(("min(本次应付, 年度限额 − 年度已付)", "不低于 0"))
    return NodeWords(("本次应付（不设年度限额）",))


def _ceiling(node, graph):
    params = node.payload
    return NodeWords((f"各项支付合计 ≤ {format_rate(params.rate)} × 政策范围内费用",
                      f"适用: {'、'.join(params.identities)}",
                      "超出部分从最后一道救助压减"))


def _ceiling_cut(node, graph):
    return NodeWords(("比例上限压减后的本项支付",))


def _sum(node, graph):
    return NodeWords((" + ".join(node.payload.lines),))


def _take_highest(node, graph):
    return NodeWords(("取计算支付合计最高的身份", "并列时取政策中先列明者，不得重复享受"))


def _alert(node, graph):
    # the views cite the notice: the alert as written, with its thresholds' clauses
    alert = next(a for a in graph.policy.alerts if a.name == node.payload.name)
    group = "、".join(alert.group)
    who = f"除{group}监测对象以外" if alert.group_excludes else group
    return NodeWords((f"监测对象: {who}", f"计入: {'、'.join(alert.visits)}",
                      "年度累计负担 > 预警标准（超过）" if alert.above else "年度累计负担 ≥ 预警标准"),
                     table_rows(alert.threshold))


def _referral(node, graph):
    referral = node.payload
    who = "、".join(referral.identities) if referral.identities else "各救助对象"
    return NodeWords((f"{'、'.join(referral.lines)}受年度限额截断时", f"转{referral.name}（{who}）"))


WORDS: dict[Op, Callable[[Node, EvaluationGraph], NodeWords]] = handlers_by_op(globals())
