"""Spans (1-based, code points) ↔ LSP positions (0-based, UTF-16 units): lsp/positions.py."""

from __future__ import annotations

from lsprotocol import types

from yibao.core.span import Span
from yibao.lsp.positions import LineIndex

TEXT = "ab\n𠀋低保: 70%\n😀x"


def test_columns_count_utf16_units():
    index = LineIndex(TEXT)
    # 𠀋 (U+2000B) and 😀 (U+1F600) take two units each; 低 and 保 one.
    assert index.position(2, 2) == types.Position(line=1, character=2)     # after 𠀋
    assert index.position(2, 4) == types.Position(line=1, character=4)     # after 𠀋低保
    assert index.position(3, 3) == types.Position(line=2, character=3)     # after 😀x
    # 70% starts at code point 6 (1-based) of its line, after 𠀋低保: and a space:
    # 2 + 1 + 1 + 1 + 1 = 6 units before it, so units 6–9 (0-based, end exclusive).
    assert index.range(Span("f", 2, 6, 2, 9)) == types.Range(
        start=types.Position(line=1, character=6), end=types.Position(line=1, character=9))


def test_positions_back_to_code_points():
    index = LineIndex(TEXT)
    assert index.column(types.Position(line=1, character=2)) == 1
    assert index.column(types.Position(line=1, character=4)) == 3
    # A position inside a surrogate pair belongs to that character.
    assert index.column(types.Position(line=1, character=1)) == 1
    assert index.offset(types.Position(line=2, character=2)) == len("ab\n𠀋低保: 70%\n😀")
    assert index.span_contains(Span("f", 2, 2, 2, 4), types.Position(line=1, character=3))
    assert not index.span_contains(Span("f", 2, 2, 2, 4), types.Position(line=1, character=5))


def test_positions_past_the_end_are_clamped():
    index = LineIndex(TEXT)
    assert index.position(9, 9) == types.Position(line=2, character=3)   # the end
    assert index.end() == types.Position(line=2, character=3)
    assert index.range(Span("f", 0, 0, 0, 0)).start == types.Position(line=0, character=0)
