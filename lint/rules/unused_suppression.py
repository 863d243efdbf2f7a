"""L003 unused-suppression: a suppression comment that hides nothing.

What it does: reports a ``# yibao: disable=…`` comment whose codes match no
finding on its line (or in the file, for ``disable-file=``), and codes that
are no lint rule.

Why it matters: a stale suppression would silently hide the next real
finding on that line; a misspelt code hides nothing at all.

Example::

    identity 低保对象 §(一)  # yibao: disable=L104 gets no line

(低保对象 is covered by 基本救助: there is no L104 to hide.)

Use instead: remove the comment.
"""

from yibao.core.diagnostics import Severity
from yibao.lint.registry import Needs, Rule

RULE = Rule("L003", "unused-suppression", Severity.WARNING, "suppressions",
            "a suppression that hides nothing", Needs.TREE)


def check(context):
    return ()   # the runner reports it once suppressions are matched with findings
