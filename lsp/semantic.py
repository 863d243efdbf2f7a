"""Semantic tokens: names coloured by what they are (identity, line, field, alert …),
amounts and rates as numbers, citations as references to the notice.

Tokens are sent as LSP encodes them: five integers each (line delta, start
delta, length, type, modifiers), positions and lengths in UTF-16 units, one
line per token, in document order.
"""

from __future__ import annotations

from lsprotocol import types

from yibao.dsl import ast
from yibao.lint.walk import walk
from yibao.lsp.analysis import Analysis
from yibao.lsp.positions import utf16_length
from yibao.lsp.symbols import (
    ALERT, CLAUSE, FIELD, IDENTITY, KEY, LINE, PARAM, POLICY, REFERRAL, SCHEME, VISIT,
)

TOKEN_TYPES = ["namespace", "type", "function", "property", "enumMember", "event", "variable",
               "number", "macro", "keyword", "interface"]
TOKEN_MODIFIERS = ["declaration"]
LEGEND = types.SemanticTokensLegend(token_types=TOKEN_TYPES, token_modifiers=TOKEN_MODIFIERS)

_TYPE_OF = {POLICY: "namespace", IDENTITY: "type", LINE: "function", FIELD: "property",
            VISIT: "enumMember", SCHEME: "enumMember", ALERT: "event", PARAM: "variable",
            CLAUSE: "macro", KEY: "keyword", REFERRAL: "interface"}


def tokens(analysis: Analysis) -> list[tuple[int, int, int, str, bool]]:
    """(line from 0, start in code points, length in code points, type, declaration)."""
    found = [(s.span.line - 1, s.span.column - 1, s.span.end_column - s.span.column,
              _TYPE_OF[s.kind], s.definition)
             for s in analysis.symbols if s.span.line == s.span.end_line]
    if analysis.tree is not None:
        for node, _ in walk(analysis.tree):
            if isinstance(node, (ast.Amount, ast.Percent)) and node.span.line > 0 \
                    and node.span.line == node.span.end_line:
                found.append((node.span.line - 1, node.span.column - 1,
                              node.span.end_column - node.span.column, "number", False))
    found = sorted(set(found))
    # No two tokens may overlap: keep the first of any that would.
    kept, end = [], (-1, -1)
    for token in found:
        if (token[0], token[1]) >= end:
            kept.append(token)
            end = (token[0], token[1] + token[2])
    return kept


def semantic_tokens(analysis: Analysis) -> types.SemanticTokens:
    data: list[int] = []
    previous_line, previous_start = 0, 0
    for line, start, length, kind, declaration in tokens(analysis):
        text = analysis.index.line(line)
        start_units = utf16_length(text[:start])
        length_units = utf16_length(text[start:start + length])
        delta_line = line - previous_line
        delta_start = start_units - previous_start if delta_line == 0 else start_units
        data += [delta_line, delta_start, length_units, TOKEN_TYPES.index(kind),
                 1 if declaration else 0]
        previous_line, previous_start = line, start_units
    return types.SemanticTokens(data=data)
