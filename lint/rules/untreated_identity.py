"""L104 identity-without-treatment: an identity no computed line pays.

What it does: reports an identity with its own treatment (not ``treated as``
another) that no computed line covers, in a policy that computes lines.

Why it matters: an identity the notice names usually gets something; one left
out of every table is often a forgotten row.  When the notice does give it
nothing (Benxi §(六): 脱贫人口 outside monitoring get no assistance), say so
with a suppression that cites the clause.

Example::

    identity 低保边缘家庭成员 §(一)
    line 基本救助 { … rate { 低保对象: 70% } §(五) … }

Use instead::

    line 基本救助 { … rate { 低保对象: 70%  低保边缘家庭成员: 60% } §(五) … }
"""

from yibao.core.diagnostics import Severity
from yibao.lint.registry import Rule

RULE = Rule("L104", "identity-without-treatment", Severity.WARNING, "correctness",
            "an identity that receives no treatment in any line")


def check(context):
    policy = context.policy
    if not policy.computed_lines:
        return
    for identity in policy.identities:
        if identity.treated_as or not context.own(identity.span):
            continue
        if not any(line.covers_identity(identity.name) for line in policy.computed_lines):
            yield RULE.finding(
                f"identity {identity.name} receives no treatment: no line covers it",
                context.identity_span(identity.name),
                hint="give it values in a line's tables, treat it as another identity, or "
                     "suppress this with the clause that gives it nothing")
