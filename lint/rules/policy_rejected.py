"""L002 policy-rejected: the checker rejects the file for a reason no other rule covers.

What it does: reports every checker diagnostic (S2xx) that no more specific
rule takes over — a value of the wrong kind, an unknown visit or field, an
``extends`` that does not match — with the checker's code in the message; also
a predecessor (``extends``) that does not check, and a policy that does not
compile.

Why it matters: a policy the checker rejects cannot settle any claim.

Example::

    rate 70 §(五)

Use instead::

    rate 70% §(五)
"""

from yibao.core.diagnostics import Severity
from yibao.lint.registry import Needs, Rule

RULE = Rule("L002", "policy-rejected", Severity.ERROR, "correctness",
            "the checker rejects the file", Needs.SOURCE,
            hint="`yibao check FILE` shows the checker's message with the line and a caret")


def check(context):
    return ()   # the runner reports the checker's remaining S2xx diagnostics under this code
