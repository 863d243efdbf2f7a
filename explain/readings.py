"""The readings of the notices the semantics choose, named where they decide a figure.

Each :class:`~yibao.runtime.facts.Reading` is documented in docs/specification.md;
a step names the reading (and the section that states it) only where another
reading would have given another figure: the deductible once a year when an
earlier claim already counted toward the base, the cap per calendar year when
the line had paid this person before, the ceiling's rounding when it cut, the
first-declared identity when take highest was tied.
"""

from __future__ import annotations

from decimal import Decimal

from yibao.compiler.arithmetic import DECIMAL, claim_slice
from yibao.runtime.facts import Reading, ScheduleFacts

SPECIFICATION = "docs/specification.md"

# reading: (Chinese, English, the specification's sections)
_READINGS = {
    Reading.DEDUCTIBLE_ONCE_PER_YEAR: (
        "起付标准按年度累计计算一次", "the deductible is met once a year, on the cumulative base",
        ("6.3", "16.1")),
    Reading.CAP_PER_CALENDAR_YEAR: (
        "年度限额按自然年度累计", "the annual cap bounds what the line paid in the calendar year",
        ("6.3",)),
    Reading.CEILING_FLOOR_FEN_CUT_FINAL: (
        "比例上限向下取整到分，压减部分不再补付",
        "the ceiling is rounded down to the fen, and the cut is never paid back", ("9",)),
    Reading.TAKE_HIGHEST_FIRST_DECLARED_ON_TIE: (
        "并列时取政策中先列明的身份", "a tie goes to the identity the policy declares first",
        ("8", "16.1")),
}


def reading_words(reading: Reading, english: bool = False) -> str:
    """The reading named, with the specification's sections: 解释「…」(docs/specification.md §6.3、§16.1)."""
    zh, en, sections = _READINGS[reading]
    where = (", " if english else "、").join(f"§{s}" for s in sections)
    if english:
        return f"reading: {en} ({SPECIFICATION} {where})"
    return f"解释：{zh}（{SPECIFICATION} {where}）"


def per_admission(facts: ScheduleFacts) -> Decimal:
    """What the slice would be if the deductible were met per admission, on this claim's
    base alone (the reading §16.1 rejects): G(base) − G(0) with the one formula of
    compiler/arithmetic.py, so the auditor sees what the reading decided (bx-0003's
    倾斜救助: 60% × (13,800 − 3,000) = 6,480, against 8,280 once a year)."""
    return claim_slice(DECIMAL, Decimal(0), facts.after - facts.before, facts.deductible,
                       facts.rate)
