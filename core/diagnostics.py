"""One diagnostic record for the parser, the checker, the linter and claims.

A diagnostic is data first (code, severity, message, span, hint) and is
rendered in one place, three ways: with a source snippet for people, as one
``path:line:col: CODE message`` line for CI, and as JSON for tools.
"""

from __future__ import annotations

import enum
import re
from typing import Iterable, Sequence

import attrs

from yibao.core.span import Span, display_width


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@attrs.frozen
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span
    hint: str = ""
    related: tuple[tuple[str, Span], ...] = ()

    def to_json(self) -> dict:
        data = {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
        }
        if self.hint:
            data["hint"] = self.hint
        if self.related:
            data["related"] = [
                {"message": note, "file": s.file, "line": s.line, "column": s.column}
                for note, s in self.related
            ]
        return data


class PolicyError(Exception):
    """Raised when a policy cannot be parsed, checked or compiled."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = tuple(diagnostics)
        first = self.diagnostics[0] if self.diagnostics else None
        super().__init__(render_concise(first) if first else "policy error")


def render_concise(diagnostic: Diagnostic) -> str:
    return f"{diagnostic.span}: {diagnostic.code} {diagnostic.message}"


# A file with thousands of copies of one mistake is reported by its first ones:
# the rest only repeat them, and listing them all wrote gigabytes (issue 21).
MAX_DIAGNOSTICS_PER_FILE = 200
MORE_DIAGNOSTICS = "S299"

# A line longer than this is quoted once per report, around the first caret.
LONG_LINE = 160


def more_diagnostics(file: str, hidden: int) -> Diagnostic:
    """The note standing for the ``hidden`` diagnostics of ``file`` past the cap."""
    return Diagnostic(
        MORE_DIAGNOSTICS, Severity.INFO,
        f"and {hidden} more diagnostic{'s' if hidden != 1 else ''} in this file, not listed",
        Span.point(file, 1, 1),
        hint="fix the ones listed first: the rest usually repeat them",
    )


def capped(diagnostics: Iterable[Diagnostic],
           limit: int = MAX_DIAGNOSTICS_PER_FILE) -> tuple[Diagnostic, ...]:
    """The first ``limit`` diagnostics of each file, then one note counting the rest."""
    kept: list[Diagnostic] = []
    shown: dict[str, int] = {}
    hidden: dict[str, int] = {}
    for diagnostic in diagnostics:
        file = diagnostic.span.file
        if diagnostic.code == MORE_DIAGNOSTICS:  # already capped upstream: add its count
            hidden[file] = hidden.get(file, 0) + _hidden_count(diagnostic)
        elif shown.get(file, 0) < limit:
            shown[file] = shown.get(file, 0) + 1
            kept.append(diagnostic)
        else:
            hidden[file] = hidden.get(file, 0) + 1
    kept.extend(more_diagnostics(file, count) for file, count in hidden.items() if count)
    return tuple(kept)


_HIDDEN = re.compile(r"and (\d+) more diagnostic")


def _hidden_count(note: Diagnostic) -> int:
    """The count a note made by :func:`more_diagnostics` stands for (lint caps the
    checker's capped list again, and the two counts add up)."""
    match = _HIDDEN.match(note.message)
    return int(match.group(1)) if match else 0


def render_full(diagnostic: Diagnostic, source: str | None) -> str:
    """A diagnostic with the offending line and a caret under the spot, like ruff."""
    lines = source.splitlines() if source is not None else None
    return _render(diagnostic, lines, set())


def _render(diagnostic: Diagnostic, lines: list[str] | None, quoted: set[int]) -> str:
    out = [f"{diagnostic.severity.value}[{diagnostic.code}]: {diagnostic.message}"]
    out.append(f"  --> {diagnostic.span}")
    if lines is not None and diagnostic.span.line > 0 and diagnostic.code != MORE_DIAGNOSTICS:
        out.extend(_snippet(lines, diagnostic.span, quoted))
    for note, span in diagnostic.related:
        out.append(f"  note: {note} ({span})")
    if diagnostic.hint:
        out.append(f"  = hint: {diagnostic.hint}")
    return "\n".join(out)


def _snippet(lines: list[str], span: Span, quoted: set[int]) -> list[str]:
    if span.line > len(lines):
        return []
    text = lines[span.line - 1]
    gutter = str(span.line)
    pad = " " * len(gutter)
    start = 0
    if len(text) > LONG_LINE:
        # A long line is quoted once, around the first spot on it; every other
        # diagnostic on it gives only its column (each quote was 100 KB).
        if span.line in quoted:
            return [f"{pad} | (line {span.line} is quoted above)"]
        quoted.add(span.line)
        start = max(span.column - 1 - LONG_LINE // 2, 0)
        window = text[start:start + LONG_LINE]
        text = ("…" if start else "") + window + ("…" if start + LONG_LINE < len(text) else "")
        start -= 1 if start else 0  # the leading ellipsis takes the place of one character
    column = span.column - start
    before = text[: max(column - 1, 0)]
    if span.end_line == span.line and span.end_column > span.column:
        marked = text[column - 1 : column - 1 + span.end_column - span.column]
    else:
        marked = text[column - 1 : column] or " "
    # CJK characters take two cells: underline by display width, not code points.
    underline = " " * display_width(before) + "^" * max(display_width(marked), 1)
    return [f"{pad} |", f"{gutter} | {text}", f"{pad} | {underline}"]


def render_all(diagnostics: Iterable[Diagnostic], sources: dict[str, str] | None = None) -> str:
    """Every diagnostic with its snippet; each source is split into lines once."""
    sources = sources or {}
    split: dict[str, list[str]] = {}
    quoted: dict[str, set[int]] = {}
    out = []
    for diagnostic in diagnostics:
        file = diagnostic.span.file
        if file not in split and file in sources:
            split[file] = sources[file].splitlines()
        out.append(_render(diagnostic, split.get(file), quoted.setdefault(file, set())))
    return "\n\n".join(out)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)
