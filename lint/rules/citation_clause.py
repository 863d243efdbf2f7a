"""L111 citation-clause-mismatch: a citation that does not match the document's clauses.

What it does: when a policy declares its clause structure (``clause §(五)
"…"``, its own and those of the version it extends), reports a citation to a
clause it does not declare, and one written in a different form from the
declared clause (``§五`` or ``§（五）`` for ``§(五)``).  A citation of a part
of a declared clause (``§二.1`` or ``§二(一)`` under ``§二``) is accepted.

Why it matters: the citation is how a reviewer finds the words a rule
implements; one that matches no clause sends them nowhere, and two spellings
of one clause read as two clauses.

Example::

    clause §(五) "合理确定医疗救助待遇水平"
    cap 2万 §五 "基本救助年度救助限额按2万元执行"

Use instead::

    cap 2万 §(五) "基本救助年度救助限额按2万元执行"
"""

import difflib
import re

from yibao.core.diagnostics import Severity
from yibao.dsl import ast
from yibao.lint.registry import Needs, Rule
from yibao.lint.walk import citations

RULE = Rule("L111", "citation-clause-mismatch", Severity.ERROR, "correctness",
            "a citation that does not match the document's clauses", Needs.TREE)

_PUNCTUATION = re.compile(r"[()（）〔〕\[\]【】\s]")
_PART_STARTS = ("(", "（", ".", "．", "〔")


def check(context):
    declared = [c.clause for c in context.tree.of_type(ast.ClauseText)]
    if context.parent is not None:
        declared += [clause for clause, _ in context.parent.clauses]
    if not declared:
        return
    for citation in citations(context.tree):
        problem = _problem(citation.clause, declared)
        if problem is not None:
            message, hint = problem
            yield RULE.finding(message, citation.span, hint=hint)


def _problem(clause: str, declared: list[str]):
    if clause in declared or any(_part_of(clause, d) for d in declared):
        return None
    same = [d for d in declared if _bare(d) == _bare(clause)]
    if same:
        return (f"§{clause} is written differently from the declared clause §{same[0]}",
                f"write §{same[0]}")
    close = difflib.get_close_matches(clause, declared, n=1, cutoff=0.5)
    return (f"§{clause} is not a clause the policy declares",
            f"did you mean §{close[0]}?" if close
            else f"declare it: clause §{clause} \"…the clause's words…\"")


def _part_of(clause: str, declared: str) -> bool:
    """§二.1 or §二(一) under §二; §四(四)一 under §四(四)."""
    if not clause.startswith(declared) or clause == declared:
        return False
    rest = clause[len(declared):]
    return rest.startswith(_PART_STARTS) or declared.endswith((")", "）"))


def _bare(clause: str) -> str:
    return _PUNCTUATION.sub("", clause)
