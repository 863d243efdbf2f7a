"""Lint files: run every rule, report the parser's and checker's diagnostics as
findings with lint codes, apply the settings and suppressions, sort.

Lint never stops on a bad policy: what the parser or checker rejects is a
finding (L001, L002 or the rule that covers it), and a rule that fails is
reported as L000 rather than ending the run.
"""

from __future__ import annotations

import pathlib
from typing import Iterable, Sequence

import attrs

from yibao.core.diagnostics import MORE_DIAGNOSTICS, Diagnostic, PolicyError, Severity, capped
from yibao.dsl.limits import read_bounded_text
from yibao.lint.config import LintConfig, discover_config
from yibao.lint.context import LintContext
from yibao.lint.registry import Needs, RegisteredRule
from yibao.lint.rules import all_rules, rule_by_code
from yibao.lint.suppress import read_suppressions

INTERNAL_ERROR = "L000"


@attrs.frozen
class FileReport:
    path: str
    findings: tuple[Diagnostic, ...]
    context: LintContext | None = attrs.field(default=None, eq=False)

    @property
    def has_errors(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)


def lint_paths(paths: Sequence[pathlib.Path], config: LintConfig | None = None) -> list[FileReport]:
    """Lint each file (settings from the nearest pyproject.toml unless ``config`` is given)."""
    reports = []
    for path in paths:
        settings = config if config is not None else discover_config(path)
        reports.append(lint_file(path, settings))
    return reports


def lint_file(path: pathlib.Path, config: LintConfig) -> FileReport:
    try:
        source = read_bounded_text(path)
    except PolicyError as error:
        return FileReport(str(path), tuple(converted(error.diagnostics)))
    context = LintContext(str(path), source, config)
    return FileReport(str(path), lint_context(context), context)


def lint_source(source: str, path: str, config: LintConfig) -> tuple[Diagnostic, ...]:
    """The findings of one policy's text (``path`` names it, and locates its predecessor)."""
    return lint_context(LintContext(path, source, config))


def lint_context(context: LintContext) -> tuple[Diagnostic, ...]:
    source, path, config = context.source, context.path, context.config
    disabled = config.disabled_for(path)
    binding = list(converted(d for d in context.diagnostics if d.severity is Severity.ERROR))
    findings = list(converted(d for d in context.diagnostics if d.severity is not Severity.ERROR))
    for registered in all_rules():
        if registered.rule.code not in disabled and _can_run(registered, context):
            findings.extend(_run(registered, context))
    # A rule that finds on its own what the checker also rejects reports it once.
    binding_at = {(f.code, f.span.line, f.span.column) for f in binding}
    findings = [_with_severity(f, config) for f in _unique(findings)
                if f.code not in disabled and (f.code, f.span.line, f.span.column) not in binding_at]
    suppressions = read_suppressions(context.comments, source, path)
    kept = [f for f in findings if not any(s.hides(f) for s in suppressions)]
    # On a file the parser or checker rejects, the rules that need the checked
    # policy did not run: a suppression hiding nothing proves nothing there.
    kept.extend(_suppression_findings(suppressions, findings, disabled,
                                      complete=not binding and context.policy is not None))
    # What makes the checker reject the file is never hidden, whatever the settings.
    kept.extend(binding)
    ordered = sorted(_unique(kept), key=lambda f: (f.span.line, f.span.column, f.code))
    return capped(ordered)


def converted(diagnostics: Iterable[Diagnostic]) -> Iterable[Diagnostic]:
    """The parser's and checker's diagnostics under the lint code of the rule covering them."""
    owners = {code: r.rule for r in all_rules() for code in r.rule.takes_over}
    for diagnostic in diagnostics:
        if diagnostic.code == MORE_DIAGNOSTICS:  # the checker's count of what it did not list
            yield diagnostic
            continue
        rule = owners.get(diagnostic.code) or rule_by_code(
            "L001" if diagnostic.code.startswith("P") else "L002")
        yield attrs.evolve(diagnostic, code=rule.code,
                           message=f"{diagnostic.message} ({diagnostic.code})",
                           hint=diagnostic.hint or rule.hint)


def _can_run(registered: RegisteredRule, context: LintContext) -> bool:
    needs = registered.rule.needs
    if needs is Needs.TREE:
        return context.tree is not None
    if needs is Needs.POLICY:
        return context.policy is not None
    return True


def _run(registered: RegisteredRule, context: LintContext) -> list[Diagnostic]:
    try:
        return list(registered.check(context))
    except Exception as error:  # noqa: BLE001 - one failing rule must not stop the others
        return [Diagnostic(
            INTERNAL_ERROR, Severity.ERROR,
            f"rule {registered.rule.code} ({registered.rule.name}) failed: "
            f"{type(error).__name__}: {error}",
            context.header_span(), hint="this is a bug in yibao lint; please report it")]


def _with_severity(finding: Diagnostic, config: LintConfig) -> Diagnostic:
    severity = dict(config.severity).get(finding.code)
    return attrs.evolve(finding, severity=severity) if severity else finding


def _unique(findings: Iterable[Diagnostic]) -> list[Diagnostic]:
    seen = set()
    out = []
    for finding in findings:
        key = (finding.code, finding.span.file, finding.span.line, finding.span.column,
               finding.message)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out


def _suppression_findings(suppressions, findings: list[Diagnostic], disabled,
                          complete: bool = True) -> list[Diagnostic]:
    unused_rule = rule_by_code("L003")
    reasonless_rule = rule_by_code("L004")
    out = []
    for suppression in suppressions:
        for code in suppression.codes:
            if rule_by_code(code) is None and code != INTERNAL_ERROR:
                out.append(unused_rule.finding(
                    f"the suppression names {code}, which is no lint rule", suppression.span,
                    hint="see `yibao lint --rules` for the codes"))
            elif complete and code not in disabled and not any(
                    suppression.hides(f) for f in findings if f.code == code):
                out.append(unused_rule.finding(
                    f"the suppression of {code} hides nothing"
                    + (" on this line" if suppression.target_line else " in this file"),
                    suppression.span, hint="remove it, or move it to the line of the finding"))
        if not suppression.reason:
            out.append(reasonless_rule.finding(
                "the suppression does not say why", suppression.span,
                hint="add the reason after the codes, e.g. "
                     "`# yibao: disable=L202 §(五) pays 特困人员 100%`"))
    return [f for f in out if f.code not in disabled]
