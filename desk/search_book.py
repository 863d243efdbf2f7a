"""A search by claim id or by person, answered by the store's own indexes.

The store indexes records by claim id (``records_by_claim``) and lists book entries
by person-year (SQLite's ``book_years``, PostgreSQL's ``book_by_person_year``): a
search naming a claim or a person reads
only that claim's or that person's records, whatever the size of the book, and
needs no index of the desk's (desk/catalog.py), which may still be being built
when the desk has just started over a large book.  The other fields of the
form filter the few rows found, as the index's conditions would.
"""

from __future__ import annotations

from yibao.audit.store import AuditStore
from yibao.desk.catalog import Results
from yibao.desk.claim_rows import Query, Row, matches, rows_of


def answers_from_book(query: Query) -> bool:
    """Whether the store's indexes answer ``query`` (it names a claim or a person)."""
    return bool(query.claim_id or query.person_id)


def search_book(store: AuditStore, query: Query, page_size: int) -> Results:
    ids = [query.claim_id] if query.claim_id else store.person_claims(query.person_id)
    rows: list[Row] = []
    for claim_id in ids:
        row = rows_of(store.records_of_claim(claim_id))
        if row is not None and matches(row, query):
            rows.append(row)
    rows.sort(key=lambda row: (row.date, row.seq))   # the index's ORDER BY date, seq
    pages = max(1, -(-len(rows) // page_size))
    page = min(max(1, query.page), pages)
    return Results(tuple(rows[(page - 1) * page_size:page * page_size]), len(rows), page, pages)
