"""L303 missing-citation: a rule without a citation.

What it does: reports every rule, value, table or declaration that can carry
a citation (``§clause "words"``) and has none — the checker's S205 and the
places it does not insist on (an alert's ``visits``, a referral's
``identities``).  A table is cited by its own citation or one per entry; the
rules inside a cited ``ceiling`` share its citation.

Why it matters: the citation is what lets a reviewer check the rule against
the notice; a rule without one cannot be audited.

Example::

    cap 2万

Use instead::

    cap 2万 §(五) "自2023年1月起，基本救助年度救助限额按2万元执行"
"""

from yibao.core.diagnostics import Severity
from yibao.dsl import ast
from yibao.lint.registry import Needs, Rule
from yibao.lint.walk import walk

RULE = Rule("L303", "missing-citation", Severity.ERROR, "completeness",
            "a rule without a citation", Needs.TREE, takes_over=("S205",))

_WORDS = {
    ast.Identity: "identity", ast.TakeHighest: "take highest", ast.UpstreamLine: "line",
    ast.Covers: "covers", ast.When: "when", ast.Members: "identities", ast.Base: "base",
    ast.BurdenAfter: "burden", ast.Visits: "visits", ast.Group: "group",
    ast.Ceiling: "ceiling", ast.FieldDecl: "field", ast.Capped: "capped",
    ast.Reduces: "reduces", ast.ZeroContribution: "zero contribution",
    ast.Deductible: "deductible", ast.Rate: "rate", ast.Cap: "cap", ast.PerUnit: "per",
    ast.Threshold: "threshold", ast.Subsidy: "subsidy", ast.Param: "param",
}
_NAMED = (ast.ComputedLine, ast.UpstreamLine, ast.Amendment, ast.Alert, ast.Referral,
          ast.Param, ast.Identity, ast.FieldDecl)


def check(context):
    for node, ancestors in walk(context.tree):
        if isinstance(node, ast.TableEntry) or not hasattr(node, "citation"):
            continue
        if node.citation is not None or _cited_by_block(node, ancestors):
            continue
        if isinstance(node, ast.TableValue):
            if all(entry.citation for entry in node.entries):
                continue
            what = _describe(ancestors[-1], ancestors) + " table"
        elif isinstance(node, ast.InlineValue):
            what = _describe(ancestors[-1], ancestors)
        else:
            what = _describe(node, ancestors)
        yield RULE.finding(f"{what} has no citation", node.span,
                           hint="cite the clause it implements, e.g. §(五) \"……\"")


def _cited_by_block(node, ancestors) -> bool:
    """Rules inside a cited ceiling share its citation."""
    return bool(ancestors) and isinstance(ancestors[-1], ast.Ceiling) and \
        ancestors[-1].citation is not None


def _describe(node, ancestors) -> str:
    if isinstance(node, ast.Header) or (ancestors and isinstance(ancestors[-1], ast.Header)):
        return "schemes"
    word = _WORDS.get(type(node), type(node).__name__)
    name = getattr(node, "name", None) or getattr(node, "unit", None)
    if isinstance(name, ast.Name):
        word = f"{word} {name.text}"
    owner = next((a for a in reversed(ancestors) if isinstance(a, _NAMED) and a is not node),
                 None)
    if owner is not None:
        owner_name = owner.name if hasattr(owner, "name") else owner.target
        return f"{_owner_word(owner)} {owner_name.text}: {word}"
    return word


def _owner_word(owner) -> str:
    return {ast.ComputedLine: "line", ast.UpstreamLine: "line", ast.Amendment: "amend",
            ast.Alert: "alert", ast.Referral: "refer"}.get(type(owner), "")
