"""Findings and the over-protection report, as text for people and JSON for tools."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from yibao.core.diagnostics import Diagnostic, Severity, render_concise
from yibao.lint.rules import all_rules, rule_by_code
from yibao.lint.runner import INTERNAL_ERROR, FileReport
from yibao.lint.shares import IdentityShare, ProtectionAnalysis, treated_as
from yibao.lint.words import identity_words, money, percent


def findings_text(reports: Sequence[FileReport], hints: bool = True) -> str:
    lines = []
    for report in reports:
        for finding in report.findings:
            lines.append(render_concise(finding))
            if hints and finding.hint:
                lines.append(f"    hint: {finding.hint}")
    return "\n".join(lines)


def summary_text(reports: Sequence[FileReport]) -> str:
    counts = Counter(f.severity for r in reports for f in r.findings)
    total = sum(counts.values())
    files = f"{len(reports)} file{'s' if len(reports) != 1 else ''}"
    if not total:
        return f"All checks passed ({files})."
    return (f"Found {total} finding{'s' if total != 1 else ''} in {files}: "
            f"{counts[Severity.ERROR]} error(s), {counts[Severity.WARNING]} warning(s), "
            f"{counts[Severity.INFO]} info.")


def finding_json(finding: Diagnostic) -> dict:
    data = finding.to_json()
    rule = rule_by_code(finding.code)
    data["rule"] = rule.name if rule else ("internal-error" if finding.code == INTERNAL_ERROR
                                           else "")
    return data


def rules_text() -> str:
    return "\n".join(f"{r.rule.code}  {r.rule.name:<28} {r.rule.severity.value:<8} "
                     f"{r.rule.summary}" for r in all_rules())


# ---- over-protection report ---------------------------------------------------------


def shares_text(path: str, analysis: ProtectionAnalysis, ceiling) -> str:
    policy = analysis.policy
    out = [f"{path}: {policy.policy_id}, the largest share of the in-scope cost the lines "
           f"can pay on one claim in a fresh year (ceiling {percent(ceiling)})"]
    for share in analysis.shares:
        out.extend("  " + line for line in identity_lines(policy, share, ceiling))
    return "\n".join(out)


def identity_lines(policy, share: IdentityShare, ceiling) -> list[str]:
    """One identity's over-protection summary (``--shares``; the editor's hover too)."""
    name = identity_words(share.identity)
    others = treated_as(policy, share.identity) if share.identity else []
    if others:
        name += f" (and {', '.join(others)}, treated as it)"
    if share.assistance is None:
        lines = [f"{name}: no line of the policy pays it"]
    else:
        lines = [f"{name}: assistance share {_reached(share.assistance, share.assistance_scenario)}",
                 "    combined share: " + _combined_words(share, ceiling)]
    for line, word in share.unknown:
        lines.append(f"    not analysed: {line} ({word} unspecified)")
    return lines


def _reached(extreme, scenario) -> str:
    figure = percent(extreme.share)
    if not extreme.reached:
        start = money(extreme.settlement.burden) if extreme.settlement else "0"
        return f"{figure}, approached as the burden grows beyond {start} ({scenario.describe()})"
    if extreme.first_piece:
        return f"{figure}, reached from the first yuan of burden ({scenario.describe()})"
    return f"{figure}, reached at a burden of {money(extreme.settlement.burden)} " \
           f"({scenario.describe()})"


def _combined_words(share: IdentityShare, ceiling) -> str:
    alpha = share.assistance
    if alpha.share >= 1 and alpha.reached:
        return "100.00% whatever the upstream lines pay"
    text = f"s + (1 − s) × {percent(alpha.share)} with upstream lines paying a share s"
    if share.upstream_share:
        text += (f"; at s = {percent(share.upstream_share)}: "
                 f"{_reached(share.combined, share.combined_scenario)}")
    passing = share.upstream_share_passing(ceiling)
    if passing is None and alpha.share > ceiling:
        return text + f"; above {percent(ceiling)} whatever the upstream lines pay"
    if passing is not None:
        return text + (f"; above {percent(ceiling)} once the upstream lines pay more than "
                       f"{percent(passing)} of the in-scope cost")
    return text + "; the policy's ratio ceiling applies"


def shares_json(analysis: ProtectionAnalysis, ceiling) -> list[dict]:
    return [_share_json(analysis.policy, share, ceiling) for share in analysis.shares]


def _share_json(policy, share: IdentityShare, ceiling) -> dict:
    passing = share.upstream_share_passing(ceiling)
    return {
        "identity": identity_words(share.identity),
        "treated_as_it": treated_as(policy, share.identity) if share.identity else [],
        "assistance_share": _extreme_json(share.assistance, share.assistance_scenario),
        "upstream_share": str(share.upstream_share),
        "combined_share": _extreme_json(share.combined, share.combined_scenario),
        "upstream_share_passing_ceiling": str(passing) if passing is not None else None,
        "not_analysed": [{"line": line, "value": word} for line, word in share.unknown],
    }


def _extreme_json(extreme, scenario) -> dict | None:
    if extreme is None:
        return None
    settlement = extreme.settlement
    return {
        "share": str(extreme.share),
        "percent": percent(extreme.share),
        "reached": extreme.reached,
        "from_first_yuan": extreme.first_piece,
        "burden": str(settlement.burden) if settlement else None,
        "burden_yuan": money(settlement.burden) if settlement else None,
        "payouts": {line: money(amount) for line, amount in settlement.payouts}
        if settlement else {},
        "visit": scenario.visit,
        "fields": dict(scenario.fields),
    }
