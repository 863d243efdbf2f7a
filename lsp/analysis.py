"""One version of an open document: parsed, checked, compiled and linted, once.

Every request on a document reads the same :class:`Analysis` until the next
edit; a new version is analysed on the first request that needs it.  The
linter's context already never raises on a bad file (a half-typed file gives
its parser or checker diagnostic and the rest of what can be served); the
analysis adds what an editor needs on top: the symbols of the file, the
version the file ``extends`` (cached by its file's modification time, so an
edit re-reads only the buffer), and one diagnostic at ``extends`` when that
version is not beside the file.
"""

from __future__ import annotations

import functools
import pathlib
import re

import attrs

from yibao.core.diagnostics import Diagnostic, Severity
from yibao.dsl.comments import Comment
from yibao.dsl.loader import LoadedPolicy, load_policy
from yibao.lint.config import LintConfig, discover_config
from yibao.lint.context import LintContext
from yibao.lint.runner import lint_context
from yibao.lsp.positions import LineIndex
from yibao.lsp.symbols import POLICY, Symbol, symbols

MISSING_BASE = "S230"


class EditorContext(LintContext):
    """The linter's context, built for an edit a keystroke: the predecessor read once
    per change of its file, and the comments scanned instead of parsed again."""

    FIX_PARENT_HINT = "open {candidate} and fix it first"

    @functools.cached_property
    def protection(self):
        """The over-protection analysis, shared by edits that leave the policy's meaning
        as it was (a comment, a blank line); its findings take their spans from the tree."""
        return _protection(self.policy, self.config.upstream_share)

    def _comments(self) -> tuple[Comment, ...]:
        # Scanned, not parsed: a second Lark parse (dsl/comments.py) is half the time of
        # an edit on a 10 KB policy.
        return scan_comments(self.source)

    def _load_parent(self, path: pathlib.Path) -> LoadedPolicy:
        return load_parent(path)   # read again only when its file changes


def scan_comments(source: str) -> tuple[Comment, ...]:
    """The ``# …`` comments of a file that parses, as dsl/comments.py finds them.

    Exact for such a file: in the grammar ``#`` can start nothing but a comment
    outside a string (CITE and NAME exclude it), and a string is ``"…"`` on one
    line with backslash escapes.
    """
    found = []
    for number, line in enumerate(source.split("\n"), 1):
        in_string = escaped = False
        for index, char in enumerate(line):
            if in_string:
                if escaped:
                    escaped = False
                elif char == "\\":
                    escaped = True
                elif char == '"':
                    in_string = False
            elif char == '"':
                in_string = True
            elif char == "#":
                found.append(Comment(number, index + 1, line[index:].rstrip(),
                                     not line[:index].strip()))
                break
    return tuple(found)


@functools.lru_cache(maxsize=8)
def _protection(policy, upstream_share):
    from yibao.lint.shares import ProtectionAnalysis

    return ProtectionAnalysis(policy, upstream_share)


def load_parent(path: pathlib.Path) -> LoadedPolicy:
    stat = path.stat()
    return _load_parent(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=32)
def _load_parent(path: str, mtime_ns: int, size: int) -> LoadedPolicy:
    return load_policy(path)


@functools.lru_cache(maxsize=32)
def config_for(folder: str) -> LintConfig:
    try:
        return discover_config(pathlib.Path(folder))
    except Exception:  # noqa: BLE001 - a broken pyproject must not stop the editor
        return LintConfig()


class Analysis:
    """One version of a document and everything the features read about it."""

    def __init__(self, uri: str, path: str, version: int | None, text: str,
                 context: EditorContext, findings: tuple[Diagnostic, ...]):
        self.uri, self.path, self.version, self.text = uri, path, version, text
        self.index = LineIndex(text)
        self.context = context
        self.findings = findings

    @functools.cached_property
    def symbols(self) -> tuple[Symbol, ...]:
        """Every name of the file (computed on the first request that needs them)."""
        return tuple(symbols(self.context.tree, self.text)) if self.context.tree else ()

    @property
    def tree(self):
        return self.context.tree

    @property
    def policy(self):
        """The checked policy (revisions applied), or None when it does not check."""
        return self.context.policy or (self.context.check.policy if self.context.check
                                       and self.context.check.ok else None)


def analyse(uri: str, path: str, text: str, version: int | None = None,
            config: LintConfig | None = None) -> Analysis:
    """Analyse one document's text; never raises for any text."""
    settings = config if config is not None else config_for(str(pathlib.Path(path).parent))
    context = EditorContext(path, text, settings)
    findings = _original_codes(lint_context(context), context.diagnostics)
    analysis = Analysis(uri, path, version, text, context, ())
    if context.base_missing:
        findings.append(_missing_base(context, list(analysis.symbols)))
    analysis.findings = tuple(findings)
    return analysis


def _missing_base(context: EditorContext, found: list[Symbol]) -> Diagnostic:
    at = next((s.span for s in found if s.kind == POLICY and s.role == "extends"),
              context.header_span())
    name = context.base_missing
    return Diagnostic(
        MISSING_BASE, Severity.WARNING,
        f"extends {name}, but {name}.policy is not beside this file: the values it gives "
        "are unspecified here, and evaluating a claim is refused",
        at, hint=f"put {name}.policy in the same folder (the rest of this file is checked)")


_CONVERTED = re.compile(r" \(([PS]\d{3})\)$")


def _original_codes(findings, originals) -> list[Diagnostic]:
    """Lint reports the parser's and checker's diagnostics under lint codes (L001,
    L108 …, the code in brackets); the editor shows the parser's or checker's own."""
    by_text = {(f"{d.message} ({d.code})", d.span.line, d.span.column): d for d in originals}
    out = []
    for finding in findings:
        original = by_text.get((finding.message, finding.span.line, finding.span.column))
        if original is not None:
            finding = attrs.evolve(finding, code=original.code, message=original.message)
        out.append(finding)
    return out
