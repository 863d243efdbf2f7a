"""Checked values in a drafter's words, for hovers and inlay hints: 2万 → 20,000元."""

from __future__ import annotations

from decimal import Decimal

from yibao.core.money import format_amount_words, format_rate
from yibao.dsl.model import (
    UNSPECIFIED, BandSchedule, ByIdentity, FixedSubsidyValue, FullSubsidyValue, Policy,
    ShareSubsidyValue, Sourced,
)

def value_words(value, rate: bool) -> str:
    """One value as the policy means it; ``rate`` says whether a Decimal is a rate."""
    if value is None:
        return "不设 (none)"
    if value is UNSPECIFIED:
        return "unspecified"
    if isinstance(value, BandSchedule):
        return "; ".join(
            f"{_yuan(s.lower)}–{_yuan(s.upper) if s.upper is not None else ''}: "
            f"{format_rate(s.rate)}" for s in value.slices)
    if isinstance(value, FullSubsidyValue):
        return "full"
    if isinstance(value, ShareSubsidyValue):
        return f"share {format_rate(value.share)}"
    if isinstance(value, FixedSubsidyValue):
        amount = "unspecified" if value.amount is UNSPECIFIED else f"{_yuan(value.amount)}元"
        return f"fixed {amount}" + (f" (at most {value.at_most}'s)" if value.at_most else "")
    if isinstance(value, Decimal):
        return format_rate(value) if rate else f"{_yuan(value)}元"
    return str(value)


def sourced_words(sourced: Sourced, rate: bool, policy: Policy | None = None) -> str:
    text = value_words(sourced.value, rate)
    clause = f" §{sourced.clause}" if sourced.clause else ""
    origin = ""
    if sourced.inherited:
        origin = f" (inherited from {sourced.version})"
    elif policy is not None and sourced.version and sourced.version != policy.policy_id:
        origin = f" (set by {sourced.version})"
    return text + clause + origin


def is_rate_table(table: ByIdentity) -> bool:
    """A line's 支付比例 and a parameter named for a 比例 hold fractions; the rest yuan."""
    return "比例" in table.name


def _yuan(amount: Decimal) -> str:
    return format_amount_words(amount).removesuffix(".00")
