"""English for a trace's Chinese words: step labels, formulas, values.

The trace is written in Chinese (compiler/formulas.py) because auditors read
Chinese; ``--lang en`` reads it back in English.  Each formula pattern of
formulas.py has one entry here; the names inside (identities, lines, alerts,
visits, schemes, claim fields) are captured and kept in Chinese, as are the
clauses' words.  A formula no pattern knows is shown as traced, never guessed
(tests/explain/test_text_lang.py fails on one, so a new pattern is added here).
"""

from __future__ import annotations

import re

# ---- labels --------------------------------------------------------------------------
FIXED_LABELS = {
    "政策范围内费用": "in-scope cost",
    "医疗总费用": "total cost",
    "就诊类型": "visit",
    "参保险种": "scheme",
    "救助身份": "identities",
    "适用身份": "identity applied",
    "本身份计算支付合计": "total for this identity",
    "本身份支付合计": "total for this identity",
    "待遇就高不就低": "take highest",
    "各项支付合计": "total paid",
    "个人负担": "personal burden",
}
# Labels lower.py forms as f"{line}{suffix}", longest suffix first.
SUFFIX_LABELS = (
    ("年度累计基数", "year-to-date base"),
    ("计算基数", "base"),
    ("起付标准", "deductible"),
    ("支付比例", "rate"),
    ("年度限额", "annual cap"),
    ("定额标准", "per-unit amount"),
    ("本次应付", "due this claim"),
    ("适用范围", "coverage"),
    ("监测负担", "monitored burden"),
    ("预警", "alert"),
    ("定额", "per-unit payout"),
    ("支付", "payout"),
)
VALUES = {"是": "yes", "否": "no", "不设": "none", "预警": "alert", "未预警": "no alert",
          "转办": "referred", "无救助身份": "no assistance identity", "无": "none"}


# The graph's fixed nodes (compiler/lower.py), whatever their Chinese label says.
NODE_LABELS = {
    "candidate.identity": "identity applied",
    "candidate.total": "total for this identity",
    "take_highest": "take highest",
    "total_paid": "total paid",
    "personal_burden": "personal burden",
    "claim.in_scope_cost": "in-scope cost",
    "claim.total_cost": "total cost",
    "claim.visit": "visit",
    "claim.scheme": "scheme",
    "claim.identities": "identities",
}


def step_label(node: str, text: str) -> str:
    return NODE_LABELS.get(node) or label(text)


def label(text: str) -> str:
    if text in FIXED_LABELS:
        return FIXED_LABELS[text]
    match = re.fullmatch(r"综合保障比例上限 (.+)", text)
    if match:
        return f"ratio ceiling {match[1]}"
    match = re.fullmatch(r"转(.+)", text)
    if match:
        return f"referral to {match[1]}"
    for suffix, english in SUFFIX_LABELS:
        if text.endswith(suffix) and len(text) > len(suffix):
            return f"{text[:-len(suffix)]} {english}"
    return text


def value(text: str) -> str:
    if text.startswith("分段: "):
        return "bands: " + text[len("分段: "):].replace("以上", " and above")
    return VALUES.get(text, text)


def names(text: str) -> str:
    """A list of names joined the Chinese way (、), joined the English way."""
    return text.replace("、", ", ")


def condition(text: str) -> str:
    return text.replace(" 且 ", " and ").replace(" 或 ", " or ").replace("非 ", "not ")


def terms(text: str) -> str:
    """`label amount − label amount = amount`: each term's label in English."""
    def one(term: str) -> str:
        match = re.fullmatch(r"(.+?) ([0-9.,]+)", term)
        return f"{label(match[1])} {match[2]}" if match else term
    left, _, result = text.rpartition(" = ")
    return " − ".join(one(t) for t in left.split(" − ")) + f" = {result}"


_WHAT = "(起付标准|支付比例|年度限额|定额标准)"
_WHAT_EN = {"起付标准": "deductible", "支付比例": "rate", "年度限额": "annual cap",
            "定额标准": "per-unit amount"}


def _reason(text: str) -> str:
    tied = re.fullmatch(r"并列最高，取政策中先列明的(.+)", text)
    if tied:
        return f"tied; {tied[1]}, listed first in the policy, applies"
    return re.sub(r"(.+)最高$", r"\1 is highest", text)


def _status(text: str) -> str:
    if text == "不属于本预警监测对象":
        return "not in this alert's group"
    text = re.sub(r"^年度累计负担 (\S+) ≥ 预警标准 (\S+)，预警$", r"annual burden \1 ≥ threshold \2: alert", text)
    text = re.sub(r"^年度累计负担 (\S+) 超过 预警标准 (\S+)，预警$",
                  r"annual burden \1 is above threshold \2: alert", text)
    text = re.sub(r"^年度累计负担 (\S+) 未超过 预警标准 (\S+)$",
                  r"annual burden \1 is not above threshold \2", text)
    return re.sub(r"^年度累计负担 (\S+) < 预警标准 (\S+)$", r"annual burden \1 < threshold \2", text)


# ---- formulas: one pattern per formula of compiler/formulas.py -------------------------
FORMULAS = (
    (r"申报(.+)", lambda m: f"as claimed ({label(m[1])})"),
    (r"(.+)由上游结算，取申报 (paid\..+)", lambda m: f"{m[1]} is settled upstream: {m[2]} as claimed"),
    (r"未持有本政策的救助身份", lambda m: "holds no assistance identity of this policy"),
    (r"(.+)参照执行(.+)", lambda m: f"{names(m[1])} treated as {m[2]}"),
    (r"按(.+)待遇计算", lambda m: f"evaluated under the treatment of {m[1]}"),
    (r"本项不适用，不取值", lambda m: "does not apply; not read"),
    (r"本项不适用，基数为 0", lambda m: "does not apply; base 0"),
    (r"本项不适用", lambda m: "does not apply"),
    (rf"(.+?){_WHAT}: 不设", lambda m: f"{value(m[1])} {_WHAT_EN[m[2]]}: none"),
    (rf"(.+?){_WHAT} = (.+)", lambda m: f"{value(m[1])} {_WHAT_EN[m[2]]} = {value(m[3])}"),
    (r"(.+)不在(.+)保障范围（(.+)）", lambda m: f"{m[1]} is not covered by {m[2]} ({names(m[3])})"),
    (r"条件不满足: (.+)", lambda m: f"condition not met: {condition(m[1])}"),
    (r"(.+)属于(.+)保障范围，(.+)享受", lambda m: f"{m[1]} is covered by {m[2]}, and so is {value(m[3])}"),
    (r"(.+)不享受(.+)", lambda m: f"{value(m[1])} is not covered by {m[2]}"),
    (r"本次不计入(.+)年度累计，累计仍为 (.+)",
     lambda m: f"not added to the year-to-date base of {m[1]}, which stays {m[2]}"),
    (r"年度累计基数: 本次前 (.+) \+ 本次 (.+) = (.+)",
     lambda m: f"year-to-date base: before this claim {m[1]} + this claim {m[2]} = {m[3]}"),
    (r"G\(C\) = (.+) × \(C − 起付标准 (.+)\); (.+)",
     lambda m: f"G(C) = {m[1].replace('分段比例', 'band rates')} × (C − deductible {m[2]}); {m[3]}"),
    (r"定额 (.+) × (.+) (.+)，不超过基数 (.+) = (.+)",
     lambda m: f"quota {m[1]} × {m[2]} {m[3]}, at most the base {m[4]} = {m[5]}"),
    (r"(.+)不适用，支付 0", lambda m: f"{m[1]} does not apply: pays 0"),
    (r"不设年度限额: 支付 (.+)", lambda m: f"no annual cap: pays {m[1]}"),
    (r"min\(本次应付 (.+), 年度限额 (.+) − 年度已付 (.+) = (.+)\) = ([0-9.]+)(，已达年度限额)?",
     lambda m: (f"min(due this claim {m[1]}, annual cap {m[2]} − paid this year {m[3]} = {m[4]}) = {m[5]}"
                + (", annual cap reached" if m[6] else ""))),
    (r"不属于比例上限适用对象或就诊类型，不调整", lambda m: "not subject to the ratio ceiling; unchanged"),
    (r"各项支付合计 (.+) ≤ (.+) × 政策范围内费用 (.+)，不调整",
     lambda m: f"total paid {m[1]} ≤ {m[2]} × in-scope cost {m[3]}; unchanged"),
    (r"各项支付合计 (.+) 超过 (.+) × 政策范围内费用 (.+)（向下取整到分）；压减: (.+)（压减部分不再补付）",
     lambda m: (f"total paid {m[1]} exceeds {m[2]} × in-scope cost {m[3]} (rounded down to the fen);"
                f" reduced: {m[4]} (never paid back later)")),
    (r"仅一种身份: (.+)", lambda m: f"one identity only: {value(m[1])}"),
    (r"各身份计算支付: (.+)；(.+)，不得重复享受",
     lambda m: f"totals by identity: {m[1]}; {_reason(m[2])}; never added together"),
    (r"本次负担计入; (.+)", lambda m: f"this claim's burden counts; {_status(m[1])}"),
    (r"本次负担(.+)不计入; (.+)", lambda m: f"{m[1]} does not count; {_status(m[2])}"),
    (r"(.+)不属于(.+)对象", lambda m: f"{value(m[1])} is not eligible for {m[2]}"),
    (r"各项支付未受年度限额限制，无需转办", lambda m: "no payout was cut by an annual cap; no referral"),
    (r"(.+)已达年度限额，个人负担仍有 (.+)：转(.+)（不计算支付）",
     lambda m: f"{names(m[1])} reached the annual cap, personal burden still {m[2]}: "
               f"referred to {m[3]} (no payout computed)"),
    (r".+ [0-9.]+ − .+ = [0-9.]+", lambda m: terms(m[0])),
)
_COMPILED = tuple((re.compile(pattern), english) for pattern, english in FORMULAS)


def formula(text: str) -> str:
    for pattern, english in _COMPILED:
        match = pattern.fullmatch(text)
        if match:
            return english(match)
    return text  # sums (`line amount + …`) have names and figures only
