"""L109 unknown-line: a line name that is no line of the policy (or not an earlier one).

What it does: reports a base term, ``burden after`` line, ``capped`` or
``reduces`` line that the policy does not define, or a base that subtracts a
line settled after it (the checker's S207), with the nearest line name.

Why it matters: the base or burden would leave out a payout the document
counts.

Example::

    line 基本医保 upstream §(三)
    line 基本救助 { … base in_scope_cost - 基本医疗 §(三) … }

Use instead::

    line 基本救助 { … base in_scope_cost - 基本医保 §(三) … }
"""

from yibao.core.diagnostics import Severity
from yibao.lint.registry import Needs, Rule

RULE = Rule("L109", "unknown-line", Severity.ERROR, "correctness",
            "a line name the policy does not define", Needs.SOURCE, takes_over=("S207",),
            hint="name a line the policy defines before this one")


def check(context):
    return ()   # the checker resolves every line name (S207); reported under this code
