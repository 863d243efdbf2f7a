"""L107 line-never-pays: a computed line that pays nothing on any claim.

What it does: reports a computed line with no rate or per-unit amount, or no
covered visits (the checker's S215), and a line that no claim can reach (its
visits, identities and condition never meet) or that pays 0 on every claim it
covers: a 0% rate or cap, a deductible no burden passes, an earlier line that
leaves it nothing, a ratio ceiling that always cuts it to 0.  Found by
settling one claim of each identity, visit and condition exactly at every
kink of its payouts.

Why it matters: a line the notice sets up is meant to pay someone; one that
cannot is a slip in its tables or its order.

Example::

    line 倾斜救助 {
        covers 住院 §(四)
        base remaining §(五)
        rate 0% §(五)
    }

Use instead::

    line 倾斜救助 {
        covers 住院 §(四)
        base remaining §(五)
        rate 60% §(五)
    }
"""

from yibao.core.diagnostics import Severity
from yibao.lint.curves import never_positive
from yibao.lint.registry import Rule

RULE = Rule("L107", "line-never-pays", Severity.ERROR, "correctness",
            "a line that can never pay", takes_over=("S215",))


def check(context):
    curves = [c for per_identity in context.protection.curves.values() for c in per_identity]
    for line in context.policy.computed_lines:
        name = line.name
        if any(name == unknown for c in curves for unknown, _ in c.scenario.unknown):
            continue   # a value is unspecified: whether it pays is not known
        reaching = [c for c in curves if name in c.scenario.line_names]
        if not reaching:
            reason = "no claim reaches it: its visits, identities and condition never meet"
        elif all(never_positive(c.curve, lambda s, n=name: s.payout(n)) for c in reaching):
            reason = "it pays 0 on every claim it covers"
        else:
            continue
        yield RULE.finding(f"line {name} can never pay: {reason}", context.line_span(name),
                           hint="check its rate, deductible, cap, members and the lines before it")
