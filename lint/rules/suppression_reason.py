"""L004 suppression-without-reason: a suppression comment that does not say why.

What it does: reports a ``# yibao: disable=…`` comment with nothing after the
codes.

Why it matters: a suppression is a reviewed decision that a finding is what
the document wants; the next reader needs the clause or the reason.

Example::

    identity 脱贫人口 §(六)  # yibao: disable=L104

Use instead::

    identity 脱贫人口 §(六)  # yibao: disable=L104 §(六): no assistance, known for alerts
"""

from yibao.core.diagnostics import Severity
from yibao.lint.registry import Needs, Rule

RULE = Rule("L004", "suppression-without-reason", Severity.WARNING, "suppressions",
            "a suppression that does not say why", Needs.TREE)


def check(context):
    return ()   # the runner reports it with the suppressions it reads
