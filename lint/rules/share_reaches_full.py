"""L202 share-reaches-full: the lines can pay the whole in-scope cost.

What it does: reports an identity for which, on some claim, the lines pay
100% of the in-scope cost: the person bears nothing in scope whatever the
upstream lines paid (found as for L201, exactly at every kink).

Why it matters: full cover is the over-protection (过度保障) the notices
warn against; where the notice does decide it (Benxi §(五): 特困人员 and 孤儿
get 100% 倾斜救助 with no cap), say so with a suppression citing the clause.

Example::

    line 倾斜救助 { … rate { 特困人员: 100% } §(五)  cap { 特困人员: none } §(五) }

Use instead (when the notice does not decide full cover)::

    line 倾斜救助 { … rate { 特困人员: 90% } §(五)  cap { 特困人员: none } §(五) }
"""

from yibao.core.diagnostics import Severity
from yibao.lint.registry import Rule
from yibao.lint.words import identity_words, where_words

RULE = Rule("L202", "share-reaches-full", Severity.WARNING, "over-protection",
            "the lines can pay 100% of the in-scope cost")


def check(context):
    for share in context.protection.shares:
        combined = share.combined
        if combined is None or combined.share < 1 or not combined.reached:
            continue
        yield RULE.finding(
            f"{identity_words(share.identity)}: the lines pay {where_words(share)}: "
            "the person bears nothing in scope",
            context.identity_span(share.identity),
            hint="if the notice decides full cover, suppress this citing its clause")
