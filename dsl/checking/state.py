"""What every pass of the checker shares: the file, its predecessor, what is
declared so far, and the diagnostics with the few ways of reporting them."""

from __future__ import annotations

import difflib
from typing import Iterable

from yibao.core.diagnostics import Diagnostic, Severity
from yibao.core.span import Span
from yibao.dsl import ast
from yibao.dsl.model import FieldDef, IdentityDef, LineDef, Policy, Rule


class CheckState:
    """One run of the checker over one file.

    The lists grow pass by pass, in the order ``dsl/checker.py`` runs them: a line
    resolves its identities and fields against what the passes before declared."""

    def __init__(self, tree: ast.PolicyFile, parent: Policy | None):
        self.tree = tree
        self.parent = parent
        self.diagnostics: list[Diagnostic] = []
        self.version = ""   # the policy id: the version every value written here belongs to
        self.identities: list[IdentityDef] = []
        self.fields: list[FieldDef] = []
        self.lines: list[LineDef] = []

    def error(self, code: str, message: str, span: Span, hint: str = "") -> None:
        self.diagnostics.append(Diagnostic(code, Severity.ERROR, message, span, hint))

    def require_citation(self, citation: ast.Citation | None, what: str, span: Span) -> None:
        if citation is None:
            self.error(
                "S205", f"{what} has no citation", span,
                hint="cite the clause it implements, e.g. §(五) \"……\"",
            )

    def rule(self, citation: ast.Citation | None, span: Span) -> Rule:
        return Rule(citation, span, self.version)


def suggest(name: str, known: Iterable[str]) -> str:
    """A hint naming the closest known name, or nothing when none is close."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
    return f"did you mean '{close[0]}'?" if close else ""
