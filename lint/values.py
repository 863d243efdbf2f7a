"""Every value of a checked policy with the table it belongs to (for completeness rules)."""

from __future__ import annotations

from typing import Iterator

from yibao.dsl.model import ByIdentity, Policy, Sourced


def value_tables(policy: Policy) -> Iterator[tuple[str | None, ByIdentity]]:
    """(line name or None, table) for line values, thresholds, the subsidy and parameters."""
    for line in policy.lines:
        for table in (line.deductible, line.rate, line.cap, line.per_unit):
            if table is not None:
                yield line.name, table
    for alert in policy.alerts:
        yield None, alert.threshold
    if policy.subsidy is not None:
        yield None, policy.subsidy
    for param in policy.params:
        yield None, param


def key_words(table: ByIdentity, key: str | None) -> str:
    if key is not None:
        return key
    return "others" if len(table.values) > 1 else "everyone"


def grouped(table: ByIdentity, keep, by=lambda sourced: sourced.span):
    """The entries ``keep`` selects, grouped (by where they were written, unless ``by``
    says otherwise): group → (key words, the first value)."""
    groups: dict[object, tuple[list[str], Sourced]] = {}
    for key, sourced in table.items():
        if keep(sourced):
            keys, _ = groups.setdefault(by(sourced), ([], sourced))
            keys.append(key_words(table, key))
    return groups
