"""L401 payout-falls: a payout that falls when the cost rises.

What it does: for every identity, visit and condition, settles one claim
exactly at every kink of its payouts as the in-scope cost rises (upstream
payouts held at 0) and reports a line whose payout, or the total paid, is
lower on the larger claim.

Why it matters: a person with a larger bill must never be paid less.  It
happens when a rate above 100% (from an amendment) eats the base of the lines
after it, or when a ratio ceiling cuts the last line by more than the lines
before it gain: with the ceiling at 95%, a line paying 96% of the cost above
a deductible leaves the reduced line 95%·B − 96%·(B − 1000), falling as B
grows.  Say which line the ceiling reduces, or change the rates.

Example::

    line 基本救助 { … deductible 1000 §(五)  rate 96% §(五) }
    line 倾斜救助 { … rate 100% §(五) }
    ceiling 95% §四 { identities 特困人员 §四  reduces 倾斜救助 §四 }

Use instead::

    ceiling 95% §四 { identities 特困人员 §四  reduces 基本救助, 倾斜救助 §四 }
"""

from yibao.core.diagnostics import Severity
from yibao.lint.curves import first_fall
from yibao.lint.registry import Rule
from yibao.lint.words import identity_words, money

RULE = Rule("L401", "payout-falls", Severity.WARNING, "monotonicity",
            "a payout that can fall when the cost rises")


def check(context):
    reported = set()
    for identity, curves in context.protection.curves.items():
        for scenario_curve in curves:
            scenario, curve = scenario_curve.scenario, scenario_curve.curve
            for name in scenario.line_names + (None,):
                if name in reported:
                    continue
                fall = first_fall(curve, _amount(name))
                if fall is None:
                    continue
                reported.add(name)
                yield _finding(context, name, identity, scenario, fall)


def _amount(name):
    if name is None:
        return lambda settlement: settlement.total
    return lambda settlement: settlement.payout(name)


def _finding(context, name, identity, scenario, fall):
    before, after = fall
    what = f"line {name}" if name else "the total paid"
    amount = _amount(name)
    cause = ""
    if name is not None and dict(after.before_ceiling)[name] >= dict(before.before_ceiling)[name]:
        cause = "; the ratio ceiling cuts it"
    return RULE.finding(
        f"{what} falls as the cost rises: {money(amount(before))} on a burden of "
        f"{money(before.burden)}, {money(amount(after))} on {money(after.burden)} "
        f"({identity_words(identity)}, {scenario.describe()}){cause}",
        context.line_span(name) if name else context.header_span(),
        hint="check rates above 100% and which lines the ratio ceiling reduces")
