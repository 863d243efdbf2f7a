"""A diff as text for the terminal and for review comments: values, then claims."""

from __future__ import annotations

from yibao.core.span import display_width
from yibao.runtime.evaluate import ClaimResult
from yibao.diff.corpus import CATEGORIES, CHANGED, FAILED_NEW_ONLY, FAILED_OLD_ONLY
from yibao.diff.labels import (
    category_title, claim_heading, divergence_words, listed, money, refusal, side_words, signed,
)
from yibao.diff.report import DiffReport
from yibao.diff.summary import Group


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(width - display_width(text), 0)
    return gap + text if right else text + gap


def table(header: list[str], rows: list[list[str]], indent: str = "  ") -> list[str]:
    """Columns padded by display width (CJK takes two cells); numbers right-aligned."""
    widths = [max(display_width(r[i]) for r in [header] + rows) for i in range(len(header))]
    out = []
    for row in [header] + rows:
        cells = [_pad(cell, widths[i], right=i > 0) for i, cell in enumerate(row)]
        out.append(indent + "  ".join(cells).rstrip())
    return out


def render_text(report: DiffReport, max_claims: int | None = None) -> str:
    out = [f"yibao diff: {report.old.label} → {report.new.label}",
           f"  old: {side_words(report.old)}",
           f"  new: {side_words(report.new)}", ""]
    out += _values(report)
    if report.summary is not None:
        out += [""] + _summary(report)
        out += _claims(report, max_claims)
    return "\n".join(out).rstrip() + "\n"


def _values(report: DiffReport) -> list[str]:
    if not report.values:
        return ["Values: no change"]
    out = [f"Values: {len(report.values)} change(s)"]
    for change in report.values:
        old = change.old if change.old is not None else "（无）"
        new = change.new if change.new is not None else "（无）"
        out.append(f"  {change.kind:<8} {change.where}: {old} → {new}")
        cite = change.new_citation or change.old_citation
        if change.old_citation and change.new_citation and change.old_citation != change.new_citation:
            out.append(f"           was {change.old_citation}")
        if cite:
            version = f" ({change.version})" if change.version else ""
            out.append(f"           {cite}{version}")
    return out


def _group_rows(groups: tuple[Group, ...]) -> list[list[str]]:
    return [[g.name, str(g.claims), money(g.old_total), money(g.new_total), signed(g.change),
             signed(g.mean_change)] for g in groups]


def _summary(report: DiffReport) -> list[str]:
    summary = report.summary
    corpus = f" ({report.corpus_name})" if report.corpus_name else ""
    out = [f"Claims{corpus}: {summary.claims}"]
    out += table(["outcome", "claims"],
                 [[category_title(c, report), str(summary.count(c))] for c in CATEGORIES])
    changed = summary.changed
    out.append(f"  total paid of changed claims: {money(changed.old_total)} → "
               f"{money(changed.new_total)} ({signed(changed.change)}; mean "
               f"{signed(changed.mean_change)}); {summary.increased} up, {summary.decreased} down")
    paid = dict(summary.refused_paid)
    if summary.count(FAILED_NEW_ONLY):
        out.append(f"  paid under {report.old.label} to claims {report.new.label} refuses: "
                   f"{money(paid[FAILED_NEW_ONLY])}")
    if summary.count(FAILED_OLD_ONLY):
        out.append(f"  paid under {report.new.label} to claims {report.old.label} refused: "
                   f"{money(paid[FAILED_OLD_ONLY])}")
    header = ["claims", "old", "new", "change", "mean"]
    if summary.by_identity:
        out += ["", "  Changed claims by identity:"]
        out += table(["identity"] + header, _group_rows(summary.by_identity), "    ")
        out += ["", "  Changed payouts by line:"]
        out += table(["line"] + header, _group_rows(summary.by_line), "    ")
        out += ["", "  Distribution of the change per claim (yuan):"]
        out += table(["change", "claims"], [[label, str(n)] for label, n in summary.buckets],
                     "    ")
    return out


def _claims(report: DiffReport, max_claims: int | None) -> list[str]:
    out: list[str] = []
    for category, claims, shown, more in listed(report, max_claims):
        out += ["", f"Claims {category_title(category, report)}: {len(claims)}"]
        for claim in shown:
            out.append(f"  {claim_heading(claim)}")
            out += ["    " + line for line in _claim_body(claim)]
        if more:
            out.append(f"  … and {more} more (--format json lists every one)")
    return out


def _claim_body(claim) -> list[str]:
    if claim.category != CHANGED:
        return [f"old: {_side(claim.old)}", f"new: {_side(claim.new)}"]
    lines = [f"{c.line}: {money(c.old)} → {money(c.new)} ({signed(c.change)})"
             for c in claim.line_changes() if c.old != c.new]
    old, new = claim.old, claim.new
    lines.append(f"支付合计: {money(old.total_paid)} → {money(new.total_paid)} "
                 f"({signed(claim.change)})")
    if old.identity != new.identity:
        lines.append(f"适用身份: {old.identity} → {new.identity}")
    if old.alerts != new.alerts:
        lines.append(f"预警: {'、'.join(old.alerts) or '无'} → {'、'.join(new.alerts) or '无'}")
    if old.referrals != new.referrals:
        lines.append(f"转办: {'、'.join(old.referrals) or '无'} → "
                     f"{'、'.join(new.referrals) or '无'}")
    return lines + divergence_words(claim)


def _side(outcome) -> str:
    if isinstance(outcome, ClaimResult):
        return f"paid {money(outcome.total_paid)} ({outcome.policy})"
    return refusal(outcome)
