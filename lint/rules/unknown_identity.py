"""L108 unknown-identity: a name used as an identity that the policy does not declare.

What it does: reports a table key, ``identities`` member, alert group,
``treated as`` target or ``zero contribution`` name that is no declared
identity (the checker's S203), with the nearest declared name.

Why it matters: the value is never read for anyone, and the identity meant
gets no value at all.

Example::

    identity 低保对象 §(一)
    line 基本救助 { … rate { 底保对象: 70% } §(五) … }

Use instead::

    line 基本救助 { … rate { 低保对象: 70% } §(五) … }
"""

from yibao.core.diagnostics import Severity
from yibao.lint.registry import Needs, Rule

RULE = Rule("L108", "unknown-identity", Severity.ERROR, "correctness",
            "an identity the policy does not declare", Needs.SOURCE, takes_over=("S203",),
            hint="declare the identity, or correct the name")


def check(context):
    return ()   # the checker resolves every identity name (S203); reported under this code
