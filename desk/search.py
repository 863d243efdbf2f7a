"""The search page: claims by id, person, date range, identity, line, alert, adjustment, version.

A search naming a claim or a person is answered from the store's indexes
(desk/search_book.py) at once; the others by the desk's index
(desk/catalog.py), brought up to the book's head first.  While that index is
first built over a large book (in the background, from start-up) such a search
says how far the build has got instead of answering from a part of the book.
"""

from __future__ import annotations

import datetime

from yibao.desk.claim_rows import Query
from yibao.desk.render import page, url
from yibao.desk.search_book import answers_from_book, search_book

FIELDS = ("claim_id", "person_id", "date_from", "date_to", "identity", "line", "alert",
          "adjusted", "policy_id")


def query_of(params) -> Query:
    values = {name: params.get(name, "").strip() for name in FIELDS}
    for name in ("date_from", "date_to"):
        if values[name] and not _is_date(values[name]):
            values[name] = ""   # not a date: the field is ignored, as the form shows it empty
    try:
        number = int(params.get("page", "1"))
    except ValueError:
        number = 1
    return Query(**values, page=number)


def _is_date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def search_page(ctx, status, store, params):
    query = query_of(params)
    building = None
    if answers_from_book(query):
        results = search_book(store, query, ctx.catalog.page_size)
    elif ctx.catalog.building:
        results = None
        building = (ctx.catalog.seq, store.last_seq())
    else:
        ctx.refresh(store)
        results = ctx.catalog.search(query)

    def page_url(number: int) -> str:
        return url("search", **{name: getattr(query, name) for name in FIELDS}, page=number)

    return page(ctx, status, "search.html", "查询理赔", query=query, results=results,
                building=building, choices=ctx.catalog.choices(), page_url=page_url)
