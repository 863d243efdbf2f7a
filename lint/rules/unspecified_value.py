"""L301 unspecified-value: a value the policy leaves unspecified.

What it does: lists every value this file leaves ``unspecified`` (or that an
amendment cannot compute because its base is unspecified or absent).  It is a
warning when the drafter gave no reason (``unspecified`` with no words), and
information when the words say why.

Why it matters: a claim that needs the value is refused; the reason tells the
reviewer which document must supply it.

Example::

    per bed_days unspecified §(五) "按住院床日给予定额救助"

Use instead::

    per bed_days unspecified "本方案未规定床日定额标准" §(五) "按住院床日给予定额救助"
"""

import attrs

from yibao.core.diagnostics import Severity
from yibao.lint.registry import Rule
from yibao.lint.values import grouped, value_tables

RULE = Rule("L301", "unspecified-value", Severity.WARNING, "completeness",
            "a value left unspecified",
            hint="a claim that needs it is refused (C311) until a revision or the base policy gives it")


def check(context):
    for _, table in value_tables(context.policy):
        groups = grouped(table, lambda s: s.is_unspecified and context.own(s.span))
        for keys, sourced in groups.values():
            reason = f": {sourced.note}" if sourced.note else ", and the file does not say why"
            finding = RULE.finding(
                f"{table.name} for {', '.join(keys)} is unspecified{reason}", sourced.span,
                hint="" if sourced.note else
                "say why in words after `unspecified`, e.g. unspecified \"本方案未规定\"")
            yield attrs.evolve(finding, severity=Severity.INFO) if sourced.note else finding
