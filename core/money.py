"""Exact money: Decimal yuan with two places, and the one rounding rule.

docs/specification.md §3: amounts are decimal yuan, never binary floats; rounding is to
0.01 yuan, half up, and happens only where the settlement rules say so.  Every
module that rounds money calls :func:`round_fen`, so the rule lives here only.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)

# Claims carry at most 2 decimals and amounts below 10^13 yuan, and policies
# carry rates with a few decimals: 60 significant digits hold every exact
# product and sum the engine forms, so no arithmetic here is ever inexact.
MONEY_CONTEXT = decimal.Context(
    prec=60,
    rounding=decimal.ROUND_HALF_UP,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)
decimal.setcontext(MONEY_CONTEXT)

# The largest amount a claim may carry (docs/claims.md gives no bound; one
# trillion yuan is far beyond any medical bill and keeps every sum exact).
MAX_AMOUNT = Decimal("1000000000000.00")


def round_fen(amount: Decimal) -> Decimal:
    """Round to the fen, half up (docs/specification.md §3)."""
    return amount.quantize(FEN, rounding=decimal.ROUND_HALF_UP, context=MONEY_CONTEXT)


def floor_fen(amount: Decimal) -> Decimal:
    """Round down to the fen, for a bound that must never be exceeded."""
    return amount.quantize(FEN, rounding=decimal.ROUND_FLOOR, context=MONEY_CONTEXT)


def to_money(amount: Decimal) -> Decimal:
    """An amount already exact to the fen, in canonical two-place form."""
    return amount.quantize(FEN, context=MONEY_CONTEXT)


def format_money(amount: Decimal) -> str:
    """Money as the exchange format writes it: a string with two decimals."""
    # Traces write some eighty amounts a claim, nearly all already rounded to the
    # fen: their str() is the answer, and ends ".dd" only in fixed-point with two
    # places (an exponent form ends in E±n).  Anything else is quantized first.
    text = str(amount)
    if text[-3:-2] == ".":
        return text
    return str(amount.quantize(FEN, context=MONEY_CONTEXT))


def format_rate(rate: Decimal) -> str:
    """A rate (a fraction) as a percentage without trailing zeros: 0.7 → '70%'."""
    percent = (rate * HUNDRED).normalize(MONEY_CONTEXT)
    text = f"{percent:f}"
    return f"{text}%"


def format_amount_words(amount: Decimal) -> str:
    """Money for people: thousands separated, two decimals (20,000.00)."""
    return f"{to_money(amount):,.2f}"
