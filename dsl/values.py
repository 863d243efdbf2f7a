"""AST values → typed model values, with the kind each rule expects.

A deductible or cap is an amount (or ``none``), a rate is a percentage or
bands, a subsidy is full/fixed/share.  A value of the wrong kind is reported
with a hint in the drafter's terms (``rate 70`` → "write 70%").
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Callable

from yibao.dsl import ast
from yibao.dsl.model import (
    UNSPECIFIED, BandSchedule, BandSlice, FixedSubsidyValue, FullSubsidyValue, ParamValue,
    ShareSubsidyValue,
)


class Kind(enum.Enum):
    AMOUNT = "an amount such as 2000 or 2万"
    LIMIT = "an amount or none"
    RATE = "a rate such as 70% or bands { … }"
    SUBSIDY = "full, fixed AMOUNT or share RATE"
    ANY = "a value"


class ValueKindError(Exception):
    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.message = message
        self.hint = hint


def to_model_value(value: ast.Value, kind: Kind) -> ParamValue:
    """Convert one AST value, checking it is of ``kind``; raise :class:`ValueKindError`."""
    if isinstance(value, ast.Unspecified):
        return UNSPECIFIED
    converter = _CONVERTERS[kind]
    return converter(value)


def _wrong(value: ast.Value, kind: Kind, hint: str = "") -> ValueKindError:
    written = _describe(value)
    return ValueKindError(f"expected {kind.value}, found {written}", hint)


def _describe(value: ast.Value) -> str:
    if isinstance(value, ast.Amount):
        return f"the amount {value.text}"
    if isinstance(value, ast.Percent):
        return f"the rate {value.text}"
    if isinstance(value, ast.Bands):
        return "bands"
    if isinstance(value, ast.NoLimit):
        return "none"
    if isinstance(value, (ast.FullSubsidy, ast.FixedSubsidy, ast.ShareSubsidy)):
        return "a subsidy"
    if isinstance(value, (ast.PlusRate, ast.TimesValue)):
        return "an amendment (plus/times), which only `amend` may use"
    return type(value).__name__


def _amount(value: ast.Value) -> ParamValue:
    if isinstance(value, ast.Amount):
        return value.value
    hint = "an amount is written without %" if isinstance(value, ast.Percent) else ""
    raise _wrong(value, Kind.AMOUNT, hint)


def _limit(value: ast.Value) -> ParamValue:
    if isinstance(value, ast.NoLimit):
        return None
    if isinstance(value, ast.Amount):
        return value.value
    raise _wrong(value, Kind.LIMIT, "write `none` for 不设年度救助限额")


def _rate(value: ast.Value) -> ParamValue:
    if isinstance(value, ast.Percent):
        return value.value
    if isinstance(value, ast.Bands):
        return BandSchedule(tuple(
            BandSlice(band.lower.value, band.upper.value if band.upper else None, band.rate.value)
            for band in value.bands
        ))
    if isinstance(value, ast.Amount):
        raise _wrong(value, Kind.RATE, f"rates are written with a percent sign: {value.text}%")
    raise _wrong(value, Kind.RATE)


def _subsidy(value: ast.Value) -> ParamValue:
    if isinstance(value, ast.FullSubsidy):
        return FullSubsidyValue()
    if isinstance(value, ast.FixedSubsidy):
        return FixedSubsidyValue(value.amount.value if value.amount else UNSPECIFIED,
                                 value.at_most.text if value.at_most else None)
    if isinstance(value, ast.ShareSubsidy):
        return ShareSubsidyValue(value.share.value)
    raise _wrong(value, Kind.SUBSIDY, "e.g. `full`, `fixed 180`, `share 60%`")


def _any(value: ast.Value) -> ParamValue:
    for converter in (_amount, _rate, _limit, _subsidy):
        try:
            return converter(value)
        except ValueKindError:
            continue
    raise _wrong(value, Kind.ANY)


_CONVERTERS: dict[Kind, Callable[[ast.Value], ParamValue]] = {
    Kind.AMOUNT: _amount,
    Kind.LIMIT: _limit,
    Kind.RATE: _rate,
    Kind.SUBSIDY: _subsidy,
    Kind.ANY: _any,
}


def rates_in(value: ParamValue) -> list[Decimal]:
    """Every rate a value states (one, or one per band), for range checks."""
    if isinstance(value, BandSchedule):
        return [band.rate for band in value.slices]
    if isinstance(value, ShareSubsidyValue):
        return [value.share]
    if isinstance(value, Decimal):
        return [value]
    return []
