"""A policy's values as a reviewer reads them: 60%, 20,000.00, 不设, 分段…, 未明确.

The checked model keeps rates as fractions and amounts as yuan in the same
Decimal type; which one a value is follows from the slot it fills (a line's
支付比例, a subsidy's share), so the slot is passed in as ``kind``.
"""

from __future__ import annotations

from decimal import Decimal

from yibao.core.money import format_amount_words, format_rate
from yibao.dsl.ast import Citation
from yibao.dsl.model import (
    OTHERS, UNSPECIFIED, BandSchedule, ByIdentity, FixedSubsidyValue, FullSubsidyValue,
    ShareSubsidyValue, Sourced,
)

RATE, AMOUNT, ANY = "rate", "amount", "any"
# Words that name a rate in a parameter's name (param 大病保险倾斜支付比例 …).
_RATE_WORDS = ("比例", "费率")


def kind_of_table(table: ByIdentity) -> str:
    """A table's kind from its name: `基本救助.支付比例` holds rates."""
    name = table.name
    if name.endswith(".支付比例") or (("." not in name) and any(w in name for w in _RATE_WORDS)):
        return RATE
    if "." in name:
        return AMOUNT
    return ANY


def value_words(value, kind: str = ANY, note: str | None = None) -> str:
    if value is UNSPECIFIED:
        return f"未明确（{note}）" if note else "未明确"
    if value is None:
        return "不设"
    if isinstance(value, BandSchedule):
        return "分段: " + "; ".join(
            f"{_plain(b.lower)}–{_plain(b.upper) if b.upper is not None else '以上'} "
            f"{format_rate(b.rate)}" for b in value.slices)
    if isinstance(value, FullSubsidyValue):
        return "全额资助"
    if isinstance(value, ShareSubsidyValue):
        return f"按缴费的 {format_rate(value.share)} 资助"
    if isinstance(value, FixedSubsidyValue):
        amount = ("未明确" + (f"（{note}）" if note else "") if value.amount is UNSPECIFIED
                  else format_amount_words(value.amount))
        bound = f"，不高于{value.at_most}" if value.at_most else ""
        return f"定额资助 {amount}{bound}"
    if isinstance(value, Decimal):
        if kind == RATE:
            return format_rate(value)
        return format_amount_words(value) if kind == AMOUNT else _plain(value)
    return str(value)


def sourced_words(sourced: Sourced | None, kind: str) -> str | None:
    if sourced is None:
        return None
    return value_words(sourced.value, kind, sourced.note)


def _plain(amount: Decimal) -> str:
    """An amount without needless decimals: 20000 → 20,000; 162.4 → 162.4."""
    text = f"{amount.normalize():,f}"
    return text


def citation_words(citation: Citation | None) -> str:
    if citation is None:
        return ""
    quote = f"「{citation.quote}」" if citation.quote else ""
    return f"§{citation.clause}{quote}"


def key_words(key: str | None, table: ByIdentity) -> str:
    """A table key for people: an identity, a scheme, or everyone else."""
    if key is not None:
        return key
    return "全体" if len(table.values) == 1 else OTHERS


def names_words(names) -> str:
    if names is None:
        return "—"
    return "、".join(names) or "无"
