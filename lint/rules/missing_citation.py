"""L303 missing-citation: a rule without a citation.

What it does: reports every rule, value, table or declaration that can carry
a citation (``§clause "words"``) and has none: the checker's S205, which
insists on one everywhere (an alert's ``visits`` and a referral's
``identities`` included).  A table is cited by its own citation or one per
entry; the rules inside a cited ``ceiling`` share its citation.

Why it matters: the citation is what lets a reviewer check the rule against
the notice; a rule without one cannot be audited.

Example::

    cap 2万

Use instead::

    cap 2万 §(五) "自2023年1月起，基本救助年度救助限额按2万元执行"
"""

from yibao.core.diagnostics import Severity
from yibao.lint.registry import Needs, Rule

RULE = Rule("L303", "missing-citation", Severity.ERROR, "completeness",
            "a rule without a citation", Needs.TREE, takes_over=("S205",),
            hint="cite the clause it implements, e.g. §(五) \"……\"")


def check(context):
    # The checker finds every case (S205); the runner reports it under this code.  This
    # rule once walked the tree itself as well, a second copy of the same check.
    return ()
