"""A traced figure for people: thousands separated, as on a settlement slip.

The trace writes money as the exchange format does (``12000.00``); the review
views show ``12,000.00``.  Anything that is not money (a rate, 是/否, an
identity) is shown as traced.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from yibao.core.money import format_amount_words

YEAR_TO_DATE_ARROW = " → "


def money(value: str) -> str:
    """A traced amount with thousands separated; anything else as traced."""
    try:
        return format_amount_words(Decimal(value))
    except (InvalidOperation, ValueError):
        return value


def readable(value: str) -> str:
    """As :func:`money`, year-to-date pairs (before → after) included."""
    return YEAR_TO_DATE_ARROW.join(money(part) for part in value.split(YEAR_TO_DATE_ARROW))
