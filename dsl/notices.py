"""The notice a policy encodes: its ``source`` file, found beside the policy.

``source "notices/benxi-2023.txt"`` names the notice's text relative to the
policy file's folder, so a clone carries the words every citation quotes and
tools (lint, the language server) can read them.  A notice is data like the
policy: it is read as UTF-8 text, bounded in size, and never leaves the
policy's folder (a ``..`` or an absolute path is refused, as ``extends`` is).

A ``source`` that cannot be read is a *warning* (S250), not an error: the
notice is provenance, not input to settlement — every figure a claim needs is
in the policy — so a policy copied without its notice still checks and
settles the same; what is lost is the check of its quotes against the words
of the notice, and the warning says so.
"""

from __future__ import annotations

import pathlib
import re

import attrs

from yibao.core.diagnostics import Diagnostic, Severity
from yibao.core.span import Span
from yibao.dsl import ast

SOURCE_UNREADABLE = "S250"
MAX_NOTICE_BYTES = 2 * 1024 * 1024

# `source "…"` in the header: the AST keeps the string, not where it was written.
_SOURCE_FIELD = re.compile(r'\bsource\s+("(?:[^"\\\n]|\\.)*")')


@attrs.frozen
class Notice:
    """A notice's text and the file it was read from."""

    path: pathlib.Path
    text: str


@attrs.frozen
class NoticeLookup:
    """The notice of one policy file: its text, or why it could not be read."""

    notice: Notice | None
    problem: Diagnostic | None


def notice_path(policy_path: str | pathlib.Path, source: str) -> pathlib.Path:
    return pathlib.Path(policy_path).parent / source


def find_notice(policy_path: str, policy_text: str, header: ast.Header | None) -> NoticeLookup:
    """Read the notice ``header`` names (relative to ``policy_path``); never raises."""
    if header is None or not header.source:
        return NoticeLookup(None, None)
    span = source_span(policy_text, policy_path, header)
    source = header.source
    if pathlib.PurePath(source).is_absolute() or ".." in pathlib.PurePath(source).parts:
        return NoticeLookup(None, _problem(
            f'source "{source}" leaves the policy\'s folder', span,
            "name the notice relative to the policy file, e.g. "
            f'source "notices/{header.policy_id}.txt"'))
    path = notice_path(policy_path, source)
    if not path.is_file():
        return NoticeLookup(None, _problem(
            f'source "{source}" does not exist (looked for {path})', span,
            "put the notice's text there, or correct the path; it is relative to the "
            "policy file's folder, e.g. source \"notices/NAME.txt\""))
    try:
        data = path.read_bytes()[: MAX_NOTICE_BYTES + 1]
    except OSError as error:
        return NoticeLookup(None, _problem(
            f'source "{source}" cannot be read: {error.strerror}', span,
            "make the notice a readable file"))
    if len(data) > MAX_NOTICE_BYTES:
        return NoticeLookup(None, _problem(
            f'source "{source}" is more than {MAX_NOTICE_BYTES} bytes', span,
            "the source is one notice's text"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return NoticeLookup(None, _problem(
            f'source "{source}" is not valid UTF-8', span,
            "save the notice as UTF-8 (GBK files must be converted first)"))
    return NoticeLookup(Notice(path, text), None)


def source_span(policy_text: str, policy_path: str, header: ast.Header) -> Span:
    """Where the header's ``source "…"`` string was written (the header, if not found)."""
    lines = policy_text.splitlines()
    first = max(header.span.line, 1)
    last = header.span.end_line if header.span.end_line >= first else len(lines)
    for number in range(first, min(last, len(lines)) + 1):
        text = lines[number - 1]
        comment = _comment_start(text)
        match = _SOURCE_FIELD.search(text, 0, comment)
        if match is not None:
            start = match.start(1) + 1
            return Span(policy_path, number, start, number, start + len(match.group(1)))
    return Span.point(policy_path, first, max(header.span.column, 1))


def _comment_start(text: str) -> int:
    in_string = False
    for index, char in enumerate(text):
        if char == '"':
            in_string = not in_string
        elif char == "#" and not in_string:
            return index
    return len(text)


def _problem(message: str, span: Span, hint: str) -> Diagnostic:
    return Diagnostic(SOURCE_UNREADABLE, Severity.WARNING,
                      message + ": its quotes cannot be checked against the notice", span, hint)
