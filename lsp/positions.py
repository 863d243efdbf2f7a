"""Positions between the project's spans and LSP's.

A :class:`~yibao.core.span.Span` counts lines and columns from 1, columns in
code points (Lark's count).  LSP counts both from 0 and, by default, columns
in UTF-16 code units: a Chinese character is one unit, a character outside
the Basic Multilingual Plane (𠀋, 😀) two.  Every range the server sends goes
through here, so an editor underlines exactly the characters a diagnostic
names.
"""

from __future__ import annotations

from lsprotocol import types

from yibao.core.span import Span


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class LineIndex:
    """A document's lines, for converting columns both ways."""

    def __init__(self, text: str):
        self.text = text
        self.lines = text.split("\n")
        offsets = [0]
        for line in self.lines:
            offsets.append(offsets[-1] + len(line) + 1)
        self.offsets = offsets

    def line(self, number: int) -> str:
        """Line ``number`` (from 0), without its end of line; '' past the end."""
        if 0 <= number < len(self.lines):
            return self.lines[number].rstrip("\r")
        return ""

    # ---- span (1-based code points) → LSP (0-based UTF-16) ------------------------
    def position(self, line: int, column: int) -> types.Position:
        """1-based line and code-point column → an LSP position."""
        row = max(line - 1, 0)
        if row >= len(self.lines):
            return self.end()          # past the end (a file that ends too early): its end
        text = self.line(row)
        points = min(max(column - 1, 0), len(text))
        return types.Position(line=row, character=utf16_length(text[:points]))

    def range(self, span: Span) -> types.Range:
        if span.line <= 0:
            return types.Range(types.Position(line=0, character=0),
                               types.Position(line=0, character=0))
        start = self.position(span.line, span.column)
        end_line = span.end_line if span.end_line >= span.line else span.line
        end_column = span.end_column if (end_line, span.end_column) > (span.line, span.column) \
            else span.column + 1
        end = self.position(end_line, end_column)
        return types.Range(start, end)

    # ---- LSP → code points -----------------------------------------------------------
    def column(self, position: types.Position) -> int:
        """An LSP position's column in code points (from 0) on its line."""
        text = self.line(position.line)
        units = 0
        for index, char in enumerate(text):
            if units >= position.character:
                return index
            units += 2 if ord(char) > 0xFFFF else 1
        return len(text)

    def offset(self, position: types.Position) -> int:
        """An LSP position as an offset (code points) into the text."""
        line = min(max(position.line, 0), len(self.lines) - 1)
        return self.offsets[line] + self.column(types.Position(line=line,
                                                               character=position.character))

    def span_contains(self, span: Span, position: types.Position) -> bool:
        """Does ``span`` (1-based, code points) cover this LSP position?"""
        line, column = position.line + 1, self.column(position) + 1
        if span.line <= 0 or line < span.line or line > span.end_line:
            return False
        if line == span.line and column < span.column:
            return False
        if line == span.end_line and column > span.end_column:
            return False
        return True

    def end(self) -> types.Position:
        last = len(self.lines) - 1
        return types.Position(line=last, character=utf16_length(self.lines[last]))
