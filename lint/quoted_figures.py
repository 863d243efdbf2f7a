"""The figures a quote or a clause states, read the way the language reads values.

Arabic figures go through the parser's own readings (``amount_value``,
``percent_value``): ``2万``, ``2万元``, ``20000元``, ``1.2 万元`` are 20000 and
12000 yuan, ``70%`` and ``７０％`` are 0.7.  Chinese numerals are read too:
``百分之七十`` is 0.7, ``两万元`` 20000.  Figures that are no amounts are
left out: years, months and days (``2023年1月``), document numbers
(``〔2019〕35号``) and ordinals (``第二``).
"""

from __future__ import annotations

import re
from decimal import Decimal

import attrs

from yibao.dsl.parser import amount_value, percent_value
from yibao.lint.notice_text import fold

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
           "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMERAL = "零〇一二两三四五六七八九十百千"

_PERCENT = re.compile(r"(\d+(?:\.\d+)?)%")
_CHINESE_PERCENT = re.compile(rf"百分之([{_NUMERAL}]+(?:点[{_NUMERAL}]+)?)")
_AMOUNT = re.compile(r"(?<![\d.〔\[第])(\d+(?:\.\d+)?)(万元|万|元)?(?![\d.%年月日号])")
_CHINESE_AMOUNT = re.compile(rf"(?<![第百分之])([{_NUMERAL}]+)(万元|万|元)")


@attrs.frozen
class Figures:
    """The rates (fractions) and amounts (yuan) a text states, exact."""

    rates: frozenset[Decimal]
    amounts: frozenset[Decimal]
    # Words that say a deductible or cap is nothing: 取消起付标准, 不设, 免.
    says_none: bool


def figures(text: str) -> Figures:
    folded = fold(text)
    rates = {percent_value(m.group(0)) for m in _PERCENT.finditer(folded)}
    rates |= {v / 100 for v in (_chinese_number(m.group(1)) for m in
                                _CHINESE_PERCENT.finditer(folded)) if v is not None}
    without_rates = _CHINESE_PERCENT.sub(" ", _PERCENT.sub(" ", folded))
    amounts = {amount_value(m.group(1) + (m.group(2) or "")) for m in
               _AMOUNT.finditer(without_rates)}
    for match in _CHINESE_AMOUNT.finditer(without_rates):
        number = _chinese_number(match.group(1))
        if number is not None:
            amounts.add(number * (10000 if match.group(2).startswith("万") else 1))
    says_none = any(word in folded for word in ("取消", "不设", "免除", "免收", "零"))
    return Figures(frozenset(_canonical(r) for r in rates),
                   frozenset(_canonical(a) for a in amounts), says_none)


def _canonical(value: Decimal) -> Decimal:
    return value.normalize() if value != 0 else Decimal(0)


def _chinese_number(text: str) -> Decimal | None:
    """``七十`` → 70, ``一百`` → 100, ``七十五`` → 75, ``零点五`` → 0.5; None if not a number."""
    whole, _, fraction = text.partition("点")
    value = _chinese_integer(whole)
    if value is None:
        return None
    if fraction:
        digits = [_DIGITS.get(ch) for ch in fraction]
        if None in digits:
            return None
        return Decimal(value) + Decimal("0." + "".join(map(str, digits)))
    return Decimal(value)


def _chinese_integer(text: str) -> int | None:
    if not text:
        return None
    total, digit = 0, None
    for char in text:
        if char in _DIGITS:
            if digit is not None and char not in "零〇":
                return None          # 七五: a digit string, not a number as written in words
            digit = _DIGITS[char] if char not in "零〇" else None
        elif char in _UNITS:
            total += (digit if digit is not None else 1) * _UNITS[char]
            digit = None
        else:
            return None
    return total + (digit or 0)
