"""Hover: what a name, a value or a citation means in the checked policy.

- an identity: what each line pays it (deductible, rate, cap), and the chain
  of ``treated as`` it follows;
- a value: the figure each identity gets from that table (revisions applied),
  and the version it is inherited from;
- a citation or clause: the clause's title and its words from the notice;
- a line: its rules, and the over-protection summary of ``yibao lint --shares``
  for the identities it pays;
- a field: its display name (what the views show), type, default, clause and quote.
"""

from __future__ import annotations

from lsprotocol import types

from yibao.dsl import ast
from yibao.dsl.model import ByIdentity, Policy
from yibao.lint.notice import clause_passage, declared_titles
from yibao.lint.render import identity_lines
from yibao.lint.walk import walk
from yibao.lsp.analysis import Analysis
from yibao.lsp.symbols import ALERT, CLAUSE, FIELD, IDENTITY, LINE, PARAM, POLICY, Symbol
from yibao.lsp.words import is_rate_table, sourced_words

_VALUE_NODES = (ast.Amount, ast.Percent, ast.Bands, ast.PlusRate, ast.TimesValue, ast.NoLimit,
                ast.Unspecified, ast.FullSubsidy, ast.FixedSubsidy, ast.ShareSubsidy,
                ast.InlineValue, ast.TableValue, ast.TableEntry)
_RULE_TABLES = {ast.Deductible: "deductible", ast.Rate: "rate", ast.Cap: "cap",
                ast.PerUnit: "per_unit"}


def symbol_at(analysis: Analysis, position: types.Position) -> Symbol | None:
    for symbol in analysis.symbols:
        if analysis.index.span_contains(symbol.span, position):
            return symbol
    return None


def hover(analysis: Analysis, position: types.Position) -> types.Hover | None:
    symbol = symbol_at(analysis, position)
    text = None
    if symbol is not None:
        text = _symbol_words(analysis, symbol)
        where = symbol.span
    if text is None and analysis.tree is not None:
        found = _value_at(analysis, position)
        if found is not None:
            where, text = found
    if not text:
        return None
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
        range=analysis.index.range(where))


def _symbol_words(analysis: Analysis, symbol: Symbol) -> str | None:
    policy = analysis.policy
    if symbol.kind == CLAUSE:
        return clause_words(analysis, symbol.name)
    if policy is None:
        return None
    if symbol.kind == IDENTITY:
        return identity_words(policy, symbol.name)
    if symbol.kind == LINE:
        return line_words(analysis, policy, symbol.name)
    if symbol.kind == ALERT:
        alert = next((a for a in policy.alerts if a.name == symbol.name), None)
        return None if alert is None else _table_words(f"alert **{alert.name}**", alert.threshold,
                                                        policy, rate=False)
    if symbol.kind == PARAM:
        param = policy.param(symbol.name)
        return None if param is None else _table_words(f"param **{param.name}**", param,
                                                        policy, is_rate_table(param))
    if symbol.kind == FIELD:
        field = policy.field(symbol.name)
        if field is None:
            return None
        default = "" if field.default is None else f", default {field.default}"
        # The display name is what the views show for the field: the drafter sees it here.
        shown = f" 「{field.display_name}」" if field.display_name else ""
        return f"field **{field.name}**{shown}: {field.type}{default}" + _cite(field.citation)
    if symbol.kind == POLICY:
        chain = " → ".join(f"{p.policy_id} ({p.effective})" for p in _versions(analysis))
        return f"policy **{symbol.name}**\n\nversions: {chain}"
    return None


def identity_words(policy: Policy, name: str) -> str:
    chain = [name]
    current = policy.identity(name)
    while current is not None and current.treated_as and current.treated_as not in chain:
        chain.append(current.treated_as)
        current = policy.identity(current.treated_as)
    effective = chain[-1]
    out = [f"identity **{name}**"]
    if len(chain) > 1:
        out.append("treated as: " + " → ".join(chain))
    rows = []
    for line in policy.computed_lines:
        if not line.covers_identity(effective):
            continue
        cells = []
        for word, table, rate in (("deductible", line.deductible, False),
                                  ("rate", line.rate, True), ("cap", line.cap, False),
                                  ("per unit", line.per_unit, False)):
            sourced = table.for_identity(effective) if table is not None else None
            if sourced is not None:
                cells.append(f"{word} {sourced_words(sourced, rate, policy)}")
        rows.append(f"- **{line.name}**: " + "; ".join(cells))
    out.append("\n".join(rows) if rows else "no computed line pays it")
    return "\n\n".join(out)


def line_words(analysis: Analysis, policy: Policy, name: str) -> str | None:
    line = policy.line(name)
    if line is None:
        return None
    out = [f"line **{name}**" + (" (upstream: paid by another system)" if line.upstream else "")]
    if line.visits:
        out.append("covers " + "、".join(line.visits))
    for word, table in (("deductible", line.deductible), ("rate", line.rate),
                        ("cap", line.cap), ("per unit", line.per_unit)):
        if table is not None:
            out.append(_table_words(word, table, policy, word == "rate"))
    shares = _shares(analysis, policy, line)
    if shares:
        out.append("**over-protection (`yibao lint --shares`)**\n\n```text\n" + shares + "\n```")
    return "\n\n".join(out)


def _shares(analysis: Analysis, policy: Policy, line) -> str:
    context = analysis.context
    if context.policy is None or line.upstream:
        return ""
    try:
        analysis_ = context.protection
    except Exception:  # noqa: BLE001 - a hover never fails on an analysis it cannot make
        return ""
    ceiling = context.config.ceiling
    lines = []
    for share in analysis_.shares:
        if share.identity is not None and line.covers_identity(share.identity):
            lines.extend(identity_lines(policy, share, ceiling))
    return "\n".join(lines)


def clause_words(analysis: Analysis, clause: str) -> str:
    titles = declared_titles(analysis.context) if analysis.tree is not None else {}
    out = [f"§{clause}" + (f" {titles[clause]}" if clause in titles else "")]
    passage = clause_passage(analysis.context, clause) if analysis.tree is not None else None
    if passage is not None:
        out.append("> " + passage.text.strip().replace("\n", "\n> "))
    elif clause not in titles:
        out.append("the policy does not declare this clause")
    return "\n\n".join(out)


def _value_at(analysis: Analysis, position: types.Position):
    """The innermost value under the cursor, with the rule that holds it."""
    best = None
    for node, ancestors in walk(analysis.tree):
        if isinstance(node, _VALUE_NODES) and analysis.index.span_contains(node.span, position):
            if best is None or _size(node.span) <= _size(best[0].span):
                best = (node, ancestors)
    if best is None or analysis.policy is None:
        return None
    node, ancestors = best
    table = resolved_table(analysis.policy, ancestors)
    if table is None:
        return None
    name, values, rate = table
    if isinstance(values, ByIdentity):
        return node.span, _table_words(name, values, analysis.policy, rate)
    return node.span, f"{name}: {sourced_words(values, rate, analysis.policy)}"


def resolved_table(policy: Policy, ancestors: tuple):
    """(name, the checked table or Sourced, is-a-rate) for a value inside these nodes."""
    owner = next((a for a in ancestors if isinstance(
        a, (ast.ComputedLine, ast.Amendment, ast.Alert, ast.Param, ast.Subsidy, ast.Ceiling))),
        None)
    rule = next((a for a in reversed(ancestors) if type(a) in _RULE_TABLES), None)
    if isinstance(owner, (ast.ComputedLine, ast.Amendment)) and rule is not None:
        name = owner.name.text if isinstance(owner, ast.ComputedLine) else owner.target.text
        line = policy.line(name)
        table = getattr(line, _RULE_TABLES[type(rule)], None) if line else None
        return None if table is None else (table.name, table, isinstance(rule, ast.Rate))
    if isinstance(owner, ast.Alert):
        alert = next((a for a in policy.alerts if a.name == owner.name.text), None)
        return None if alert is None else (alert.threshold.name, alert.threshold, False)
    if isinstance(owner, ast.Param):
        param = policy.param(owner.name.text)
        return None if param is None else (param.name, param, is_rate_table(param))
    if isinstance(owner, ast.Subsidy) and policy.subsidy is not None:
        return policy.subsidy.name, policy.subsidy, False
    if isinstance(owner, ast.Ceiling) and policy.ceiling is not None:
        return "ceiling", policy.ceiling.rate, True
    return None


def _table_words(title: str, table: ByIdentity, policy: Policy, rate: bool) -> str:
    rows = []
    for key, sourced in table.items():
        who = key if key is not None else ("others" if len(table.values) > 1 else "everyone")
        rows.append(f"- {who}: {sourced_words(sourced, rate, policy)}")
    return f"{title}\n\n" + "\n".join(rows)


def _versions(analysis: Analysis):
    parent = analysis.context.parent_loaded
    earlier = parent.versions if parent is not None else ()
    return tuple(earlier) + ((analysis.policy,) if analysis.policy is not None else ())


def _cite(citation) -> str:
    if citation is None:
        return ""
    return f" §{citation.clause}" + (f"「{citation.quote}」" if citation.quote else "")


def _size(span) -> tuple[int, int]:
    return (span.end_line - span.line, span.end_column - span.column)

