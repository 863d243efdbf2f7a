"""What a lint rule is: a stable code, a name, a default severity and a check.

Each rule lives in its own module under :mod:`yibao.lint.rules` with a
``RULE`` and a ``check(context)`` that yields findings.  A finding is the
project's one :class:`~yibao.core.diagnostics.Diagnostic`: code, severity,
message, span (file:line:col) and hint.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Callable, Iterable

import attrs

from yibao.core.diagnostics import Diagnostic, Severity
from yibao.core.span import Span

if TYPE_CHECKING:
    from yibao.lint.context import LintContext


class Needs(enum.Enum):
    """What a rule reads: the parse tree, or the checked policy (the checker accepted it)."""

    SOURCE = "source"
    TREE = "tree"
    POLICY = "policy"


@attrs.frozen
class Rule:
    code: str
    name: str
    severity: Severity
    category: str
    summary: str
    needs: Needs = Needs.POLICY
    # Codes of the parser or checker whose diagnostics this rule reports as its own.
    takes_over: tuple[str, ...] = ()
    hint: str = ""   # for findings that bring no hint of their own

    def finding(self, message: str, span: Span, hint: str = "",
                related: tuple[tuple[str, Span], ...] = ()) -> Diagnostic:
        return Diagnostic(self.code, self.severity, message, span, hint or self.hint, related)


@attrs.frozen
class RegisteredRule:
    rule: Rule
    check: Callable[["LintContext"], Iterable[Diagnostic]]
