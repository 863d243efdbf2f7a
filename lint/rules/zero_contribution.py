"""L203 zero-contribution: a full premium subsidy for an identity that must pay something.

What it does: reports a ``full`` premium subsidy (资助参保) — which leaves the
person a zero contribution — for an identity other than those allowed: the
ones the policy names in ``zero contribution only for …`` (the checker's
S229), or, when the policy says nothing, the configured list (特困人员 and
孤儿 by default, Jilin §一(三)).

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

from yibao.core.diagnostics import Severity
from yibao.dsl.model import FullSubsidyValue
from yibao.lint.registry import Rule
from yibao.lint.words import identity_words

RULE = Rule("L203", "zero-contribution", Severity.WARNING, "over-protection",
            "a full subsidy for an identity other than 特困人员/孤儿", takes_over=("S229",))


def check(context):
    policy = context.policy
    if policy.subsidy is None or policy.zero_contribution is not None:
        return   # the checker enforces the policy's own list (S229)
    allowed = context.config.zero_contribution
    for key, sourced in policy.subsidy.items():
        if isinstance(sourced.value, FullSubsidyValue) and key not in allowed \
                and context.own(sourced.span):
            yield RULE.finding(
                f"a full subsidy for {identity_words(key)} leaves a zero contribution, which "
                f"only {', '.join(allowed)} may have (过度资助, Jilin §一(三))", sourced.span,
                hint="give a fixed amount or a share, or state the notice's rule: "
                     "`zero contribution only for … §…`")
