"""Exact figures of the analyses in a drafter's words: 28,571.43 yuan, 83.65%."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from yibao.core.money import format_amount_words, round_fen
from yibao.dsl.model import NO_IDENTITY


def _decimal(value: Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator)


def money(value: Fraction) -> str:
    """Yuan to the fen (rounded half up, for display only)."""
    return format_amount_words(round_fen(_decimal(value)))


def percent(value: Fraction) -> str:
    """A share as a percentage with two decimals: 1673/2000 → '83.65%'."""
    return f"{round_fen(_decimal(value) * 100):.2f}%"


def identity_words(identity: str | None) -> str:
    return identity if identity is not None else NO_IDENTITY


def where_words(share) -> str:
    """'96.50% of the in-scope cost at a burden of 28,571.43 (住院)' and the like: where
    the lines' share peaks, in L201's and L202's findings."""
    extreme = share.combined
    scenario = share.combined_scenario
    upstream = (f" with upstream lines paying {percent(share.upstream_share)}"
                if share.upstream_share else "")
    if extreme.reached:
        place = ("from the first yuan of burden" if extreme.first_piece
                 else f"at a burden of {money(extreme.settlement.burden)}")
    else:
        start = money(extreme.settlement.burden) if extreme.settlement else "0"
        place = f"approaching it as the burden grows beyond {start}"
    return (f"{percent(extreme.share)} of the in-scope cost{upstream} {place} "
            f"({scenario.describe()})")
