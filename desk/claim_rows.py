"""A claim's search row, folded from its own records in chain order.

One fold serves both ways the desk searches: the index (desk/catalog.py) applies
each record appended to the chain to the row kept for its claim, and a search by
claim id or by person (desk/search_book.py) folds the few records the store's
own indexes find for it.  Both give the same row because they run this code.

A claim's row follows its history: a ``correction`` replaces its text, a
``revision`` its version, a ``withdrawal`` makes it not live, and each
``adjustment`` moves its net on a line (docs/book.md: the net is the
settlement's ``payable`` plus every adjustment).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable

import attrs

from yibao.audit.book import (ADJUSTMENT, CORRECTION, REVISION, SETTLEMENT, WITHDRAWAL,
                              claim_object)
from yibao.core.money import format_money


@attrs.frozen
class Query:
    """A search as the form gives it; empty fields do not filter."""

    claim_id: str = ""
    person_id: str = ""
    date_from: str = ""      # ISO dates, inclusive
    date_to: str = ""
    identity: str = ""
    line: str = ""           # claims paid something on this line
    alert: str = ""          # "yes": an alert was raised; "no": none
    adjusted: str = ""       # "yes": at least one adjustment; "no": none
    policy_id: str = ""
    page: int = 1


@attrs.frozen
class Row:
    claim_id: str
    person_id: str
    year: int
    date: str
    identity: str
    policy_id: str
    live: bool
    alerts: tuple[str, ...]
    adjustments: int
    seq: int
    net: dict[str, str]      # line → net paid, formatted

    @property
    def total(self) -> str:
        return format_money(sum((Decimal(v) for v in self.net.values()), Decimal(0)))

    @property
    def lines(self) -> tuple[str, ...]:
        """The lines it was paid something on (a line adjusted to zero is not one)."""
        return tuple(line for line, amount in self.net.items() if Decimal(amount) != 0)


def fold_row(row: Row | None, seq: int, data: dict) -> Row | None:
    """The row after record ``seq`` (its body ``data``) of the row's claim."""
    kind = data.get("kind")
    if kind == SETTLEMENT or kind == CORRECTION:
        text = claim_object(data["claim"])[0]
        outcome = data.get("outcome") or {}
        alerts = outcome.get("alerts", []) if isinstance(outcome, dict) else []
        identity = (outcome.get("identity") if isinstance(outcome, dict) else None) \
            or ",".join(text.get("identities", []))
        # A correction moves no money itself: the net is what was paid so far, and the
        # adjustments after it move it (audit/book.py fold).
        known = row if kind == CORRECTION else None
        return Row(data["claim_id"], data["person_id"], data["year"], text["date"], identity,
                   data["policy_id"], True, tuple(alerts),
                   known.adjustments if known else 0, seq,
                   dict(known.net) if known else dict(data["payable"]))
    if row is None:
        return None     # nothing settled under this id: nothing to revise or adjust
    if kind == REVISION:
        outcome = data.get("outcome") or {}
        alerts = outcome.get("alerts", []) if isinstance(outcome, dict) else []
        return attrs.evolve(row, policy_id=data["policy_id"], seq=seq, alerts=tuple(alerts))
    if kind == WITHDRAWAL:
        return attrs.evolve(row, live=False)
    if kind == ADJUSTMENT:
        return attrs.evolve(row, net={**row.net, data["line"]: data["net"]},
                            adjustments=row.adjustments + 1)
    return row


def rows_of(records: Iterable) -> Row | None:
    """One claim's row from its records (``store.records_of_claim``), oldest first."""
    row = None
    for record in records:
        row = fold_row(row, record.seq, record.data)
    return row


def matches(row: Row, query: Query) -> bool:
    """What the index's conditions select (catalog._conditions), for one row."""
    return ((not query.claim_id or row.claim_id == query.claim_id)
            and (not query.person_id or row.person_id == query.person_id)
            and (not query.date_from or row.date >= query.date_from)
            and (not query.date_to or row.date <= query.date_to)
            and (not query.identity or row.identity == query.identity)
            and (not query.policy_id or row.policy_id == query.policy_id)
            and (not query.line or query.line in row.lines)
            and (query.alert not in ("yes", "no") or bool(row.alerts) == (query.alert == "yes"))
            and (query.adjusted not in ("yes", "no")
                 or (row.adjustments > 0) == (query.adjusted == "yes")))
