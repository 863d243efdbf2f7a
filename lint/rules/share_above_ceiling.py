"""L201 share-above-ceiling: the lines can pay more of the in-scope cost than the ceiling.

What it does: for each identity, finds exactly the largest share of the
in-scope cost that the lines can pay on one claim (docs/specification.md, a fresh
year), by settling the claim at every kink of its payouts — deductibles, band
edges, caps, the ratio ceiling — for every visit and condition.  Reports an
identity whose combined share, at the configured upstream share (0% by
default: the policy's own lines on the burden the upstream lines leave), is
above the configured ceiling (95% by default, Xinjiang §四) without reaching
100% (that is L202).

Why it matters: the notices warn against 过度保障 (over-protection):
"原则上重点救助对象三重保障制度保障后政策范围内住院费用报销比例控制在95%以内"
(Xinjiang §四).  With the default upstream share a share above 95% means the
combined share passes 95% whatever the upstream lines pay.

Example::

    line 基本救助 { … deductible 0 §(五)  rate 70% §(五)  cap none §(五) }
    line 倾斜救助 { … deductible 0 §(五)  rate 90% §(五)  cap none §(五) }   # 97% in all

Use instead: lower rates, a cap, or the ratio ceiling of the notice::

    ceiling 95% §四 "…" {
        identities 特困人员, 低保对象 §四
        visits 住院 §四
    }
"""

from yibao.core.diagnostics import Severity
from yibao.lint.registry import Rule
from yibao.lint.words import identity_words, percent, where_words

RULE = Rule("L201", "share-above-ceiling", Severity.WARNING, "over-protection",
            "the lines can pay more of the in-scope cost than the ceiling")


def check(context):
    ceiling = context.config.ceiling
    for share in context.protection.shares:
        combined = share.combined
        if combined is None or combined.share <= ceiling or (combined.share >= 1
                                                              and combined.reached):
            continue
        yield RULE.finding(
            f"{identity_words(share.identity)}: the lines can pay {where_words(share)}, "
            f"above the {percent(ceiling)} ceiling",
            context.identity_span(share.identity),
            hint="lower a rate, add a cap, or state the notice's ratio ceiling "
                 "(`ceiling 95% §… { identities … }`)")

