"""The notice of the file being linted, read once per context (dsl/notices.py finds it)."""

from __future__ import annotations

import functools

from yibao.dsl import ast
from yibao.dsl.notices import NoticeLookup, find_notice
from yibao.lint.notice_text import NoticeText, Passage

_CACHE_ATTRIBUTE = "_yibao_notice"


def notice_of(context) -> tuple[NoticeLookup, NoticeText | None]:
    """The lookup of the context's notice and its normalised text (None when unreadable)."""
    cached = getattr(context, _CACHE_ATTRIBUTE, None)
    if cached is None:
        lookup = find_notice(context.path, context.source,
                             context.tree.header if context.tree is not None else None)
        text = _notice_text(lookup.notice.text) if lookup.notice is not None else None
        cached = (lookup, text)
        setattr(context, _CACHE_ATTRIBUTE, cached)
    return cached


def declared_titles(context) -> dict[str, str]:
    """Each declared clause's title, the predecessor's first (this file's win)."""
    titles = dict(context.parent.clauses) if context.parent is not None else {}
    if context.tree is not None:
        titles.update((c.clause, c.text) for c in context.tree.of_type(ast.ClauseText))
    return titles


def clause_passage(context, clause: str) -> Passage | None:
    _, text = notice_of(context)
    if text is None:
        return None
    return text.clause_passage(clause, declared_titles(context).get(clause))


@functools.lru_cache(maxsize=16)
def _notice_text(text: str) -> NoticeText:
    # The language server lints on every edit: the notice is normalised once.
    return NoticeText(text)
