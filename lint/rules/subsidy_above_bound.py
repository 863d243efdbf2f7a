"""L204 subsidy-above-bound: a fixed subsidy above the amount it may not exceed.

What it does: reports a ``fixed AMOUNT at most IDENTITY`` premium subsidy
whose amount is above IDENTITY's fixed amount.  This is how a policy writes
Xinjiang §一's temporary subsidy (临时性资助) for 边缘人群, "原则上不高于各统筹
地区稳定脱贫人口定额资助标准": ``边缘人群: fixed 180 at most 稳定脱贫人口``.
When either amount is unspecified nothing can be compared (L301 lists it).

Why it matters: the temporary subsidy is capped by the notice; above the
bound it over-subsidises.

Example::

    subsidy §一 {
        稳定脱贫人口: fixed 180
        边缘人群: fixed 200 at most 稳定脱贫人口
    }

Use instead::

    subsidy §一 {
        稳定脱贫人口: fixed 180
        边缘人群: fixed 180 at most 稳定脱贫人口
    }
"""

from decimal import Decimal

from yibao.core.diagnostics import Severity
from yibao.dsl.model import FixedSubsidyValue
from yibao.lint.registry import Rule
from yibao.lint.words import identity_words

RULE = Rule("L204", "subsidy-above-bound", Severity.WARNING, "over-protection",
            "a temporary subsidy above the 稳定脱贫人口 fixed amount")


def check(context):
    subsidy = context.policy.subsidy
    if subsidy is None:
        return
    for key, sourced in subsidy.items():
        value = sourced.value
        if not isinstance(value, FixedSubsidyValue) or value.at_most is None:
            continue
        bound = subsidy.for_identity(value.at_most)
        if bound is None or not isinstance(bound.value, FixedSubsidyValue):
            continue
        amount, limit = value.amount, bound.value.amount
        if isinstance(amount, Decimal) and isinstance(limit, Decimal) and amount > limit \
                and (context.own(sourced.span) or context.own(bound.span)):
            yield RULE.finding(
                f"the subsidy of {identity_words(key)} ({amount:f}) is above the fixed "
                f"subsidy of {value.at_most} ({limit:f}) it may not exceed", sourced.span,
                hint=f"at most {limit:f}, as `at most {value.at_most}` says")
