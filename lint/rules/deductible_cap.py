"""L103 deductible-at-or-above-cap: a line whose deductible is not below its annual cap.

What it does: reports, for each identity, a computed line whose deductible
(起付标准) is at or above its annual cap (年度限额).

Why it matters: the deductible is what the person bears before the line pays;
the cap is the most it pays.  A deductible at or above the cap is almost
always a slip of the unit (2000 for 2万) or of the column; check it against
the notice.

Example::

    deductible §(五) { 因病致贫重病患者: 2万 }
    cap §(五) { 因病致贫重病患者: 1万 }

Use instead::

    deductible §(五) { 因病致贫重病患者: 10000 }
    cap §(五) { 因病致贫重病患者: 2万 }
"""

from decimal import Decimal

from yibao.core.diagnostics import Severity
from yibao.lint.registry import Rule
from yibao.lint.scenarios import effective_identities
from yibao.lint.words import identity_words

RULE = Rule("L103", "deductible-at-or-above-cap", Severity.WARNING, "correctness",
            "a deductible at or above its cap")


def check(context):
    policy = context.policy
    for line in policy.computed_lines:
        if line.deductible is None or line.cap is None:
            continue
        reported = set()
        for identity in effective_identities(policy):
            deductible = line.deductible.for_identity(identity)
            cap = line.cap.for_identity(identity)
            if deductible is None or cap is None or deductible.span in reported:
                continue
            if not (isinstance(deductible.value, Decimal) and isinstance(cap.value, Decimal)):
                continue
            if deductible.value >= cap.value and (context.own(deductible.span)
                                                  or context.own(cap.span)):
                reported.add(deductible.span)
                span = deductible.span if context.own(deductible.span) else cap.span
                yield RULE.finding(
                    f"{line.name}: the deductible {deductible.value:f} of "
                    f"{identity_words(identity)} is at or above its annual cap {cap.value:f}",
                    span, hint="check the figures against the notice (2000 vs 2万?)")
