"""L101 rate-out-of-range: a rate or share outside 0–100%.

What it does: reports a rate, band rate, subsidy share or ceiling written
outside 0–100% (the checker's S209), and a rate that an amendment (``plus``,
``times``) carries outside that range.

Why it matters: a line cannot pay more than the amount it pays a share of,
nor a negative share; a rate of 105% makes every later line's base shrink as
the cost grows.

Example::

    amend 基本医保 { rate { 建档立卡贫困人口: plus 5% } §四(四)一 }   # on a base rate of 100%

Use instead: check the base rate the amendment adds to, or cap the result::

    amend 基本医保 { rate { 建档立卡贫困人口: 100% } §四(四)一 }
"""

from decimal import Decimal

from yibao.core.diagnostics import Severity
from yibao.core.money import format_rate
from yibao.dsl.model import BandSchedule
from yibao.lint.registry import Rule
from yibao.lint.words import identity_words

RULE = Rule("L101", "rate-out-of-range", Severity.ERROR, "correctness",
            "a rate outside 0–100%", takes_over=("S209",),
            hint="a rate is a share between 0% and 100%")


def check(context):
    for line in context.policy.computed_lines:
        if line.rate is None:
            continue
        # the rates an amendment gave some visits only are checked too (Lhasa §四(四)一)
        entries = [entry for _, values in line.rate.visit_tables() for entry in values]
        reported = set()
        for key, sourced in entries:
            if not context.own(sourced.span) or (key, sourced) in reported:
                continue
            reported.add((key, sourced))
            rates = ([band.rate for band in sourced.value.slices]
                     if isinstance(sourced.value, BandSchedule) else [sourced.value])
            for rate in rates:
                if isinstance(rate, Decimal) and not 0 <= rate <= 1:
                    yield RULE.finding(
                        f"{line.name}: the rate for {identity_words(key)} comes to "
                        f"{format_rate(rate)}, outside 0–100%", sourced.span,
                        hint="an amendment adds to the base rate: check the rate it changes")
                    break
