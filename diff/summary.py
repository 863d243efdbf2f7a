"""Figures of a corpus diff: how many claims changed, by how much, for whom, on which line.

Changes are of the total paid (new − old) of claims both sides settle; money
stays exact, and a mean is rounded half up to the fen by core/money's rule.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from yibao.runtime.evaluate import ClaimResult
from yibao.core.money import ZERO, round_fen, to_money
from yibao.diff.corpus import (
    CATEGORIES, CHANGED, FAILED_NEW_ONLY, FAILED_OLD_ONLY, ClaimDiff, CorpusDiff,
)

# Bucket edges of a claim's change, in yuan: (−∞, −10,000), [−10,000, −1,000), …,
# exactly 0, (0, 100), [100, 1,000), …, [10,000, ∞).
EDGES = (Decimal(100), Decimal(1000), Decimal(10000))


@attrs.frozen
class Group:
    """Changed claims of one identity or one line: how many, and the money."""

    name: str
    claims: int
    old_total: Decimal
    new_total: Decimal

    @property
    def change(self) -> Decimal:
        return self.new_total - self.old_total

    @property
    def mean_change(self) -> Decimal:
        return round_fen(self.change / self.claims) if self.claims else ZERO

    def to_json(self) -> dict:
        return {"name": self.name, "claims": self.claims, "old": _money(self.old_total),
                "new": _money(self.new_total), "change": _money(self.change),
                "mean_change": _money(self.mean_change)}


@attrs.frozen
class Summary:
    claims: int
    counts: tuple[tuple[str, int], ...]          # by category, in CATEGORIES order
    changed: Group                               # every changed claim's total paid
    increased: int
    decreased: int
    by_identity: tuple[Group, ...]
    by_line: tuple[Group, ...]                   # each line, over the claims whose payout changed
    buckets: tuple[tuple[str, int], ...]
    refused_paid: tuple[tuple[str, Decimal], ...]  # what the side that settled paid, by category

    def count(self, category: str) -> int:
        return dict(self.counts)[category]

    def to_json(self) -> dict:
        return {
            "claims": self.claims,
            "counts": dict(self.counts),
            "changed": self.changed.to_json(),
            "increased": self.increased,
            "decreased": self.decreased,
            "by_identity": [g.to_json() for g in self.by_identity],
            "by_line": [g.to_json() for g in self.by_line],
            "buckets": dict(self.buckets),
            "paid_by_the_settling_side": {k: _money(v) for k, v in self.refused_paid},
        }


def _money(amount: Decimal) -> str:
    return f"{to_money(amount):.2f}"


def summarise(corpus: CorpusDiff) -> Summary:
    changed = corpus.of_category(CHANGED)
    counts = tuple((category, len(corpus.of_category(category))) for category in CATEGORIES)
    return Summary(
        claims=len(corpus.claims),
        counts=counts,
        changed=_group("全部", changed, lambda side: side.total_paid),
        increased=sum(1 for c in changed if c.change > 0),
        decreased=sum(1 for c in changed if c.change < 0),
        by_identity=_by_identity(changed),
        by_line=_by_line(changed),
        buckets=_buckets(changed),
        refused_paid=(
            (FAILED_NEW_ONLY, sum((c.old.total_paid for c in corpus.of_category(FAILED_NEW_ONLY)),
                                  ZERO)),
            (FAILED_OLD_ONLY, sum((c.new.total_paid for c in corpus.of_category(FAILED_OLD_ONLY)),
                                  ZERO)),
        ),
    )


def _group(name: str, claims, amount) -> Group:
    return Group(name, len(claims), sum((amount(c.old) for c in claims), ZERO),
                 sum((amount(c.new) for c in claims), ZERO))


def _by_identity(changed: tuple[ClaimDiff, ...]) -> tuple[Group, ...]:
    names: list[str] = []
    for claim in changed:
        if claim.identity not in names:
            names.append(claim.identity)
    return tuple(_group(name, [c for c in changed if c.identity == name],
                        lambda side: side.total_paid) for name in names)


def _by_line(changed: tuple[ClaimDiff, ...]) -> tuple[Group, ...]:
    names: list[str] = []
    for claim in changed:
        for line in claim.line_changes():
            if line.line not in names:
                names.append(line.line)
    groups = []
    for name in names:
        moved = [c for c in changed
                 if any(l.line == name and l.old != l.new for l in c.line_changes())]
        groups.append(_group(name, moved, lambda side, name=name: _payout(side, name)))
    return tuple(group for group in groups if group.claims)


def _payout(side: ClaimResult, line: str) -> Decimal:
    return dict(side.payouts).get(line, ZERO)


def bucket_of(change: Decimal) -> str:
    """The bucket of a change, by its size: (0, 100), [100, 1,000), [1,000, 10,000), ≥ 10,000."""
    if change == 0:
        return "0"
    size = abs(change)
    index = sum(1 for edge in EDGES if size >= edge)
    return _labels(positive=change > 0)[index]


def _labels(positive: bool) -> list[str]:
    bounds = (Decimal(0),) + EDGES
    if positive:
        labels = [f"[+{_edge(lo)}, +{_edge(hi)})" for lo, hi in zip(bounds, EDGES)]
        labels[0] = f"(0, +{_edge(EDGES[0])})"
        return labels + [f"≥ +{_edge(EDGES[-1])}"]
    labels = [f"(−{_edge(hi)}, −{_edge(lo)}]" for lo, hi in zip(bounds, EDGES)]
    labels[0] = f"(−{_edge(EDGES[0])}, 0)"
    return labels + [f"≤ −{_edge(EDGES[-1])}"]


def bucket_labels() -> tuple[str, ...]:
    """Every bucket, from the largest decrease to the largest increase."""
    return tuple(list(reversed(_labels(False))) + ["0"] + _labels(True))


def _edge(amount: Decimal) -> str:
    return f"{amount:,}"


def _buckets(changed: tuple[ClaimDiff, ...]) -> tuple[tuple[str, int], ...]:
    counts = {label: 0 for label in bucket_labels()}
    for claim in changed:
        counts[bucket_of(claim.change)] += 1
    return tuple(counts.items())
