"""Document symbols (the outline: header, clauses, identities, lines, alerts …)
and folding ranges (every block and table written over several lines, and runs
of comment lines)."""

from __future__ import annotations

from lsprotocol import types

from yibao.dsl import ast
from yibao.lint.walk import walk
from yibao.lsp.analysis import Analysis

_KIND = {
    ast.Header: types.SymbolKind.Module, ast.ClauseText: types.SymbolKind.String,
    ast.Identity: types.SymbolKind.Class, ast.ComputedLine: types.SymbolKind.Function,
    ast.UpstreamLine: types.SymbolKind.Function, ast.Amendment: types.SymbolKind.Function,
    ast.Alert: types.SymbolKind.Event, ast.Subsidy: types.SymbolKind.Object,
    ast.Ceiling: types.SymbolKind.Object, ast.Param: types.SymbolKind.Constant,
    ast.FieldDecl: types.SymbolKind.Field, ast.Referral: types.SymbolKind.Interface,
    ast.TakeHighest: types.SymbolKind.Operator, ast.ZeroContribution: types.SymbolKind.Object,
}
_RULE_WORDS = {
    ast.Covers: "covers", ast.When: "when", ast.Members: "identities", ast.Base: "base",
    ast.Deductible: "deductible", ast.Rate: "rate", ast.Cap: "cap", ast.PerUnit: "per",
    ast.BurdenAfter: "burden", ast.Visits: "visits", ast.Group: "group",
    ast.Threshold: "threshold", ast.Reduces: "reduces", ast.Capped: "capped",
}


def document_symbols(analysis: Analysis) -> list[types.DocumentSymbol]:
    if analysis.tree is None:
        return []
    out = []
    for item in analysis.tree.items:
        if item.span.line <= 0:
            continue
        name, selection = _name(item)
        children = [_rule(analysis, rule) for rule in getattr(item, "rules", ())
                    if type(rule) in _RULE_WORDS and rule.span.line > 0]
        whole = analysis.index.range(item.span)
        chosen = analysis.index.range(selection) if selection is not None else whole
        out.append(types.DocumentSymbol(
            name=name, kind=_KIND.get(type(item), types.SymbolKind.Object), range=whole,
            selection_range=_inside(chosen, whole), detail=_detail(item),
            children=children or None))
    return out


def _name(item):
    if isinstance(item, ast.Header):
        return f"policy {item.policy_id}", None
    if isinstance(item, ast.ClauseText):
        return f"§{item.clause} {item.text}", None
    if isinstance(item, ast.Amendment):
        return f"amend {item.target.text}", item.target.span
    if isinstance(item, ast.Subsidy):
        return "subsidy", None
    if isinstance(item, ast.Ceiling):
        return f"ceiling {item.rate.text}", None
    if isinstance(item, ast.TakeHighest):
        return "take highest", None
    if isinstance(item, ast.ZeroContribution):
        return "zero contribution only for " + ", ".join(n.text for n in item.names), None
    name = getattr(item, "name", None)
    return (name.text, name.span) if name is not None else (type(item).__name__, None)


def _detail(item) -> str:
    if isinstance(item, ast.Identity):
        return f"treated as {item.treated_as.text}" if item.treated_as else "identity"
    if isinstance(item, ast.UpstreamLine):
        return "line (upstream)"
    if isinstance(item, ast.ComputedLine):
        return "line"
    if isinstance(item, ast.Header) and item.extends:
        return f"extends {item.extends}"
    return ""


def _rule(analysis: Analysis, rule) -> types.DocumentSymbol:
    whole = analysis.index.range(rule.span)
    return types.DocumentSymbol(name=_RULE_WORDS[type(rule)], kind=types.SymbolKind.Property,
                                range=whole, selection_range=whole)


def _inside(selection: types.Range, whole: types.Range) -> types.Range:
    def key(p):
        return (p.line, p.character)
    if key(selection.start) < key(whole.start) or key(selection.end) > key(whole.end):
        return whole
    return selection


def folding_ranges(analysis: Analysis) -> list[types.FoldingRange]:
    ranges = {}
    if analysis.tree is not None:
        for node, _ in walk(analysis.tree):
            span = getattr(node, "span", None)
            if span is not None and span.line > 0 and span.end_line > span.line and \
                    not isinstance(node, ast.PolicyFile):
                ranges[(span.line - 1, span.end_line - 1)] = None
    for start, end in _comment_runs(analysis):
        ranges[(start, end)] = types.FoldingRangeKind.Comment
    return [types.FoldingRange(start_line=s, end_line=e, kind=k)
            for (s, e), k in sorted(ranges.items())]


def _comment_runs(analysis: Analysis):
    start = None
    for row, text in enumerate(analysis.index.lines + [""]):
        if text.strip().startswith("#"):
            start = row if start is None else start
        else:
            if start is not None and row - 1 > start:
                yield start, row - 1
            start = None
