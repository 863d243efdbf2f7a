"""L110 duplicate-rule: two rules for the same value.

What it does: reports an identity, line, field, alert, parameter or referral
declared twice, a line or alert stating the same rule twice, a table giving
one identity two values, a header item stated twice (the checker's S202,
S206, S211, S212, S221, S226), and two ``amend`` blocks of one file changing
the same value of a line.

Why it matters: only one of the two can apply; which one is an accident of
order, and a reviewer reading one of them is misled.

Example::

    rate §(五) {
        低保对象: 70%
        低保对象, 低保边缘家庭成员: 60%
    }

Use instead::

    rate §(五) {
        低保对象: 70%
        低保边缘家庭成员: 60%
    }
"""

from yibao.core.diagnostics import Severity
from yibao.dsl import ast
from yibao.lint.registry import Needs, Rule

RULE = Rule("L110", "duplicate-rule", Severity.ERROR, "correctness",
            "two rules for the same value", Needs.TREE,
            takes_over=("S202", "S206", "S211", "S212", "S221", "S226"),
            hint="keep one of the two; a revision changes a value in one `amend`")

_WORDS = {ast.Covers: "covered visits", ast.When: "condition", ast.Members: "identities",
          ast.Base: "base", ast.Deductible: "deductible", ast.Rate: "rate", ast.Cap: "cap",
          ast.PerUnit: "per-unit amount"}


def check(context):
    first: dict[tuple[str, type], ast.Amendment] = {}
    for item in context.tree.of_type(ast.Amendment):
        for rule in item.rules:
            key = (item.target.text, type(rule))
            if key in first and first[key] is not item:
                word = _WORDS.get(type(rule), type(rule).__name__)
                yield RULE.finding(
                    f"amend {item.target.text}: its {word} is changed again in another "
                    f"`amend {item.target.text}` block", rule.span,
                    hint="merge the amendments of one line into one block",
                    related=(("first changed here", first[key].span),))
            first.setdefault(key, item)
