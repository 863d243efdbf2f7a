"""A claim and its person-year, read from the book through the library (audit/).

The figures are the book's (``fold``: nets and adjustments); the explanation
is re-derived by :func:`yibao.audit.book_explain.explain_in_book` under the
policy texts the person-year was settled under, never read from a record's
stored trace.
"""

from __future__ import annotations

import attrs

from yibao.audit.book import KINDS, BookedClaim, fold
from yibao.audit.book_explain import BookView, explain_in_book
from yibao.audit.store import AuditStore, StoredRecord
from yibao.runtime.batch import Engine


@attrs.frozen
class BookedView:
    claim_id: str
    person_id: str
    year: int
    booked: BookedClaim
    history: tuple[StoredRecord, ...]   # the claim's own records, oldest first
    engine: Engine


def booked_claim(ctx, store: AuditStore, claim_id: str) -> BookedView | None:
    history = tuple(r for r in store.records_of_claim(claim_id) if r.data.get("kind") in KINDS)
    if not history:
        return None
    latest = history[-1].data
    person_id, year = latest["person_id"], latest["year"]
    entries = store.book_records(person_id, year)
    claims = fold(entries)
    if claim_id not in claims:
        return None
    return BookedView(claim_id, person_id, year, claims[claim_id], history,
                      person_year_engine(ctx, store, entries))


def person_year_engine(ctx, store: AuditStore, entries) -> Engine:
    """The chain of the person-year's latest entry: chains only grow, so it holds every
    version its claims were settled under (as ``yibao audit replay`` reads it)."""
    latest = next(e.data for e in reversed(entries) if "policies" in e.data)
    return ctx.stored_engine(store, latest["policies"])


def explanation(store: AuditStore, view: BookedView) -> BookView:
    """Today's explanation of the claim's current text, after its person's earlier claims."""
    text = view.booked.text
    claim = view.engine.validate(text)
    return explain_in_book(store, view.engine, claim, text)
