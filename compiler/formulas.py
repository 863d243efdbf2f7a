"""One trace step per evaluated node: its value, inputs and formula in words.

Only called when a trace is asked for, so the evaluation itself stays lean.
The words are Chinese, as an auditor reads a settlement; figures are exact.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any, Callable, Protocol

import attrs

from yibao.compiler.claims import Claim
from yibao.compiler.context import EvaluationContext
from yibao.compiler.graph import EvaluationGraph, Node, Op, Phase
from yibao.compiler.lower import CANDIDATE_TOTAL, payout_id
from yibao.compiler.schedule import annual_payout
from yibao.compiler.trace import Step
from yibao.core.money import format_money, format_rate, round_fen
from yibao.compiler.conditions import condition_words, holds
from yibao.dsl.model import NO_IDENTITY, BandSchedule, LineDef, Policy


class ScalarEvaluator(Protocol):
    """What the words read of the scalar evaluator (compiler/evaluate.py).  The evaluator
    imports this module to trace; naming what it offers here, rather than importing
    it, keeps the two files out of an import circle."""

    graph: EvaluationGraph
    policy: Policy
    node_words: dict[str, "_NodeWords"]

    def ceiling_applies(self, params: dict, claim: Claim) -> bool: ...

    def capped_lines(self, referral, context: EvaluationContext) -> list[str]: ...


def show(value: Any) -> str:
    """A node's value as text: money with two decimals, rates as %, none as 不设."""
    if type(value) is Decimal:   # most values: tested first, a trace shows thousands
        return format_money(value)
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, BandSchedule):
        return "分段: " + "; ".join(_band_words(band) for band in value.slices)
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, Decimal) for v in value):
        return f"{format_money(value[0])} → {format_money(value[1])}"
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value) or "无"
    if isinstance(value, dict):
        return "; ".join(f"{k} {show(v)}" for k, v in value.items())
    return str(value)


def _band_words(band) -> str:
    if band.upper is None:
        return f"{band.lower:,}以上 {format_rate(band.rate)}"
    return f"{band.lower:,}–{band.upper:,} {format_rate(band.rate)}"


def describer(node: Node, evaluator: ScalarEvaluator) -> Callable[[EvaluationContext, Any], Step]:
    """The function that writes a node's trace step from the claim's context and the
    node's value.  A trace describes every node of every claim, so all that depends
    on the node alone (its words, citation, the sources of a lookup's values) is
    worked out here, once per policy version."""
    static = evaluator.node_words[node.id]
    node_id, op, label, line, formula_of = node.id, static.op, node.label, node.line, static.formula
    covered = static.covered
    cited = _cited(node.citation)
    if static.fixed is not None:   # INPUT, UPSTREAM: only the value changes
        # claim-phase ops: no candidate, no source by identity, never skipped
        assert not (static.per_candidate or static.is_lookup or static.skips_when_uncovered)
        formula, inputs, extra = static.fixed
        inputs, text = tuple(inputs), extra.get("value_text")
        clause, quote = _cited(extra.get("citation", node.citation))

        def written(value: Any) -> Step:
            return Step(node_id, op, label, show(value) if text is None else text, formula,
                        inputs, clause, quote, None, line)

        # A visit, scheme, identity list or flag takes few values: each one's step is
        # written once and reused (steps are immutable).  Amounts are written each time.
        reused = functools.lru_cache(maxsize=_MAX_REUSED)(written)

        def fixed(context: EvaluationContext, value: Any) -> Step:
            return reused(value) if type(value) in _FEW_VALUES else written(value)
        return fixed

    # A lookup's value may come from a revision: its source, by candidate, cites it.
    sources = None if not static.is_lookup else {
        candidate: (None, "", False) if sourced is None else
        (_cited(sourced.citation) if sourced.citation else None, sourced.version,
         sourced.inherited)
        for candidate, sourced in static.sources.items()}
    # A value an amendment changed for some visits: its source depends on the claim's
    # visit too, so that a trace never quotes the amendment for a visit it leaves alone.
    by_visit = static.is_lookup and node.params["table"].varies_by_visit
    per_candidate, skips = static.per_candidate, static.skips_when_uncovered

    def describe(context: EvaluationContext, value: Any) -> Step:
        formula, inputs, extra = formula_of(node, context, evaluator, value)
        # An op may name a more precise clause for this claim (e.g. a treated-as rule).
        clause, quote = _cited(extra["citation"]) if "citation" in extra else cited
        version, inherited = "", False
        skipped = skips and not context.values.get(covered, True)
        if sources is not None:
            citation, version, inherited = (
                sources[context.candidate] if not by_visit
                else sources.get((context.candidate, context.claim.visit))
                or sources[context.candidate])
            if citation is not None:
                clause, quote = citation
            skipped = value is None and not context.values.get(covered)
        text = extra.get("value_text")
        return Step(node_id, op, label, show(value) if text is None else text, formula,
                    tuple(inputs), clause, quote,
                    (context.candidate or NO_IDENTITY) if per_candidate else None, line,
                    version, inherited, skipped)

    if covered is None or node.op not in _SAME_WHEN_UNCOVERED:
        return describe
    # Most claims are outside most lines, and an uncovered line's node says the same
    # whatever the claim: its step is written once per candidate and value, then reused
    # (steps are immutable).
    uncovered_steps: dict[tuple, Step] = {}

    def step(context: EvaluationContext, value: Any) -> Step:
        if context.values.get(covered, True):
            return describe(context, value)
        key = (context.candidate, value)
        found = uncovered_steps.get(key)
        if found is None:
            found = uncovered_steps[key] = describe(context, value)
        return found
    return step


def _cited(citation) -> tuple[str, str]:
    """A step's clause and quote."""
    if citation is None:
        return "", ""
    return citation.clause, citation.quote or ""


@attrs.frozen
class _NodeWords:
    """What a node's trace step takes from the graph alone, worked out once per node."""

    op: str
    formula: Any
    is_lookup: bool
    skips_when_uncovered: bool
    covered: str | None
    per_candidate: bool
    fixed: tuple | None = None            # the words, when they never depend on the claim
    terms: tuple[tuple[str, str], ...] = ()   # a difference's (label, node id) operands
    sources: dict | None = None           # a lookup's value as sourced, by candidate


def node_words(evaluator: ScalarEvaluator, nodes) -> dict[str, _NodeWords]:
    """Each node's trace words that do not depend on the claim, worked out once per
    policy version: a trace describes every node of every claim."""
    return {node.id: _words(node, evaluator) for node in nodes}


def _words(node: Node, evaluator: ScalarEvaluator) -> _NodeWords:
    return _NodeWords(
        op=node.op.value,
        formula=_FORMULAS[node.op],
        is_lookup=node.op is Op.LOOKUP,
        skips_when_uncovered=node.op in (Op.SCHEDULE, Op.YEAR_TO_DATE, Op.CAP, Op.PER_UNIT),
        covered=dict(node.inputs).get("covered"),
        per_candidate=node.phase is Phase.CANDIDATE,
        fixed=_FORMULAS[node.op](node, None, evaluator, None) if node.op in _FIXED else None,
        terms=tuple((evaluator.graph.node(source).label, source) for role, source in node.inputs
                    if role in ("minuend", "subtrahend")),
        sources=_sources(node.params["table"], evaluator) if node.op is Op.LOOKUP else None,
    )


def _sources(table, evaluator: ScalarEvaluator) -> dict:
    """A lookup's values as sourced: by candidate, and by (candidate, visit) for the visits
    an amendment names."""
    candidates = [i.name for i in evaluator.policy.identities] + [None]
    sources = {candidate: table.for_identity(candidate) for candidate in candidates}
    for visit, _ in table.by_visit:
        sources.update({(candidate, visit): table.for_claim(candidate, visit)
                        for candidate in candidates})
    return sources


# ---- one formula per op --------------------------------------------------------------

def _input(node, context, evaluator, value):
    return f"申报{node.label}", [], {}


def _upstream(node, context, evaluator, value):
    line = node.params["line"]
    return f"{line}由上游结算，取申报 paid.{line}", [], {}


def _identity(node, context, evaluator, value):
    held = [name for name in context.claim.identities
            if evaluator.policy.effective_identity(name) == value]
    if value is None:
        return "未持有本政策的救助身份", [], {"value_text": NO_IDENTITY}
    mapped = [name for name in held if name != value]
    if mapped:
        rule = evaluator.policy.identity(mapped[0])
        return (f"{'、'.join(mapped)}参照执行{value}", [("持有身份", "、".join(held))],
                {"citation": rule.citation if rule else node.citation})
    return f"按{value}待遇计算", [], {}


def _lookup(node, context, evaluator, value):
    what = node.params["what"]
    identity = context.candidate or NO_IDENTITY
    if value is None and not context.values.get(node.input("covered")):
        return "本项不适用，不取值", [], {"value_text": "—"}
    if value is None:
        return f"{identity}{what}: 不设", [], {"value_text": "不设"}
    text = format_rate(value) if isinstance(value, Decimal) and what == "支付比例" else show(value)
    return f"{identity}{what} = {text}", [], {"value_text": text}


def _covers(node, context, evaluator, value):
    line: LineDef = node.params["line"]
    claim = context.claim
    if value:   # covered: the evaluator has already checked visit, condition and identity
        return f"{claim.visit}属于{line.name}保障范围，{context.candidate or NO_IDENTITY}享受", [], {}
    if claim.visit not in line.visits:
        return f"{claim.visit}不在{line.name}保障范围（{'、'.join(line.visits)}）", [], {}
    if line.condition is not None and not holds(line.condition, claim.field):
        return (f"条件不满足: {condition_words(line.condition, evaluator.policy.field_label)}",
                [], {})
    if not line.covers_identity(context.candidate):
        who = context.candidate or NO_IDENTITY
        # Cite why: the line's membership rule, or the identity's own clause.
        identity = evaluator.policy.identity(context.candidate) if context.candidate else None
        reason = (line.members_rule.citation if line.members_rule
                  else identity.citation if identity else _membership_citation(line))
        return f"{who}不享受{line.name}", [], {"citation": reason}
    return f"{claim.visit}属于{line.name}保障范围，{context.candidate or NO_IDENTITY}享受", [], {}


def _membership_citation(line: LineDef):
    """Without an `identities` rule, the tables name who a line pays."""
    for table in (line.rate, line.deductible, line.per_unit):
        if table is not None:
            for _, sourced in table.items():
                if sourced.citation is not None:
                    return sourced.citation
    return None


def _difference(node, context, evaluator, value):
    values = context.values
    covered = evaluator.node_words[node.id].covered
    if covered is not None and not values[covered]:
        return "本项不适用，基数为 0", [], {}
    inputs = [(label, format_money(values[source]))
              for label, source in evaluator.node_words[node.id].terms]
    formula = " − ".join(f"{label} {text}" for label, text in inputs)
    return f"{formula} = {format_money(value)}", inputs, {}


def _year_to_date(node, context, evaluator, value):
    before, after = value
    line = node.params["line"]
    if not context.values[node.input("covered")]:
        return f"本次不计入{line}年度累计，累计仍为 {format_money(before)}", [], {}
    base = context.values[node.input("base")]
    return (f"年度累计基数: 本次前 {format_money(before)} + 本次 {format_money(base)} = "
            f"{format_money(after)}",
            [("本次前累计", format_money(before)), ("本次后累计", format_money(after))], {})


def _schedule(node, context, evaluator, value):
    values = context.values
    if not values[node.input("covered")]:
        return "本项不适用", [], {}
    before, after = values[node.input("ytd")]
    rate = values[node.input("rate")]
    deductible = values.get(f"{node.params['line']}.deductible") or Decimal(0)
    g_after = round_fen(annual_payout(after, deductible, rate))
    g_before = round_fen(annual_payout(before, deductible, rate))
    rate_words = format_rate(rate) if isinstance(rate, Decimal) else "分段比例"
    formula = (f"G(C) = {rate_words} × (C − 起付标准 {format_money(deductible)}); "
               f"G({format_money(after)}) − G({format_money(before)}) = "
               f"{format_money(g_after)} − {format_money(g_before)} = {format_money(value)}")
    return formula, [("G(本次后累计)", format_money(g_after)),
                     ("G(本次前累计)", format_money(g_before))], {}


def _per_unit(node, context, evaluator, value):
    values = context.values
    if not values[node.input("covered")]:
        return "本项不适用", [], {}
    units = values[node.input("units")] or 0
    amount = values[node.input("amount")]
    unit = evaluator.policy.field_label(node.params["unit"])   # 住院床日, not bed_days
    return (f"定额 {format_money(amount)} × {units} {unit}，不超过基数 "
            f"{format_money(values[node.input('base')])} = {format_money(value)}", [], {})


def _cap(node, context, evaluator, value):
    values = context.values
    line = node.params["line"]
    if not values[node.input("covered")]:
        return f"{line}不适用，支付 0", [], {}
    slice_ = values[node.input("slice")]
    cap = values.get(f"{line}.cap")
    paid = context.person_year.line(line).paid
    if cap is None:
        return (f"不设年度限额: 支付 {format_money(value)}",
                [("本次应付", format_money(slice_)), ("年度已付", format_money(paid))], {})
    room = cap - paid
    reached = "，已达年度限额" if value < slice_ else ""
    return (f"min(本次应付 {format_money(slice_)}, 年度限额 {format_money(cap)} − 年度已付 "
            f"{format_money(paid)} = {format_money(room)}) = {format_money(value)}{reached}",
            [("本次应付", format_money(slice_)), ("年度已付", format_money(paid)),
             ("年度限额", format_money(cap))], {})


def _ceiling(node, context, evaluator, value):
    params = node.params
    claim = context.claim
    values = context.values
    before = {name: values[payout_id(name)] for name in params["lines"]}
    if not evaluator.ceiling_applies(params, claim):
        return "不属于比例上限适用对象或就诊类型，不调整", [], {}
    limit_words = f"{format_rate(params['rate'])} × 政策范围内费用 {format_money(claim.in_scope_cost)}"
    combined = sum((values[payout_id(n)] for n in params["lines"]), Decimal(0))
    cuts = [f"{n} {format_money(before[n])} → {format_money(value[n])}"
            for n in params["lines"] if value[n] != before[n]]
    if not cuts:
        return (f"各项支付合计 {format_money(combined)} ≤ {limit_words}，不调整", [], {})
    return (f"各项支付合计 {format_money(combined)} 超过 {limit_words}（向下取整到分）；"
            f"压减: {'; '.join(cuts)}（压减部分不再补付）", [], {})


def _sum(node, context, evaluator, value):
    values = context.values
    if node.id == CANDIDATE_TOTAL:
        source = values.get("ratio_ceiling")
        parts = [f"{n} {format_money(source[n] if source else values[payout_id(n)])}"
                 for n in node.params["lines"]]
    else:
        parts = [f"{n} {format_money(values[payout_id(n)])}" for n in node.params["lines"]]
    return " + ".join(parts) + f" = {format_money(value)}", [], {}


def _take_highest(node, context, evaluator, value):
    totals = [(candidate or NO_IDENTITY, total) for candidate, total in context.candidates]
    if len(totals) == 1:
        return f"仅一种身份: {totals[0][0]}", [], {"value_text": totals[0][0]}
    best = max(total for _, total in totals)
    tied = [name for name, total in totals if total == best]
    listing = "; ".join(f"{name} {format_money(total)}" for name, total in totals)
    winner = value or NO_IDENTITY
    reason = (f"并列最高，取政策中先列明的{winner}" if len(tied) > 1
              else f"{winner}最高")
    return f"各身份计算支付: {listing}；{reason}，不得重复享受", [
        (name, format_money(total)) for name, total in totals], {"value_text": winner}


def _alert(node, context, evaluator, value):
    alert = node.params["alert"]
    threshold = alert.threshold.for_identity(context.claim.scheme)
    counted = "计入" if value.counted else f"{context.claim.visit}不计入"
    limit = format_money(threshold.value) if threshold else "—"
    burden = format_money(value.burden)
    if not value.in_group:
        status = "不属于本预警监测对象" + ("（本年度此前已预警）" if value.fired else "")
    elif value.fired:
        reached = "超过" if alert.above else "≥"
        status = f"年度累计负担 {burden} {reached} 预警标准 {limit}，预警"
    else:
        short = "未超过" if alert.above else "<"
        status = f"年度累计负担 {burden} {short} 预警标准 {limit}"
    return (f"本次负担{counted}; {status}",
            [("年度累计负担", burden), ("预警标准", limit)],
            {"value_text": "预警" if value.fired else "未预警"})


def _referral(node, context, evaluator, value):
    referral = node.params["referral"]
    if referral.identities is not None and context.candidate not in referral.identities:
        return f"{context.candidate or NO_IDENTITY}不属于{referral.name}对象", [], {
            "value_text": "否"}
    capped = evaluator.capped_lines(referral, context)
    if not capped:
        return "各项支付未受年度限额限制，无需转办", [], {"value_text": "否"}
    return (f"{'、'.join(capped)}已达年度限额，个人负担仍有 "
            f"{format_money(context.values['personal_burden'])}：转{referral.name}（不计算支付）",
            [], {"value_text": "转办"})


# Ops whose words depend on the node alone: worked out once (see _words).
_FIXED = (Op.INPUT, Op.UPSTREAM)
# Value types of claim fields whose values a batch repeats (visit, scheme, identities,
# flags), and how many steps of one node are kept for reuse at most.
_FEW_VALUES = frozenset((str, tuple, bool, type(None)))
_MAX_REUSED = 256
# Ops whose words, when their line does not cover the claim, depend on the node, the
# candidate and the value alone, and whose value is then a constant (ScalarEvaluator's
# _UNCOVERED): a step per candidate.  Not a year to date: its value is the ledger's
# figure, so reuse would keep a step per person.
_SAME_WHEN_UNCOVERED = frozenset((Op.LOOKUP, Op.DIFFERENCE, Op.SCHEDULE, Op.PER_UNIT, Op.CAP))

_FORMULAS = {
    Op.INPUT: _input,
    Op.UPSTREAM: _upstream,
    Op.IDENTITY: _identity,
    Op.LOOKUP: _lookup,
    Op.COVERS: _covers,
    Op.DIFFERENCE: _difference,
    Op.YEAR_TO_DATE: _year_to_date,
    Op.SCHEDULE: _schedule,
    Op.PER_UNIT: _per_unit,
    Op.CAP: _cap,
    Op.CEILING: _ceiling,
    Op.SUM: _sum,
    Op.TAKE_HIGHEST: _take_highest,
    Op.ALERT: _alert,
    Op.REFERRAL: _referral,
}
