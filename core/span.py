"""Source positions: where in a policy file a construct was written."""

from __future__ import annotations

import unicodedata

import attrs


@attrs.frozen
class Span:
    """A range in a source file; lines and columns count from 1 (columns in code points)."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    @classmethod
    def point(cls, file: str, line: int, column: int) -> "Span":
        return cls(file, line, column, line, column + 1)


NO_SPAN = Span("<none>", 0, 0, 0, 0)


def display_width(text: str) -> int:
    """Terminal cells taken by ``text``: a CJK character takes two (Lark counts one)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
