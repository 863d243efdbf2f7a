"""L113 figure-not-in-quote: an amount, rate or band edge that its quote does not state.

What it does: compares every figure a value encodes — an amount, a rate, a
band's edges and rate, a ``plus``/``times`` change, a subsidy's share or fixed
amount, a ceiling — with the figures of the quote beside it (an entry's own
citation, else its table's), read the way the language reads values (``2万``,
``2万元``, ``20000元``, ``70%``, ``百分之七十``).  When the citation has no
quote, the figures of the clause it cites are read from the notice instead.
A value the words contradict (they state rates, or amounts, and none is this
one) is an error; a value the words do not mention at all (they state no
figure of its kind) is information.  ``0`` is stated by words such as
取消起付标准 or 不设.

Why it matters: a quote that says 60% can sit beside a value of 65%, and
nothing else compares the two; the quote is what reviewers read, the value is
what claims are paid by.

Example::

    rate 65% §(五) "低保边缘家庭成员救助比例为60%"

Use instead::

    rate 60% §(五) "低保边缘家庭成员救助比例为60%"
"""

from decimal import Decimal

import attrs

from yibao.core.diagnostics import Severity
from yibao.core.money import format_rate
from yibao.dsl import ast
from yibao.lint.notice import clause_passage
from yibao.lint.quoted_figures import Figures, figures
from yibao.lint.registry import Needs, Rule

RULE = Rule("L113", "figure-not-in-quote", Severity.ERROR, "correctness",
            "a value its quote or clause does not state", Needs.TREE)

_VALUED = (ast.Deductible, ast.Rate, ast.Cap, ast.PerUnit, ast.Threshold, ast.Subsidy,
           ast.Param)
_NAMES = {ast.Deductible: "deductible", ast.Rate: "rate", ast.Cap: "cap", ast.PerUnit: "per",
          ast.Threshold: "threshold", ast.Subsidy: "subsidy", ast.Param: "param",
          ast.Ceiling: "ceiling"}


def check(context):
    for owner, value, citation in cited_values(context.tree):
        if citation is None:
            continue
        if citation.quote:
            words, source = citation.quote, "the quote"
        else:
            passage = clause_passage(context, citation.clause)
            if passage is None:
                continue
            words, source = passage.text, f"§{citation.clause} of the notice"
        stated = figures(words)
        for kind, figure, span in encoded_figures(value):
            if _stated(kind, figure, stated):
                continue
            yield _finding(owner, kind, figure, span, stated, source)


def cited_values(tree: ast.PolicyFile):
    """(the rule, a value, the citation that backs it) for every value in the file."""
    for node in _rules(tree):
        if isinstance(node, ast.Ceiling):
            yield node, node.rate, node.citation
            continue
        spec = node.spec
        if isinstance(spec, ast.InlineValue):
            yield node, spec.value, spec.citation
        else:
            for entry in spec.entries:
                yield node, entry.value, entry.citation or spec.citation


def _rules(tree: ast.PolicyFile):
    for item in tree.items:
        if isinstance(item, (ast.ComputedLine, ast.Amendment)):
            yield from (rule for rule in item.rules if isinstance(rule, _VALUED))
        elif isinstance(item, (ast.Alert,)):
            yield from (rule for rule in item.rules if isinstance(rule, ast.Threshold))
        elif isinstance(item, (ast.Subsidy, ast.Param, ast.Ceiling)):
            yield item


def encoded_figures(value):
    """("rate" | "amount", figure, span) for each figure a value writes."""
    if isinstance(value, ast.Amount):
        yield "amount", value.value, value.span
    elif isinstance(value, ast.Percent):
        yield "rate", value.value, value.span
    elif isinstance(value, ast.Bands):
        for band in value.bands:
            if band.lower.value != 0:      # the first band starts at 0: 2万元以下
                yield "amount", band.lower.value, band.lower.span
            if band.upper is not None:
                yield "amount", band.upper.value, band.upper.span
            yield "rate", band.rate.value, band.rate.span
    elif isinstance(value, ast.PlusRate):
        yield "rate", value.delta.value, value.delta.span
    elif isinstance(value, ast.TimesValue):
        yield "rate", value.factor.value, value.factor.span
    elif isinstance(value, ast.ShareSubsidy):
        yield "rate", value.share.value, value.share.span
    elif isinstance(value, ast.FixedSubsidy) and value.amount is not None:
        yield "amount", value.amount.value, value.amount.span


def _stated(kind: str, figure: Decimal, stated: Figures) -> bool:
    if kind == "rate":
        return figure.normalize() in stated.rates
    if figure == 0:
        return Decimal(0) in stated.amounts or stated.says_none
    return figure.normalize() in stated.amounts


def _finding(owner, kind, figure, span, stated: Figures, source: str):
    written = format_rate(figure) if kind == "rate" else _yuan(figure)
    what = _NAMES.get(type(owner), "value")
    same_kind = stated.rates if kind == "rate" else stated.amounts
    if same_kind:
        listed = "、".join(format_rate(f) if kind == "rate" else _yuan(f)
                          for f in sorted(same_kind))
        return RULE.finding(
            f"{what} {written} is not a figure {source} states ({listed})", span,
            hint=f"encode the figure the notice states, or quote the words that state {written}")
    finding = RULE.finding(
        f"{what} {written}: {source} states no {'rate' if kind == 'rate' else 'amount'}", span,
        hint=f"quote the words that state {written}, so a reviewer can check it")
    return attrs.evolve(finding, severity=Severity.INFO)


def _yuan(amount: Decimal) -> str:
    text = format(amount.normalize(), "f")
    return f"{text}元"
