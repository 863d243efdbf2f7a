"""L001 policy-unreadable: the file cannot be read or parsed.

What it does: reports the parser's diagnostics (P1xx: a syntax error, a file
too large, bytes that are not UTF-8) as findings, with the parser's code in
the message.

Why it matters: nothing else in the file can be checked until it parses.

Example::

    cap 2万 §(五) "基本救助年度救助限额按2万元执行

Use instead::

    cap 2万 §(五) "基本救助年度救助限额按2万元执行"
"""

from yibao.core.diagnostics import Severity
from yibao.lint.registry import Needs, Rule

RULE = Rule("L001", "policy-unreadable", Severity.ERROR, "correctness",
            "the file does not parse", Needs.SOURCE,
            hint="fix what the message points at; `yibao check FILE` shows the line with a caret")


def check(context):
    return ()   # the runner reports the parser's P1xx diagnostics under this code
