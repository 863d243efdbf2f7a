"""What each name in a policy file is, and where it is defined.

The AST keeps every name with its span (identities, lines, fields, alerts,
parameters, referrals, visits); citations and clause declarations keep the
span of the whole ``§(五) "…"``, and the header its own.  This module walks
the tree once and lists every occurrence as a :class:`Symbol`: its kind, its
text, the span of just the name, and whether it defines it.  Definition,
references, hover, semantic tokens and rename-free navigation all read it.
"""

from __future__ import annotations

import re
from typing import Iterator

import attrs

from yibao.core.span import Span
from yibao.dsl import ast
from yibao.dsl.model import OTHERS, SCHEMES, VISITS
from yibao.lint.walk import walk

IDENTITY, LINE, FIELD, ALERT, PARAM, REFERRAL = "identity", "line", "field", "alert", "param", "referral"
CLAUSE, VISIT, SCHEME, POLICY, KEY = "clause", "visit", "scheme", "policy", "key"
# Claim fields every claim has (docs/claims.md): a base or condition may name them.
BUILTIN_TERMS = ("in_scope_cost", "total_cost")

_HEADER = re.compile(r"policy\s+([a-z][a-z0-9]*(?:-[a-z0-9]+)*)(?:\s+extends\s+([a-z][a-z0-9]*(?:-[a-z0-9]+)*))?")
CITE = re.compile(r'§[^\s{}:,;"“”#]+')


@attrs.frozen
class Symbol:
    kind: str
    name: str
    span: Span
    definition: bool = False
    # For a policy id: "self" or "extends"; for a clause: the canonical key (§ dropped).
    role: str = ""


def symbols(tree: ast.PolicyFile, source: str) -> list[Symbol]:
    """Every name, citation and clause of the file, in the order written."""
    lines = source.split("\n")
    found = list(_header_symbols(tree, lines))
    for node, ancestors in walk(tree):
        if isinstance(node, ast.Name):
            symbol = _classify(node, ancestors)
            if symbol is not None:
                found.append(symbol)
        elif isinstance(node, ast.Citation):
            span = _cite_span(node.span, lines)
            if span is not None:
                found.append(Symbol(CLAUSE, node.clause, span, False, node.clause))
        elif isinstance(node, ast.ClauseText):
            span = _cite_span(node.span, lines)
            if span is not None:
                found.append(Symbol(CLAUSE, node.clause, span, True, node.clause))
    found.sort(key=lambda s: (s.span.line, s.span.column))
    return found


def _classify(name: ast.Name, ancestors: tuple) -> Symbol | None:
    parent = ancestors[-1] if ancestors else None
    text, span = name.text, name.span

    def make(kind: str, definition: bool = False) -> Symbol:
        return Symbol(kind, text, span, definition)

    if isinstance(parent, ast.Identity):
        return make(IDENTITY, parent.name is name)
    if isinstance(parent, (ast.ComputedLine, ast.UpstreamLine)):
        return make(LINE, True)
    if isinstance(parent, ast.Amendment):
        return make(LINE)
    if isinstance(parent, ast.Alert):
        return make(ALERT, True)
    if isinstance(parent, ast.Param):
        return make(PARAM, True)
    if isinstance(parent, ast.FieldDecl):
        return make(FIELD, True)
    if isinstance(parent, ast.Referral):
        return make(REFERRAL, True)
    if isinstance(parent, (ast.Covers, ast.Visits)):
        return make(VISIT)
    if isinstance(parent, (ast.FieldRef, ast.PerUnit)):
        return make(KEY if text in BUILTIN_TERMS else FIELD)
    if isinstance(parent, ast.Base):
        return make(KEY if text in BUILTIN_TERMS else LINE)
    if isinstance(parent, (ast.BurdenAfter, ast.Reduces, ast.Capped)):
        return make(LINE)
    if isinstance(parent, ast.Group):
        return make(ALERT if parent.excluding else IDENTITY)
    if isinstance(parent, ast.Members):
        in_header = any(isinstance(a, ast.Header) for a in ancestors)
        return make(SCHEME if in_header else IDENTITY)
    if isinstance(parent, (ast.ZeroContribution, ast.FixedSubsidy)):
        return make(IDENTITY)
    if isinstance(parent, ast.TableEntry):
        if text == OTHERS:
            return make(KEY)
        if text in SCHEMES or any(isinstance(a, ast.Threshold) for a in ancestors):
            return make(SCHEME)
        if any(isinstance(a, ast.Param) for a in ancestors):
            return make(KEY)
        return make(IDENTITY)
    if text in VISITS:
        return make(VISIT)
    return None


def _header_symbols(tree: ast.PolicyFile, lines: list[str]) -> Iterator[Symbol]:
    header = tree.header
    if header is None or header.span.line <= 0:
        return
    row = header.span.line - 1
    text = lines[row] if row < len(lines) else ""
    match = _HEADER.search(text, max(header.span.column - 1, 0))
    if match is None:
        return
    def span(group: int) -> Span:
        return Span(header.span.file, row + 1, match.start(group) + 1, row + 1,
                    match.end(group) + 1)
    yield Symbol(POLICY, match.group(1), span(1), True, "self")
    if match.group(2):
        yield Symbol(POLICY, match.group(2), span(2), False, "extends")


def _cite_span(span: Span, lines: list[str]) -> Span | None:
    """The ``§…`` token inside a citation's or clause declaration's span."""
    if span.line <= 0 or span.line > len(lines):
        return None
    text = lines[span.line - 1]
    match = CITE.search(text, max(span.column - 1, 0))
    if match is None:
        return None
    return Span(span.file, span.line, match.start() + 1, span.line, match.end() + 1)


def definitions(found: list[Symbol], kind: str, name: str) -> list[Symbol]:
    return [s for s in found if s.definition and s.kind == kind and s.name == name]


def occurrences(found: list[Symbol], kind: str, name: str) -> list[Symbol]:
    return [s for s in found if s.kind == kind and s.name == name]
