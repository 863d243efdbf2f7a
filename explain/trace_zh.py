"""A trace step in Chinese, as an auditor reads a settlement: one writer per op.

Written from the step's facts (runtime/facts.py); figures are exact, money
with two decimals as the exchange format writes it, rates as percentages.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from yibao.runtime.facts import Bound, CeilingFacts, CoversFacts, InputFacts, RecordedWords
from yibao.compiler.graph import Node, Op, handlers_by_op
from yibao.compiler.lower import CANDIDATE, CANDIDATE_TOTAL, CEILING, PERSONAL_BURDEN, \
    TAKE_HIGHEST, TOTAL_PAID
from yibao.runtime.trace import Step
from yibao.core.money import format_money, format_rate
from yibao.dsl.model import NO_IDENTITY, BandSchedule
from yibao.explain.readings import per_admission, reading_words
from yibao.explain.step_words import StepWords, condition_text, write

QUANTITY = {"deductible": "起付标准", "rate": "支付比例", "cap": "年度限额",
            "per_unit": "定额标准"}


# The graph's fixed nodes (compiler/lower.py) and the claim's own fields, as drawn and traced.
NODE_LABELS = {
    CANDIDATE: "适用身份",
    CANDIDATE_TOTAL: "本身份支付合计",
    TAKE_HIGHEST: "待遇就高不就低",
    TOTAL_PAID: "各项支付合计",
    PERSONAL_BURDEN: "个人负担",
    "claim.in_scope_cost": "政策范围内费用",
    "claim.total_cost": "医疗总费用",
    "claim.visit": "就诊类型",
    "claim.scheme": "参保险种",
    "claim.identities": "救助身份",
}
# A line's, alert's or referral's node `{name}.{suffix}`: its label is `{name}{word}`.
SUFFIXES = {
    "covered": "适用范围",
    "base": "计算基数",
    "deductible": "起付标准",
    "rate": "支付比例",
    "cap": "年度限额",
    "per_unit": "定额标准",
    "ytd": "年度累计基数",
    "payout": "支付",
    "after_ceiling": "比例上限后支付",
    "burden": "监测负担",
    "alert": "预警",
}


def node_label(node: str, op: str = "", rate: Decimal | None = None) -> str:
    """A node's Chinese label, from its id (the names inside are the policy's own);
    ``rate`` is the ratio ceiling's."""
    if node in NODE_LABELS:
        return NODE_LABELS[node]
    if node == CEILING:
        return f"综合保障比例上限 {format_rate(rate)}" if rate is not None else "综合保障比例上限"
    name, _, suffix = node.rpartition(".")
    if not name or name == "claim":
        return suffix or node   # a declared claim field is named by the policy
    if suffix == "referral":
        return f"转{name}"
    if suffix == "slice":
        return f"{name}{'定额' if op == Op.PER_UNIT.value else '本次应付'}"
    return f"{name}{SUFFIXES.get(suffix, suffix)}"


def graph_label(node: Node) -> str:
    """A graph node's label as drawn (a declared field by its display name)."""
    if node.params.get("label"):
        return node.params["label"]
    return node_label(node.id, node.op.value, node.params.get("rate"))


def step_label(step: Step) -> str:
    if isinstance(step.facts, (InputFacts, RecordedWords)) and step.facts.label:
        return step.facts.label
    rate = step.facts.rate if isinstance(step.facts, CeilingFacts) else None
    return node_label(step.node, step.op, rate)


def show(value: Any) -> str:
    """A value as text: money with two decimals, 是/否, bands, names joined with 、."""
    if type(value) is Decimal:
        return format_money(value)
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, BandSchedule):
        return "分段: " + "; ".join(_band(band) for band in value.slices)
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, Decimal) for v in value):
        return f"{format_money(value[0])} → {format_money(value[1])}"
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value) or "无"
    return str(value)


def _band(band) -> str:
    if band.upper is None:
        return f"{band.lower:,}以上 {format_rate(band.rate)}"
    return f"{band.lower:,}–{band.upper:,} {format_rate(band.rate)}"


def condition(tree: tuple) -> str:
    """A condition tree (compiler/conditions.py condition_tree) in words."""
    return condition_text(tree, "非", "且", "或")


def _who(identity: str | None) -> str:
    return identity or NO_IDENTITY


m = format_money


# ---- one writer per op --------------------------------------------------------------------

def _input(step: Step) -> StepWords:
    return StepWords(show(step.facts.value), f"申报{step_label(step)}")


def _upstream(step: Step) -> StepWords:
    f = step.facts
    return StepWords(m(f.amount), f"{f.line}由上游结算，取申报 paid.{f.line}")


def _identity(step: Step) -> StepWords:
    f = step.facts
    if f.identity is None:
        return StepWords(NO_IDENTITY, "未持有本政策的救助身份")
    if f.treated_from:
        return StepWords(f.identity, f"{'、'.join(f.treated_from)}参照执行{f.identity}")
    return StepWords(f.identity, f"按{f.identity}待遇计算")


def _lookup(step: Step) -> StepWords:
    f = step.facts
    what = QUANTITY[f.quantity]
    if f.value is None and not f.applies:
        return StepWords("—", "本项不适用，不取值")
    if f.value is None:
        return StepWords("不设", f"{_who(f.identity)}{what}: 不设")
    text = (format_rate(f.value) if isinstance(f.value, Decimal) and f.quantity == "rate"
            else show(f.value))
    return StepWords(text, f"{_who(f.identity)}{what} = {text}")


def _covers(step: Step) -> StepWords:
    f = step.facts
    if f.covered:
        held = f"；{condition_held(f)}" if f.condition_held else ""
        return StepWords("是", f"{f.visit}属于{f.line}保障范围，{_who(f.identity)}享受{held}")
    if f.bound is Bound.NOT_COVERED:
        return StepWords("否", f"{f.visit}不在{f.line}保障范围（{'、'.join(f.visits)}）")
    if f.bound is Bound.CONDITION_FAILED:
        return StepWords("否", f"条件不满足: {condition(f.condition)}")
    return StepWords("否", f"{_who(f.identity)}不享受{f.line}")


def condition_held(f: CoversFacts) -> str:
    """A `when` condition that held, with its own clause: 条件满足: (省内就医 或 按规定转诊) §(十三)."""
    return f"条件满足: {condition(f.condition)} §{f.condition_clause}".rstrip(" §")


def _difference(step: Step) -> StepWords:
    f = step.facts
    if not f.applies:
        return StepWords(m(f.result), "本项不适用，基数为 0")
    terms = " − ".join(f"{node_label(node)} {m(amount)}" for node, amount in f.terms)
    return StepWords(m(f.result), f"{terms} = {m(f.result)}")


def _year_to_date(step: Step) -> StepWords:
    f = step.facts
    value = f"{m(f.before)} → {m(f.after)}"
    if not f.counted:
        return StepWords(value, f"本次不计入{f.line}年度累计，累计仍为 {m(f.before)}")
    return StepWords(value, f"年度累计基数: 本次前 {m(f.before)} + 本次 {m(f.this_claim)} = "
                            f"{m(f.after)}")


def _schedule(step: Step) -> StepWords:
    f = step.facts
    if not f.applies:
        return StepWords(m(f.payout), "本项不适用")
    rate = format_rate(f.rate) if isinstance(f.rate, Decimal) else "分段比例"
    # G clamps at 0 below the deductible (specification §6.2): the formula shows it.
    formula = (f"G(C) = max(0, {rate} × (C − 起付标准 {m(f.deductible)})); "
               f"G({m(f.after)}) − G({m(f.before)}) = {m(f.g_after)} − {m(f.g_before)} = "
               f"{m(f.payout)}")
    if f.bound is Bound.DEDUCTIBLE_NOT_REACHED:
        formula += f"，年度累计基数 {m(f.after)} 未达起付标准 {m(f.deductible)}"
    if f.before and (f.deductible or not isinstance(f.rate, Decimal)):
        # an earlier claim counted toward the base: per admission the figure would differ
        formula += f"；{reading_words(f.reading)}，按次计算则为 {m(per_admission(f))}"
    return StepWords(m(f.payout), formula)


def _per_unit(step: Step) -> StepWords:
    f = step.facts
    if not f.applies:
        return StepWords(m(f.payout), "本项不适用")
    return StepWords(m(f.payout), f"定额 {m(f.amount)} × {f.units} {f.unit_label or f.unit}，不超过基数 "
                                  f"{m(f.base)} = {m(f.payout)}")


def _cap(step: Step) -> StepWords:
    f = step.facts
    if not f.applies:
        return StepWords(m(f.payout), f"{f.line}不适用，支付 0")
    if f.cap is None:
        return StepWords(m(f.payout), f"不设年度限额: 支付 {m(f.payout)}")
    reached = "，已达年度限额" if f.bound is Bound.CAP_REACHED else ""
    reading = f"；{reading_words(f.reading)}" if f.paid else ""
    return StepWords(m(f.payout), (
        f"min(本次应付 {m(f.due)}, 年度限额 {m(f.cap)} − 年度已付 {m(f.paid)} = {m(f.room)}) = "
        f"{m(f.payout)}{reached}{reading}"))


def _ceiling(step: Step) -> StepWords:
    f = step.facts
    value = "; ".join(f"{name} {m(amount)}" for name, amount in f.after)
    if not f.applies:
        return StepWords(value, "不属于比例上限适用对象或就诊类型，不调整")
    # Why the ceiling binds this candidate, and the bound itself (specification §9).
    why = f"{'、'.join(f.held)}属于比例上限适用对象；" if f.held else ""
    limit = (f"上限 {format_rate(f.rate)} × 政策范围内费用 {m(f.in_scope_cost)} = "
             f"{m(f.limit)}（向下取整到分）" if f.limit is not None
             else f"上限 {format_rate(f.rate)} × 政策范围内费用 {m(f.in_scope_cost)}")
    if f.bound is not Bound.CEILING_CUT:
        return StepWords(value, f"{why}{limit}；各项支付合计 {m(f.combined)} 未超过上限，不调整")
    cuts = "; ".join(f"{name} {m(before)} → {m(after)}（压减 {m(before - after)}）"
                     for (name, before), (_, after) in zip(f.before, f.after) if before != after)
    return StepWords(value, f"{why}{limit}；各项支付合计 {m(f.combined)} 超过上限，"
                            f"共压减 {m(f.cut)}: {cuts}；{reading_words(f.reading)}")


def _ceiling_cut(step: Step) -> StepWords:
    f = step.facts
    if f.cut:
        return StepWords(m(f.after), f"{f.line}经比例上限压减: {m(f.before)} − {m(f.cut)} = "
                                     f"{m(f.after)}")
    return StepWords(m(f.after), f"{f.line}未受比例上限压减: {m(f.after)}")


def _sum(step: Step) -> StepWords:
    f = step.facts
    parts = " + ".join(f"{name} {m(amount)}" for name, amount in f.parts)
    return StepWords(m(f.total), f"{parts} = {m(f.total)}")


def _take_highest(step: Step) -> StepWords:
    f = step.facts
    if len(f.totals) == 1:
        only = _who(f.totals[0][0])
        return StepWords(only, f"仅一种身份: {only}")
    via = dict(f.treated_from)

    def shown(name):   # 监测帮扶对象（参照低保对象）: the identity held, the one applied
        return f"{'、'.join(via[name])}（参照{name}）" if name in via else _who(name)
    winner = shown(f.winner)
    listing = "; ".join(f"{shown(name)} {m(total)}" for name, total in f.totals)
    reason = (f"并列最高，取政策中先列明的{winner}（{reading_words(f.reading)}）" if f.tied
              else f"{winner}最高")
    return StepWords(winner, f"各身份计算支付: {listing}；{reason}，不得重复享受")


def _alert(step: Step) -> StepWords:
    f = step.facts
    counted = "计入" if f.counted else f"{f.visit}不计入"
    limit = m(f.threshold) if f.threshold is not None else "—"
    burden = m(f.burden)
    # Which of the person's identities put them in the group (or, for a group of
    # everyone outside the named ones, that none of theirs is named).
    if f.in_group and f.members:
        counted += f"; {'、'.join(f.members)}属于{f.alert}监测对象"
    elif f.in_group and f.excludes:
        counted += f"; 不属于其他预警的监测范围，属于{f.alert}监测对象"
    if not f.in_group:
        status = "不属于本预警监测对象" + ("（本年度此前已预警）" if f.fired else "")
    elif f.fired:
        status = f"年度累计负担 {burden} {'超过' if f.above else '≥'} 预警标准 {limit}，预警"
    else:
        status = f"年度累计负担 {burden} {'未超过' if f.above else '<'} 预警标准 {limit}"
    return StepWords("预警" if f.fired else "未预警", f"本次负担{counted}; {status}")


def _referral(step: Step) -> StepWords:
    f = step.facts
    if not f.eligible:
        return StepWords("否", f"{_who(f.identity)}不属于{f.referral}对象")
    if not f.capped:
        return StepWords("否", "各项支付未受年度限额限制，无需转办")
    return StepWords("转办", f"{'、'.join(f.capped)}已达年度限额，个人负担仍有 "
                           f"{m(f.personal_burden)}：转{f.referral}（不计算支付）")


WRITERS = handlers_by_op(globals())

words = functools.partial(write, writers=WRITERS)
words.__doc__ = "A step's value and formula in Chinese."
