"""The search page: claims by id, person, date range, identity, line, alert, adjustment, version."""

from __future__ import annotations

import datetime

from yibao.desk.catalog import Query
from yibao.desk.render import page, url

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


def search_page(ctx, status, params):
    query = query_of(params)
    results = ctx.catalog.search(query)

    def page_url(number: int) -> str:
        return url("search", **{name: getattr(query, name) for name in FIELDS}, page=number)

    return page(ctx, status, "search.html", "查询理赔", query=query, results=results,
                choices=ctx.catalog.choices(), page_url=page_url)
