"""One diagnostic record for the parser, the checker, the linter and claims.

A diagnostic is data first (code, severity, message, span, hint) and is
rendered in one place, three ways: with a source snippet for people, as one
``path:line:col: CODE message`` line for CI, and as JSON for tools.
"""

from __future__ import annotations

import enum
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


def render_full(diagnostic: Diagnostic, source: str | None) -> str:
    """A diagnostic with the offending line and a caret under the spot, like ruff."""
    out = [f"{diagnostic.severity.value}[{diagnostic.code}]: {diagnostic.message}"]
    out.append(f"  --> {diagnostic.span}")
    if source is not None and diagnostic.span.line > 0:
        out.extend(_snippet(source, diagnostic.span))
    for note, span in diagnostic.related:
        out.append(f"  note: {note} ({span})")
    if diagnostic.hint:
        out.append(f"  = hint: {diagnostic.hint}")
    return "\n".join(out)


def _snippet(source: str, span: Span) -> list[str]:
    lines = source.splitlines()
    if span.line > len(lines):
        return []
    text = lines[span.line - 1]
    gutter = str(span.line)
    pad = " " * len(gutter)
    before = text[: max(span.column - 1, 0)]
    if span.end_line == span.line and span.end_column > span.column:
        marked = text[span.column - 1 : span.end_column - 1]
    else:
        marked = text[span.column - 1 : span.column] or " "
    # CJK characters take two cells: underline by display width, not code points.
    underline = " " * display_width(before) + "^" * max(display_width(marked), 1)
    return [f"{pad} |", f"{gutter} | {text}", f"{pad} | {underline}"]


def render_all(diagnostics: Iterable[Diagnostic], sources: dict[str, str] | None = None) -> str:
    sources = sources or {}
    return "\n\n".join(render_full(d, sources.get(d.span.file)) for d in diagnostics)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)
