"""A diff as Markdown, for a pull request or a review note: tables, then claims."""

from __future__ import annotations

from yibao.runtime.evaluate import ClaimResult
from yibao.diff.corpus import CATEGORIES, CHANGED
from yibao.diff.labels import (
    category_title, claim_heading, divergence_words, listed, money, refusal, side_words, signed,
)
from yibao.diff.report import DiffReport
from yibao.diff.summary import Group


def _cell(text: str | None) -> str:
    return "—" if text is None else text.replace("|", "\\|").replace("\n", " ")


_NUMERIC = {"claims", "old", "new", "change", "mean"}


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table; money and counts right-aligned."""
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---:" if name in _NUMERIC else "---" for name in header) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def render_markdown(report: DiffReport, max_claims: int | None = None) -> str:
    out = [f"## yibao diff: `{report.old.label}` → `{report.new.label}`", "",
           f"- old: {side_words(report.old)}", f"- new: {side_words(report.new)}", ""]
    out += _values(report)
    if report.summary is not None:
        out += [""] + _summary(report) + _claims(report, max_claims)
    return "\n".join(out).rstrip() + "\n"


def _values(report: DiffReport) -> list[str]:
    if not report.values:
        return ["### Values", "", "No value changed."]
    rows = [[c.kind, f"{c.subject}.{c.item}", c.key or "", c.old, c.new,
             c.new_citation or c.old_citation, c.version] for c in report.values]
    out = ["### Values", ""]
    out += ["| change | value | for | old | new | clause | version |",
            "|---|---|---|---|---|---|---|"]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def _groups(name: str, groups: tuple[Group, ...]) -> list[str]:
    rows = [[g.name, str(g.claims), money(g.old_total), money(g.new_total), signed(g.change),
             signed(g.mean_change)] for g in groups]
    return _table([name, "claims", "old", "new", "change", "mean"], rows)


def _summary(report: DiffReport) -> list[str]:
    summary = report.summary
    corpus = f" (`{report.corpus_name}`)" if report.corpus_name else ""
    out = [f"### Claims{corpus}: {summary.claims}", ""]
    out += _table(["outcome", "claims"],
                  [[category_title(c, report), str(summary.count(c))] for c in CATEGORIES])
    changed = summary.changed
    out += ["", f"Total paid of changed claims: {money(changed.old_total)} → "
                f"{money(changed.new_total)} (**{signed(changed.change)}**, mean "
                f"{signed(changed.mean_change)}); {summary.increased} up, "
                f"{summary.decreased} down."]
    if summary.by_identity:
        out += ["", "#### By identity", ""] + _groups("identity", summary.by_identity)
        out += ["", "#### By line", ""] + _groups("line", summary.by_line)
        out += ["", "#### Distribution of the change per claim (yuan)", ""]
        out += _table(["change", "claims"], [[label, str(n)] for label, n in summary.buckets])
    return out


def _claims(report: DiffReport, max_claims: int | None) -> list[str]:
    out: list[str] = []
    for category, claims, shown, more in listed(report, max_claims):
        out += ["", f"### Claims {category_title(category, report)}: {len(claims)}", ""]
        if category == CHANGED:
            out += _changed_table(shown)
        else:
            out += _table(["claim", "old outcome", "new outcome"],
                          [[claim_heading(c), _side(c.old), _side(c.new)] for c in shown])
        if more:
            out += ["", f"… and {more} more (`--format json` lists every one)."]
    return out


def _changed_table(claims) -> list[str]:
    rows = []
    for claim in claims:
        lines = "; ".join(f"{c.line} {money(c.old)} → {money(c.new)}"
                          for c in claim.line_changes() if c.old != c.new)
        first = divergence_words(claim)
        rows.append([claim_heading(claim), lines or "—", signed(claim.change),
                     first[0].removeprefix("first divergence: ") if first else "—"])
    return _table(["claim", "payouts", "change", "first divergence"], rows)


def _side(outcome) -> str:
    if isinstance(outcome, ClaimResult):
        return f"paid {money(outcome.total_paid)}"
    return refusal(outcome)
