"""A trace step in Chinese, as an auditor reads a settlement: the Chinese words of
every phrase kind that explain/trace_plan.py decides a step says.

Nothing here decides what to say; it words it.  Figures are exact, money with
two decimals as the exchange format writes it, rates as percentages.  Also the
Chinese labels of the graph's nodes, as drawn and traced.
"""

from __future__ import annotations

import functools
from decimal import Decimal

from yibao.runtime.facts import CoversFacts
from yibao.compiler.graph import Node
from yibao.compiler.lower import CANDIDATE, CANDIDATE_TOTAL, PERSONAL_BURDEN, \
    TAKE_HIGHEST, TOTAL_PAID
from yibao.runtime.trace import Step
from yibao.core.money import format_money, format_rate
from yibao.dsl.model import NO_IDENTITY
from yibao.explain import trace_plan as plan
from yibao.explain.readings import reading_words
from yibao.explain.step_words import condition_text, write

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
    "burden": "监测负担",
    "alert": "预警",
    "after_ceiling": "比例上限后支付",
}


def node_label(node: str, op: str = "", rate: Decimal | None = None) -> str:
    """A node's Chinese label, from its id; ``rate`` is the ratio ceiling's."""
    return CATALOGUE.word(plan.node_name(node, op, rate))


def graph_label(node: Node) -> str:
    """A graph node's label as drawn (a declared field by its display name)."""
    return CATALOGUE.word(plan.graph_name(node))


def step_label(step: Step) -> str:
    return CATALOGUE.word(plan.step_name(step))


def condition(tree: tuple) -> str:
    """A condition tree (compiler/conditions.py condition_tree) in words."""
    return condition_text(tree, "非", "且", "或")


# ---- the words of every phrase kind (explain/trace_plan.py decides which) ---------------

ENTRIES = {
    **plan.NEUTRAL,
    plan.Yes: "是",
    plan.No: "否",
    plan.NoNames: "无",
    plan.Text: "{text}",
    plan.Bands: "分段: {slices}",
    plan.BandFrom: lambda p: f"{p.lower:,}以上 {format_rate(p.rate)}",
    plan.FixedNode: lambda p: NODE_LABELS[p.node],
    plan.CeilingNode: "综合保障比例上限 {rate}",
    plan.CeilingNodeUnrated: "综合保障比例上限",
    plan.ReferralNode: "转{referral}",
    plan.DueSlice: "{line}本次应付",
    plan.PerUnitSlice: "{line}定额",
    plan.LineNode: lambda p: f"{p.line}{SUFFIXES.get(p.suffix, p.suffix)}",
    plan.BandRates: "分段比例",
    plan.Who: lambda p: p.identity or NO_IDENTITY,
    # 监测帮扶对象（参照低保对象）: the identity held, the one applied
    plan.HeldAs: "{held}（参照{identity}）",
    plan.Quantity: lambda p: QUANTITY[p.key],
    plan.Condition: lambda p: condition(p.tree),
    plan.Interpretation: lambda p: reading_words(p.reading),
    plan.NotSet: "不设",
    plan.AlertRaised: "预警",
    plan.NoAlert: "未预警",
    plan.Referred: "转办",
    plan.Then: "；{part}",
    plan.Also: "; {part}",
    plan.AsClaimed: "申报{field}",
    plan.SettledUpstream: "{line}由上游结算，取申报 paid.{line}",
    plan.NoIdentityHeld: "未持有本政策的救助身份",
    plan.TreatedAs: "{treated_from}参照执行{identity}",
    plan.EvaluatedUnder: "按{identity}待遇计算",
    plan.NotRead: "本项不适用，不取值",
    plan.LookupNotSet: "{identity}{quantity}: 不设",
    plan.LookupValue: "{identity}{quantity} = {value}",
    plan.Covered: "{visit}属于{line}保障范围，{identity}享受",
    plan.VisitNotCovered: "{visit}不在{line}保障范围（{visits}）",
    plan.ConditionFailed: "条件不满足: {condition}",
    plan.IdentityNotCovered: "{identity}不享受{line}",
    plan.ConditionHeld: lambda p: f"条件满足: {condition(p.condition.tree)} §{p.clause}".rstrip(" §"),
    plan.BaseNotApplicable: "本项不适用，基数为 0",
    plan.Subtraction: lambda p: " − ".join(f"{node_label(node)} {format_money(amount)}"
                                           for node, amount in p.terms)
    + f" = {format_money(p.result)}",
    plan.NotCounted: "本次不计入{line}年度累计，累计仍为 {before}",
    plan.Counted: "年度累计基数: 本次前 {before} + 本次 {this_claim} = {after}",
    plan.NotApplicable: "本项不适用",
    plan.Slice: "G(C) = max(0, {rate} × (C − 起付标准 {deductible})); "
                "G({after}) − G({before}) = {g_after} − {g_before} = {payout}",
    plan.DeductibleNotReached: "，年度累计基数 {after} 未达起付标准 {deductible}",
    plan.PerAdmission: "；{reading}，按次计算则为 {figure}",
    plan.PerUnit: "定额 {amount} × {units} {unit}，不超过基数 {base} = {payout}",
    plan.LineNotApplicable: "{line}不适用，支付 0",
    plan.NoCap: "不设年度限额: 支付 {payout}",
    plan.CapRoom: "min(本次应付 {due}, 年度限额 {cap} − 年度已付 {paid} = {room}) = {payout}",
    plan.CapReached: "，已达年度限额",
    plan.CeilingNotApplicable: "不属于比例上限适用对象或就诊类型，不调整",
    plan.CeilingHeld: "{held}属于比例上限适用对象；",
    plan.CeilingBound: "上限 {rate} × 政策范围内费用 {in_scope_cost}",
    plan.CeilingLimit: " = {limit}（向下取整到分）",
    plan.WithinCeiling: "；各项支付合计 {combined} 未超过上限，不调整",
    plan.CeilingCut: "；各项支付合计 {combined} 超过上限，共压减 {cut}: {cuts}",
    plan.LineCut: "{name} {before} → {after}（压减 {cut}）",
    plan.LineCeilingCut: "{line}经比例上限压减: {before} − {cut} = {after}",
    plan.LineNotCut: "{line}未受比例上限压减: {after}",
    plan.OneIdentity: "仅一种身份: {identity}",
    plan.Totals: "各身份计算支付: {totals}；{reason}，不得重复享受",
    plan.Tied: "并列最高，取政策中先列明的{winner}（{reading}）",
    plan.Highest: "{winner}最高",
    plan.BurdenCounted: "本次负担计入",
    plan.VisitNotCounted: "本次负担{visit}不计入",
    plan.InGroupAs: "{members}属于{alert}监测对象",
    plan.InGroupOutsideOthers: "不属于其他预警的监测范围，属于{alert}监测对象",
    plan.NotInGroup: "不属于本预警监测对象",
    plan.AlertedEarlier: "（本年度此前已预警）",
    plan.BurdenAbove: "年度累计负担 {burden} 超过 预警标准 {threshold}，预警",
    plan.BurdenReached: "年度累计负担 {burden} ≥ 预警标准 {threshold}，预警",
    plan.BurdenNotAbove: "年度累计负担 {burden} 未超过 预警标准 {threshold}",
    plan.BurdenBelow: "年度累计负担 {burden} < 预警标准 {threshold}",
    plan.NotEligible: "{identity}不属于{referral}对象",
    plan.NothingCapped: "各项支付未受年度限额限制，无需转办",
    plan.ReferredFor: "{capped}已达年度限额，个人负担仍有 {personal_burden}：转{referral}（不计算支付）",
}
CATALOGUE = plan.Catalogue(ENTRIES, "、")


def condition_held(facts: CoversFacts) -> str:
    """A `when` condition that held, with its own clause: 条件满足: (省内就医 或 按规定转诊) §(十三)."""
    return CATALOGUE.word(plan.condition_held(facts))


words = functools.partial(write, catalogue=CATALOGUE)
words.__doc__ = "A step's value and formula in Chinese."
