"""Templates (Jinja2, autoescaped) and the helpers every page uses to fill them.

Every value a page shows goes through Jinja2's autoescape; URLs are built
with :func:`url` (query parameters percent-encoded), never by pasting a
claim id into a path, so any id (quotes, ``<script>``, RTL marks, slashes,
10 KB) reaches its page and comes back as text.
"""

from __future__ import annotations

import pathlib
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

import jinja2
from starlette.responses import HTMLResponse

from yibao import __version__

ROUTES = {"search": "/", "claim": "/claim", "explanation": "/claim/explanation",
          "replay": "/claim/replay", "person": "/person", "policy": "/policy",
          "policies": "/policies", "graph": "/policy/graph.svg", "chain": "/chain"}

ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(pathlib.Path(__file__).with_name("templates")),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=False)


def url(route: str, **params) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return ROUTES[route] + (f"?{query}" if query else "")


def money(amount) -> str:
    """1234.5 → 1,234.50 (the figures of explain's pages)."""
    try:
        return f"{Decimal(str(amount)):,.2f}"
    except (InvalidOperation, ValueError):
        return str(amount)


def signed(amount) -> str:
    value = Decimal(str(amount))
    return ("+" if value > 0 else "") + money(value)


ENVIRONMENT.globals.update(url=url, money=money, signed=signed, version=__version__)


def page(ctx, status, template: str, title: str, code: int = 200, headers=None,
         **values) -> HTMLResponse:
    html = ENVIRONMENT.get_template(template).render(
        title=title, status=status, writable=ctx.writable,
        book_name=pathlib.Path(ctx.book).name if "://" not in ctx.book else "PostgreSQL",
        **values)
    return HTMLResponse(html, status_code=code, headers=headers)
