"""Completion: keywords, identity names, visit kinds, field names (with their display
names), line names and clause numbers — the declared clauses and the notice's own
headings."""

from __future__ import annotations

import re

from lsprotocol import types

from yibao.dsl.model import SCHEMES, VISITS
from yibao.lint.notice import notice_of
from yibao.lint.notice_text import heading_of
from yibao.lsp.analysis import Analysis
from yibao.lsp.symbols import ALERT, CLAUSE, FIELD, IDENTITY, LINE, BUILTIN_TERMS

KEYWORDS = (
    "policy", "extends", "title", "region", "effective", "source", "document", "schemes",
    "clause", "identity", "treated as", "take highest", "line", "upstream", "amend", "covers",
    "when", "identities", "base", "remaining", "deductible", "rate", "cap", "per", "none",
    "unspecified", "full", "fixed", "share", "plus", "times", "bands", "from", "to", "at most",
    "alert", "burden after", "all lines", "visits", "group", "except", "threshold", "subsidy",
    "zero contribution only for", "ceiling", "reduces", "param", "refer", "capped", "field",
    "default", "bool", "count", "money", "not", "and", "or", "others", "true", "false",
)

_AFTER = (
    (re.compile(r"(covers|visits)\s+([^§#]*,\s*)?[\w·]*$"), "visits"),
    (re.compile(r"(when|not|and|or|per|\()\s*[\w·]*$"), "fields"),
    (re.compile(r"(treated\s+as|identities|group|for|at\s+most)\s+([^§#]*,\s*)?[\w·]*$"),
     "identities"),
    (re.compile(r"group\s+except\s+([^§#]*,\s*)?[\w·]*$"), "alerts"),
    (re.compile(r"(amend|reduces|capped|after|base)\s+([^§#]*[,-]\s*)?[\w·]*$"), "lines"),
    (re.compile(r"§[^\s\"]*$"), "clauses"),
    (re.compile(r"^\s*([\w·]+\s*,\s*)*[\w·]*$"), "entry"),
)


def complete(analysis: Analysis, position: types.Position) -> types.CompletionList:
    line = analysis.index.line(position.line)
    before = line[: analysis.index.column(position)]
    want = next((kind for pattern, kind in _AFTER if pattern.search(before)), "keywords")
    if want == "clauses":
        # Replace what was typed from the § on: editors do not take § as part of a word.
        start = before.rindex("§")
        typed = types.Range(
            start=types.Position(line=position.line,
                                 character=position.character - _units(before[start:])),
            end=position)
        items = _clauses(analysis, typed)
    elif want == "visits":
        items = [_item(v, types.CompletionItemKind.EnumMember, "visit") for v in VISITS]
    elif want == "fields":
        items = [_item(n, types.CompletionItemKind.Field, _field_detail(analysis, n))
                 for n in _names(analysis, FIELD) + list(BUILTIN_TERMS)]
    elif want == "identities":
        items = _identities(analysis)
    elif want == "alerts":
        items = [_item(n, types.CompletionItemKind.Event, "alert") for n in _names(analysis, ALERT)]
    elif want == "lines":
        items = [_item(n, types.CompletionItemKind.Function, "line")
                 for n in _names(analysis, LINE)] + [
            _item(t, types.CompletionItemKind.Keyword, "claim field") for t in BUILTIN_TERMS]
    elif want == "entry":
        items = (_identities(analysis) + [_item("others", types.CompletionItemKind.Keyword,
                                                 "everyone the table does not name")]
                 + [_item(s, types.CompletionItemKind.EnumMember, "scheme") for s in SCHEMES]
                 + _keywords())
    else:
        items = _keywords() + _identities(analysis)
    return types.CompletionList(is_incomplete=False, items=items)


def _item(label: str, kind, detail: str, sort: str | None = None) -> types.CompletionItem:
    return types.CompletionItem(label=label, kind=kind, detail=detail, sort_text=sort)


def _keywords() -> list[types.CompletionItem]:
    return [_item(k, types.CompletionItemKind.Keyword, "keyword") for k in KEYWORDS]


def _names(analysis: Analysis, kind: str) -> list[str]:
    names = [s.name for s in analysis.symbols if s.kind == kind and s.definition]
    policy = analysis.policy
    parent = analysis.context.parent
    for source in (policy, parent):
        if source is None:
            continue
        if kind == IDENTITY:
            names += [i.name for i in source.identities]
        elif kind == LINE:
            names += [l.name for l in source.lines]
        elif kind == FIELD:
            names += [f.name for f in source.fields]
        elif kind == ALERT:
            names += [a.name for a in source.alerts]
    return list(dict.fromkeys(names))


def _field_detail(analysis: Analysis, name: str) -> str:
    """"claim field 省内就医": the display name, so the drafter picks the field by the
    notice's words."""
    for source in (analysis.policy, analysis.context.parent):
        field = source.field(name) if source is not None else None
        if field is not None and field.display_name:
            return f"claim field {field.display_name}"
    return "claim field"


def _identities(analysis: Analysis) -> list[types.CompletionItem]:
    return [_item(n, types.CompletionItemKind.Class, "identity") for n in _names(analysis, IDENTITY)]


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _clauses(analysis: Analysis, typed: types.Range) -> list[types.CompletionItem]:
    """Declared clauses first, then every heading of the notice, by its number."""
    items: dict[str, types.CompletionItem] = {}
    for symbol in analysis.symbols:
        if symbol.kind == CLAUSE and symbol.definition:
            items.setdefault(symbol.name, _item("§" + symbol.name, types.CompletionItemKind.Reference,
                                                "declared clause", "0" + symbol.name))
    if analysis.tree is not None:
        _, notice = notice_of(analysis.context)
        if notice is not None:
            for key, title in notice_headings(notice.original):
                items.setdefault(key, _item("§" + key, types.CompletionItemKind.Reference,
                                            title[:40], "1" + key))
    for item in items.values():
        item.filter_text = item.label
        item.text_edit = types.TextEdit(range=typed, new_text=item.label)
    return list(items.values())


def notice_headings(text: str) -> list[tuple[str, str]]:
    """(clause key, heading words) for the notice's headings: 二, (五), 二.1, 二(一)."""
    out = []
    top = paren = None
    for raw in text.splitlines():
        heading = heading_of(raw)
        if heading is None:
            continue
        kind, label = heading
        words = raw.strip()
        if kind == "top":
            top, paren = label, None
            out.append((label, words))
        elif kind == "paren":
            paren = f"({label})"
            out.append((paren, words))
            if top:
                out.append((f"{top}{paren}", words))
        else:
            parent = f"{top}{paren}" if top and paren else (paren or top)
            if parent:
                out.append((f"{parent}.{label}" if not parent.endswith(")") else f"{parent}{label}",
                            words))
    return out
