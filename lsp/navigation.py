"""Go to definition and find references: identities, lines, fields, alerts,
parameters, clauses, and the policy an ``extends`` names.

A name the file uses but does not define (an ``amend``'s line, an identity
of the version it extends) is defined in the predecessor's file, which is
read from disk; an ``extends`` target goes to that file's header.
"""

from __future__ import annotations

import pathlib

from lsprotocol import types
from pygls.uris import from_fs_path

from yibao.dsl.parser import parse_policy
from yibao.lint.notice import notice_of
from yibao.lsp.analysis import Analysis
from yibao.lsp.hover import symbol_at
from yibao.lsp.positions import LineIndex
from yibao.lsp.symbols import CLAUSE, POLICY, Symbol, definitions, occurrences, symbols

MAX_CHAIN = 20


def definition(analysis: Analysis, position: types.Position) -> list[types.Location]:
    symbol = symbol_at(analysis, position)
    if symbol is None:
        return []
    if symbol.kind == POLICY:
        return _policy_file(analysis, symbol)
    here = definitions(list(analysis.symbols), symbol.kind, symbol.name)
    if here:
        return [_location(analysis.uri, analysis.index, s) for s in here]
    return _in_predecessors(analysis, symbol)


def references(analysis: Analysis, position: types.Position,
               include_declaration: bool = True) -> list[types.Location]:
    symbol = symbol_at(analysis, position)
    if symbol is None or symbol.kind == POLICY:
        return []
    found = [s for s in occurrences(list(analysis.symbols), symbol.kind, symbol.name)
             if include_declaration or not s.definition]
    return [_location(analysis.uri, analysis.index, s) for s in found]


def _location(uri: str, index: LineIndex, symbol: Symbol) -> types.Location:
    return types.Location(uri=uri, range=index.range(symbol.span))


def _policy_file(analysis: Analysis, symbol: Symbol) -> list[types.Location]:
    if symbol.role == "self":
        return [_location(analysis.uri, analysis.index, symbol)]
    path = pathlib.Path(analysis.path).parent / f"{symbol.name}.policy"
    if not path.is_file():
        return []
    start = types.Position(line=0, character=0)
    return [types.Location(uri=from_fs_path(str(path.resolve())),
                           range=types.Range(start=start, end=start))]


def _in_predecessors(analysis: Analysis, symbol: Symbol) -> list[types.Location]:
    """Walk up the ``extends`` chain, file by file, for the definition."""
    folder = pathlib.Path(analysis.path).parent
    extends = next((s.name for s in analysis.symbols if s.kind == POLICY and s.role == "extends"),
                   None)
    seen = set()
    while extends and extends not in seen and len(seen) < MAX_CHAIN:
        seen.add(extends)
        path = folder / f"{extends}.policy"
        try:
            text = path.read_text(encoding="utf-8")
            tree = parse_policy(text, str(path))
        except Exception:  # noqa: BLE001 - an unreadable predecessor has no definitions
            return []
        found = symbols(tree, text)
        here = definitions(found, symbol.kind, symbol.name)
        if here:
            index = LineIndex(text)
            uri = from_fs_path(str(path.resolve()))
            return [_location(uri, index, s) for s in here]
        extends = next((s.name for s in found if s.kind == POLICY and s.role == "extends"), None)
    if symbol.kind == CLAUSE:
        return _in_notice(analysis, symbol)
    return []


def _in_notice(analysis: Analysis, symbol: Symbol) -> list[types.Location]:
    """A clause no file declares: its heading in the notice."""
    lookup, text = notice_of(analysis.context)
    if text is None:
        return []
    passage = text.clause_passage(symbol.name)
    if passage is None:
        return []
    start = types.Position(line=passage.line - 1, character=0)
    return [types.Location(uri=from_fs_path(str(lookup.notice.path.resolve())),
                           range=types.Range(start=start, end=start))]
