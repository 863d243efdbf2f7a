"""Inlay hints: the figure a relative amendment resolves to, and what is inherited.

``plus 5%`` and ``times 50%`` change the value the version extended gives;
the hint shows the result the checker computed for each identity the entry
names (``= 75%``).  After ``amend 大病保险`` the values that amendment leaves
as they were are listed with the version they come from; after ``extends``,
the lines the revision does not touch.
"""

from __future__ import annotations

from lsprotocol import types

from yibao.dsl import ast
from yibao.dsl.model import ByIdentity, LineDef
from yibao.lint.walk import walk
from yibao.lsp.analysis import Analysis
from yibao.lsp.symbols import POLICY
from yibao.lsp.words import value_words

_RELATIVE = (ast.PlusRate, ast.TimesValue)
_TABLES = (("起付标准", "deductible", False), ("支付比例", "rate", True),
           ("年度限额", "cap", False), ("定额标准", "per_unit", False))


def inlay_hints(analysis: Analysis, visible: types.Range | None = None) -> list[types.InlayHint]:
    policy = analysis.policy
    if analysis.tree is None or policy is None:
        return []
    hints = list(_relative(analysis, policy)) + list(_inherited(analysis, policy))
    if visible is not None:
        hints = [h for h in hints if visible.start.line <= h.position.line <= visible.end.line]
    return sorted(hints, key=lambda h: (h.position.line, h.position.character))


def _resolved_by_place(analysis: Analysis, policy) -> dict:
    """(line, column) of the entry or value that set it → [(identity, value, is rate)]."""
    places: dict[tuple[int, int], list] = {}
    for line in policy.lines:
        for _, attribute, rate in _TABLES:
            table: ByIdentity | None = getattr(line, attribute)
            if table is None:
                continue
            for key, sourced in table.items():
                if sourced.span.file == analysis.path:
                    places.setdefault((sourced.span.line, sourced.span.column), []).append(
                        (key, sourced.value, rate))
    return places


def _relative(analysis: Analysis, policy):
    places = _resolved_by_place(analysis, policy)
    for node, ancestors in walk(analysis.tree):
        if not isinstance(node, (ast.TableEntry, ast.InlineValue)) or \
                not isinstance(node.value, _RELATIVE):
            continue
        resolved = places.get((node.span.line, node.span.column))
        if resolved is None:
            owner = next((a for a in reversed(ancestors) if isinstance(
                a, (ast.Deductible, ast.Rate, ast.Cap, ast.PerUnit))), None)
            resolved = places.get((owner.span.line, owner.span.column)) if owner else None
        if not resolved:
            continue
        words = {}
        for key, value, rate in resolved:
            words.setdefault(value_words(value, rate), []).append(key or "others")
        if len(words) == 1:
            label = f"= {next(iter(words))}"
        else:
            label = "= " + ", ".join(f"{w} ({'、'.join(keys)})" for w, keys in words.items())
        value_span = node.value.span
        yield types.InlayHint(
            position=analysis.index.position(value_span.end_line, value_span.end_column),
            label=label, kind=types.InlayHintKind.Parameter, padding_left=True)


def _inherited(analysis: Analysis, policy):
    for item in analysis.tree.of_type(ast.Amendment):
        line = policy.line(item.target.text)
        if line is None:
            continue
        words = _inherited_words(line)
        if words:
            span = item.target.span
            yield types.InlayHint(
                position=analysis.index.position(span.end_line, span.end_column),
                label=f"inherits {words}", kind=types.InlayHintKind.Type, padding_left=True)
    extends = next((s for s in analysis.symbols if s.kind == POLICY and s.role == "extends"), None)
    if extends is not None and analysis.context.parent is not None:
        amended = {a.target.text for a in analysis.tree.of_type(ast.Amendment)}
        restated = {l.name.text for l in analysis.tree.items
                    if isinstance(l, (ast.ComputedLine, ast.UpstreamLine))}
        kept = [l.name for l in policy.lines if l.name not in amended | restated]
        if kept:
            yield types.InlayHint(
                position=analysis.index.position(extends.span.end_line, extends.span.end_column),
                label="unchanged: " + ", ".join(kept), kind=types.InlayHintKind.Type,
                padding_left=True)


def _inherited_words(line: LineDef) -> str:
    parts = []
    for name, attribute, rate in _TABLES:
        table = getattr(line, attribute)
        if table is None:
            continue
        kept = [(key, s) for key, s in table.items() if s.inherited]
        if kept:
            version = kept[0][1].version
            cells = ", ".join(f"{value_words(s.value, rate)}"
                              + (f" ({key})" if key is not None else "") for key, s in kept)
            parts.append(f"{name} {cells} from {version}")
    return "; ".join(parts)
