"""L203 zero-contribution: a premium subsidy that leaves an identity paying nothing.

What it does: reports a premium subsidy (资助参保) that leaves the person a zero
contribution — ``full``, ``share 100%``, or a fixed amount at or above the
policy's individual contribution (its ``个人缴费标准`` parameter) — for an
identity other than those allowed: the ones the policy names in ``zero
contribution only for …`` (for ``full`` that is the checker's S229, an
error) or, when the policy says nothing, the configured list (特困人员 and 孤儿
by default, Jilin §一(三)).

Why it matters: "杜绝贫困人口'零缴费'的过度资助问题" (Jilin §一(三)): only the
destitute and orphans may pay nothing; everyone else bears part of the
contribution.  Where a notice decides otherwise (Benxi §(二) funds 低保对象
fully "暂"), say so with a suppression citing the clause.

Example::

    subsidy §(二) {
        特困人员, 孤儿: full
        低保对象: full
    }

Use instead::

    subsidy §(二) {
        特困人员, 孤儿: full
        低保对象: share 80%
    }
"""

from decimal import Decimal

from yibao.runtime.subsidy import CONTRIBUTION_PARAM, default_contribution
from yibao.core.diagnostics import Severity
from yibao.dsl.model import FixedSubsidyValue, FullSubsidyValue, ShareSubsidyValue
from yibao.lint.registry import Rule
from yibao.lint.words import identity_words

RULE = Rule("L203", "zero-contribution", Severity.WARNING, "over-protection",
            "a subsidy leaving zero contribution for an identity other than 特困人员/孤儿",
            takes_over=("S229",))


def check(context):
    policy = context.policy
    if policy.subsidy is None:
        return
    allowed = policy.zero_contribution
    if allowed is None:
        allowed = context.config.zero_contribution
    contribution = default_contribution(policy)
    for key, sourced in policy.subsidy.items():
        value = sourced.value
        if key in allowed or not context.own(sourced.span):
            continue
        if isinstance(value, FullSubsidyValue) and policy.zero_contribution is not None:
            continue   # the checker reports it (S229)
        how = _leaves_nothing(value, contribution)
        if how:
            yield RULE.finding(
                f"{how} for {identity_words(key)} leaves a zero contribution, which only "
                f"{', '.join(allowed)} may have (过度资助, Jilin §一(三))", sourced.span,
                hint="give a fixed amount or a share, or state the notice's rule: "
                     "`zero contribution only for … §…`")


def _leaves_nothing(value, contribution: Decimal | None) -> str:
    if isinstance(value, FullSubsidyValue):
        return "a full subsidy"
    if isinstance(value, ShareSubsidyValue) and value.share >= 1:
        return "a subsidy of the whole share"
    if isinstance(value, FixedSubsidyValue) and isinstance(value.amount, Decimal) \
            and contribution is not None and value.amount >= contribution:
        return (f"a fixed subsidy of {value.amount:f}, at least the contribution "
                f"({CONTRIBUTION_PARAM} {contribution:f}),")
    return ""
