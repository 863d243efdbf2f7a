"""Everything the rules read about one policy file, built once, never raising.

The file is parsed, its predecessor (``extends``) loaded when it is beside it,
and the result checked and compiled.  Whatever fails becomes a diagnostic of
the parser or checker, kept for the runner to report as findings; the rules
that need a checked policy then do not run.
"""

from __future__ import annotations

import functools
import pathlib
from typing import TYPE_CHECKING

from yibao.core.diagnostics import Diagnostic, PolicyError, Severity
from yibao.core.span import Span
from yibao.dsl import ast
from yibao.dsl.checker import CheckResult, check_policy
from yibao.dsl.comments import Comment, parse_with_comments
from yibao.dsl.loader import LoadedPolicy, load_policy, source_sha256
from yibao.dsl.model import Policy
from yibao.dsl.parser import parse_policy
from yibao.lint.config import LintConfig

if TYPE_CHECKING:   # the compiler is imported when a policy checks (_compile)
    from yibao.compiler.graph import EvaluationGraph


class LintContext:
    FIX_PARENT_HINT = "lint {candidate} first"   # when the predecessor does not check

    def __init__(self, path: str, source: str, config: LintConfig):
        self.path = path
        self.source = source
        self.config = config
        self.diagnostics: list[Diagnostic] = []   # the parser's and checker's
        self.tree: ast.PolicyFile | None = None
        self.comments: tuple[Comment, ...] = ()
        self.parent: Policy | None = None
        self.parent_loaded: LoadedPolicy | None = None   # every version of the predecessor
        self.base_missing: str | None = None   # the version ``extends`` names, when not beside
        self.check: CheckResult | None = None
        self.policy: Policy | None = None
        self.graph: EvaluationGraph | None = None   # the compiled policy, which lint visits
        self._build()

    def _build(self) -> None:
        try:
            self.tree = parse_policy(self.source, self.path)
        except PolicyError as error:
            self.diagnostics.extend(error.diagnostics)
            return
        self.comments = self._comments()
        self.parent = self._parent()
        self.check = check_policy(self.tree, self.parent, source_sha256(self.source))
        self.diagnostics.extend(self.check.diagnostics)
        if self.check.ok:
            self.policy = self.check.policy
            self._compile()

    def _comments(self) -> tuple[Comment, ...]:
        _, comments = parse_with_comments(self.source)
        return comments

    def _parent(self) -> Policy | None:
        header = self.tree.header
        if header is None or not header.extends:
            return None
        candidate = pathlib.Path(self.path).parent / f"{header.extends}.policy"
        if not candidate.is_file():
            self.base_missing = header.extends
            return None   # a standalone revision: the checker marks what it waits for
        try:
            self.parent_loaded = self._load_parent(candidate)
        except PolicyError as error:
            first = error.diagnostics[0]
            self.diagnostics.append(Diagnostic(
                "S223", Severity.ERROR,
                f"extends {header.extends}, which does not check: {first.message}",
                header.span, hint=self.FIX_PARENT_HINT.format(candidate=candidate)))
            return None
        return self.parent_loaded.latest

    def _load_parent(self, path: pathlib.Path) -> LoadedPolicy:
        return load_policy(path)

    def _compile(self) -> None:
        from yibao.compiler.lower import lower_policy

        try:
            self.graph = lower_policy(self.policy)
        except (PolicyError, ValueError) as error:
            diagnostics = getattr(error, "diagnostics", None) or (Diagnostic(
                "S200", Severity.ERROR, f"the policy does not compile: {error}",
                self.tree.span),)
            self.diagnostics.extend(diagnostics)
            self.policy = None

    # ---- what several rules share ------------------------------------------------
    @functools.cached_property
    def protection(self):
        """The over-protection analysis of the checked policy (scenarios and shares)."""
        from yibao.lint.shares import ProtectionAnalysis

        return ProtectionAnalysis(self.policy, self.config.upstream_share, self.graph)

    def own(self, span: Span) -> bool:
        """Was this written in the file being linted (not inherited from its predecessor)?"""
        return span.file == self.path

    def header_span(self) -> Span:
        header = self.tree.header if self.tree is not None else None
        return header.span if header is not None else Span.point(self.path, 1, 1)

    def line_span(self, name: str) -> Span:
        """Where this file states a line: its definition or amendment, else the header."""
        for item in self.tree.items:
            if isinstance(item, (ast.ComputedLine, ast.UpstreamLine)) and item.name.text == name:
                return item.name.span
            if isinstance(item, ast.Amendment) and item.target.text == name:
                return item.target.span
        return self.header_span()

    def identity_span(self, name: str | None) -> Span:
        for item in self.tree.of_type(ast.Identity):
            if item.name.text == name:
                return item.name.span
        return self.header_span()
