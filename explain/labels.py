"""The words around a trace, in Chinese (the default) or English.

Chinese is the language of the documents and of the trace; English labels are
given on request.  Identities, line names, fields' display names and the
clauses' quoted words stay in Chinese in both, because they are the documents'
own terms.
"""

from __future__ import annotations

import attrs

from yibao.runtime.facts import Bound, CoversFacts
from yibao.runtime.trace import Step
from yibao.explain import trace_en, trace_zh
from yibao.explain.step_words import StepWords

LANGUAGES = ("zh", "en")
_ZH_NUMBERS = "一二三四五六七八九十"

WORDS = {
    "title": ("理赔 {claim} 结算说明", "Settlement of claim {claim}"),
    "policy": ("政策", "Policy"),
    "in_force": ("{date} 起施行", "in force from {date}"),
    "claim": ("申报", "Claim"),
    "date": ("就诊日期", "date"),
    "person": ("参保人", "person"),
    "visit": ("就诊类型", "visit"),
    "scheme": ("参保险种", "scheme"),
    "total_cost": ("医疗总费用", "total cost"),
    "in_scope_cost": ("政策范围内费用", "in-scope cost"),
    "identities": ("身份", "identities"),
    "none": ("无", "none"),
    "upstream": ("上游结算（先保险后救助）", "Settled upstream (insurance first, assistance after)"),
    "candidate": ("按{candidate}待遇计算", "Under the treatment of {candidate}"),
    "totals": ("就高与合计", "Take highest and totals"),
    "alerts_section": ("预警监测", "Alert monitoring"),
    "result": ("结果", "Result"),
    "identity": ("适用身份", "Identity applied"),
    "total_paid": ("支付合计", "Total paid"),
    "personal_burden": ("个人负担", "Personal burden"),
    "burden_note": ("（含政策范围外费用）", " (out-of-scope costs included)"),
    "alerts": ("预警", "Alerts"),
    "referrals": ("转一事一议", "Referred to case review"),
    "not_applicable": ("不适用", "does not apply"),
    "inherited": ("（沿用 {version}）", " (inherited from {version})"),
    "item": ("项目", "item"),
    "figure": ("数额", "figure"),
    "claimed": ("申报值", "as claimed"),
    "upstream_paid": ("{line}（上游已付）", "{line} (paid upstream)"),
    "take_highest": ("待遇就高不就低", "Take highest"),
    "candidate_total": ("本身份支付合计", "total under this identity"),
    "applied": ("适用", "applied"),
    "not_applied": ("未采用", "not applied"),
    "generated": ("由 yibao 根据理赔的计算轨迹生成，未重新计算。",
                  "Made by yibao from the claim's trace; nothing was evaluated again."),
    "year_to_date": ("年度累计", "Year to date"),
    "line": ("救助项目", "line"),
    "ytd_before": ("本次前累计基数", "base before"),
    "ytd_after": ("本次后累计基数", "base after"),
    "paid_before": ("本次前年度已付", "paid this year before"),
    "annual_cap": ("年度限额", "annual cap"),
    "paid_now": ("本次支付", "paid now"),
    "alert": ("预警", "alert"),
    "burden_ytd": ("年度累计负担", "annual burden"),
    "threshold": ("预警标准", "threshold"),
    "outcome": ("结论", "outcome"),
    "reason": ("说明", "why"),
    "steps": ("计算过程", "Steps"),
    "graph": ("评估图", "Evaluation graph"),
    "formula": ("算式", "formula"),
    "clause": ("条款", "clause"),
    "source": ("依据", "clause"),
    "fields": ("申报项目", "Claim items"),
    "quoted_above": ("（引文见前）", " (quoted above)"),
    "sources": ("申报项目的依据条款", "The clauses of the claim's items"),
    "legend": ("橙色为本理赔的计算路径，灰色为未采用的分支与未胜出的身份；蓝色为输入，绿色为输出。",
               "Orange: this claim's path; grey: branches not taken and losing identities; "
               "blue: inputs; green: outputs."),
}


@attrs.frozen
class Language:
    code: str

    def __attrs_post_init__(self):
        if self.code not in LANGUAGES:
            raise ValueError(f"unknown language {self.code}; use one of {', '.join(LANGUAGES)}")

    @property
    def english(self) -> bool:
        return self.code == "en"

    def word(self, key: str, **values: str) -> str:
        zh, en = WORDS[key]
        return (en if self.english else zh).format(**values)

    def number(self, index: int) -> str:
        """A section number: 一、 二、 … in Chinese, 1. 2. … in English."""
        return f"{index + 1}. " if self.english else f"{_ZH_NUMBERS[index]}、"

    def names(self, names: list[str] | tuple[str, ...]) -> str:
        return (", " if self.english else "、").join(names)


    # ---- a step's words --------------------------------------------------------------
    def label(self, step: Step) -> str:
        return trace_en.step_label(step) if self.english else trace_zh.step_label(step)

    def words(self, step: Step) -> StepWords:
        """The step's value and formula, written from its facts in this language."""
        return trace_en.words(step) if self.english else trace_zh.words(step)

    def refusal(self, covers: Step, quotes: bool = True) -> str:
        """Why a line did not apply, and the clause that says so; a `when` condition's
        clause is quoted (the auditor checks the condition against its words)."""
        failed = isinstance(covers.facts, CoversFacts) and \
            covers.facts.bound is Bound.CONDITION_FAILED
        return f"{self.formula(covers)} {self.clause(covers, quotes and failed)}".rstrip()

    def condition_met(self, covers: Step | None) -> str:
        """A line that applied: that its `when` condition held, with the condition's clause
        (条件满足: (省内就医 或 按规定转诊) §(十三)); "" when it has none."""
        if covers is None or not isinstance(covers.facts, CoversFacts) or \
                not covers.facts.condition_held:
            return ""
        module = trace_en if self.english else trace_zh
        return module.condition_held(covers.facts)

    def formula(self, step: Step) -> str:
        return self.words(step).formula

    def value(self, text: str) -> str:
        """A name or word shown as a value (an identity, 不设, 无救助身份)."""
        return trace_en.value(text) if self.english else text

    def reference(self, step: Step) -> str:
        """The step's clause as a short reference (§(十三)), for a table's cell."""
        return f"§{step.clause}" if step.clause else ""

    def clause(self, step: Step, with_quote: bool = True) -> str:
        clause, quote = step.clause, step.quote
        facts = step.facts
        if (isinstance(facts, CoversFacts) and facts.bound is Bound.CONDITION_FAILED
                and facts.condition_clause):
            # Refused by its `when` condition: the condition's own clause, not the line's
            # `covers` one (issue 24: §(十三), not §(四)).
            clause, quote = facts.condition_clause, facts.condition_quote
        if not clause:
            return ""
        text = f"§{clause}"
        if with_quote and quote:
            text += f"「{quote}」"
        if step.inherited:
            text += self.word("inherited", version=step.version)
        return text


ZH = Language("zh")
EN = Language("en")


def language(code: str) -> Language:
    return EN if code == "en" else Language(code)
