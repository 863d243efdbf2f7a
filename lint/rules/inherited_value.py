"""L302 inherited-value: a value a revision carries over unchanged from the version it extends.

What it does: for a revision (``extends``) whose predecessor is beside it,
lists each value table it inherits unchanged, by line, with the identities
and the version that set it.  Information, not a warning.

Why it matters: a revision restates what changes; a reviewer must see what
it silently keeps (Jiamusi 2022 keeps 2021's deductibles).

Example::

    policy jiamusi-2022 extends jiamusi-2021 { effective 2022-01-01 }
    amend 大病保险 { rate bands { … } §二.1 }          # the deductible stays 1.2万

Use instead: nothing to change when keeping it is right; restate the value
if the notice restates it::

    amend 大病保险 { deductible 1.2万 §二.1  rate bands { … } §二.1 }
"""


from yibao.core.diagnostics import Severity
from yibao.lint.registry import Rule
from yibao.lint.values import grouped, value_tables

RULE = Rule("L302", "inherited-value", Severity.INFO, "completeness",
            "a value inherited unchanged from the version it extends",
            hint="restate the value in this revision if the notice restates it")


def check(context):
    if context.parent is None:
        return
    for line, table in value_tables(context.policy):
        groups = grouped(table, lambda s: not context.own(s.span), by=lambda s: s.version)
        for keys, sourced in groups.values():
            clause = f" §{sourced.clause}" if sourced.clause else ""
            span = context.line_span(line) if line else context.header_span()
            yield RULE.finding(
                f"{table.name} for {', '.join(keys)} is inherited unchanged from "
                f"{sourced.version or context.parent.policy_id}{clause}", span)
