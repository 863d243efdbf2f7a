"""Suppression comments: ``# yibao: disable=L104 reason`` and ``disable-file=``.

``disable=`` at the end of a line hides those codes' findings on that line; on
a line of its own it applies to the next line of code.  ``disable-file=``
anywhere hides them in the whole file.  The words after the codes say why,
and are expected: a suppression is a reviewed decision, not a mute button.
"""

from __future__ import annotations

import re

import attrs

from yibao.core.diagnostics import Diagnostic
from yibao.core.span import Span
from yibao.dsl.comments import Comment

_DIRECTIVE = re.compile(
    r"yibao:\s*(?P<kind>disable-file|disable)\s*=\s*"
    r"(?P<codes>[A-Za-z]+\d+(?:\s*,\s*[A-Za-z]+\d+)*)(?P<reason>.*)$")


@attrs.frozen
class Suppression:
    span: Span                 # the comment
    target_line: int | None    # None: the whole file
    codes: tuple[str, ...]
    reason: str

    def hides(self, finding: Diagnostic) -> bool:
        return finding.code in self.codes and (
            self.target_line is None or self.target_line == finding.span.line)


def read_suppressions(comments: tuple[Comment, ...], source: str, path: str) -> tuple[Suppression, ...]:
    lines = source.splitlines()
    found = []
    for comment in comments:
        match = _DIRECTIVE.search(comment.text)
        if match is None:
            continue
        codes = tuple(code.strip().upper() for code in match["codes"].split(","))
        reason = match["reason"].strip(" \t-—–:;,.")
        if match["kind"] == "disable-file":
            target = None
        elif comment.own_line:
            target = _next_code_line(lines, comment.line)
        else:
            target = comment.line
        span = Span(path, comment.line, comment.column, comment.line,
                    comment.column + len(comment.text))
        found.append(Suppression(span, target, codes, reason))
    return tuple(found)


def _next_code_line(lines: list[str], after: int) -> int | None:
    for number in range(after + 1, len(lines) + 1):
        text = lines[number - 1].strip()
        if text and not text.startswith("#"):
            return number
    return None
