"""L112 quote-not-in-notice: a quoted clause text that the notice does not contain.

What it does: reads the notice the policy's ``source`` names (relative to the
policy file) and looks for every quote — a citation's words and a declared
clause's title — in it, after normalising full-width and half-width
punctuation (NFKC), white space and quotation marks.  ``…`` in a quote elides:
the pieces between must appear in the notice in that order.  A quote that is
not found is reported with the nearest passage of the notice.  A ``source``
that cannot be read is reported here too (the checker's S250), since no quote
can then be checked.

Why it matters: the quote is what a reviewer and a trace show as the notice's
words; a quote the notice does not contain — mistyped, paraphrased or run
together from two sentences — puts words in the notice's mouth, and the value
beside it can no longer be checked against them.

Example::

    deductible §二.1 "2021年大病保险起付标准为1.2万元；脱贫人口大病保险起付线标准为6000元" { … }

Use instead::

    deductible §二.1 "2021年大病保险起付标准为1.2万元…脱贫人口大病保险起付线标准为6000元" { … }
"""

import attrs

from yibao.core.diagnostics import Severity
from yibao.core.span import Span
from yibao.dsl import ast
from yibao.lint.notice import notice_of
from yibao.lint.registry import Needs, Rule
from yibao.lint.walk import citations

RULE = Rule("L112", "quote-not-in-notice", Severity.ERROR, "correctness",
            "a quoted clause text the notice does not contain", Needs.TREE,
            takes_over=("S250",))

_SHOWN = 60   # characters of the nearest passage shown in the message


def check(context):
    lookup, notice = notice_of(context)
    if lookup.problem is not None:
        # A warning, as `check` reports it: the policy is fine, only unverifiable.
        problem = lookup.problem
        yield attrs.evolve(RULE.finding(f"{problem.message} ({problem.code})", problem.span,
                                        hint=problem.hint), severity=Severity.WARNING)
        return
    if notice is None:
        return
    quoted = [(c.quote, c.span) for c in citations(context.tree) if c.quote]
    quoted += [(c.text, c.span) for c in context.tree.of_type(ast.ClauseText)]
    for quote, span in quoted:
        missing = notice.missing_fragment(quote)
        if missing is None:
            continue
        passage = notice.nearest(missing)
        where = Span(str(lookup.notice.path), passage.line, passage.column, passage.line,
                     passage.column + len(passage.text.splitlines()[0] if passage.text else ""))
        shown = passage.text.strip().replace("\n", " ")
        shown = shown if len(shown) <= _SHOWN else shown[:_SHOWN] + "…"
        yield RULE.finding(
            f"the notice does not contain the quoted words «{_short(missing)}»", span,
            hint=f"the nearest passage ({lookup.notice.path.name}:{passage.line}) reads "
                 f"«{shown}»: quote the notice's words, with … for what you leave out",
            related=((f"nearest passage: «{shown}»", where),))


def _short(text: str) -> str:
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"
