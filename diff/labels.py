"""Words shared by the text and Markdown renderings of a diff."""

from __future__ import annotations

from decimal import Decimal

from yibao.core.money import format_amount_words
from yibao.runtime.claims import ClaimError
from yibao.diff.corpus import (
    CHANGED, FAILED_BOTH, FAILED_NEW_ONLY, FAILED_OLD_ONLY, UNCHANGED, ClaimDiff,
)
from yibao.diff.report import DiffReport
from yibao.diff.sides import Side


def side_words(side: Side) -> str:
    policy = side.policy
    if side.pinned_to is not None:
        return (f"{policy.policy_id} (in force on {side.pinned_to}, from {policy.effective}); "
                f"every claim settled under this version")
    chain = " → ".join(p.policy_id for p in side.loaded.versions)
    return f"{policy.policy_id} (versions {chain}); each claim under the version of its date"


def category_title(category: str, report: DiffReport) -> str:
    return {
        CHANGED: "changed",
        UNCHANGED: "unchanged",
        FAILED_OLD_ONLY: f"refused only under old ({report.old.label}), settled under new",
        FAILED_NEW_ONLY: f"refused only under new ({report.new.label}), settled under old",
        FAILED_BOTH: "refused under both",
    }[category]


def signed(amount: Decimal) -> str:
    text = format_amount_words(amount)
    return text if amount < 0 else f"+{text}"


def money(amount: Decimal | None) -> str:
    return "—" if amount is None else format_amount_words(amount)


def claim_heading(claim: ClaimDiff) -> str:
    c = claim.claim
    identities = "、".join(c.identities) or "无身份"
    parts = [c.claim_id or "?", f"line {c.line}", c.person_id or "?", c.date or "?",
             c.visit or "?", identities]
    return " · ".join(parts)


# The order claims are listed in: what moved money first, then refusals.
LISTED = (CHANGED, FAILED_NEW_ONLY, FAILED_OLD_ONLY, FAILED_BOTH)


def listed(report: DiffReport, max_claims: int | None):
    """(category, its claims, the claims shown, how many more) for each non-empty category."""
    for category in LISTED:
        claims = report.corpus.of_category(category)
        if claims:
            shown = claims if max_claims is None else claims[:max_claims]
            yield category, claims, shown, len(claims) - len(shown)


def refusal(outcome: ClaimError) -> str:
    field = f" ({outcome.field})" if outcome.field else ""
    return f"{outcome.code}{field} {outcome.message}"


def divergence_words(claim: ClaimDiff) -> list[str]:
    d = claim.divergence
    if d is None:
        return []
    who = f" [{d.candidate}]" if d.candidate else ""
    old = d.old_value if d.old_value is not None else "（无此步）"
    new = d.new_value if d.new_value is not None else "（无此步）"
    words = [f"first divergence: {d.label}{who} ({d.node}): {old} → {new}"]
    clauses = [f"§{c}" for c in (d.old_clause, d.new_clause) if c]
    versions = [v for v in (d.old_version, d.new_version) if v]
    if clauses or versions:
        clause = " → ".join(dict.fromkeys(clauses))
        version = " → ".join(versions)
        words.append(f"  {clause}{' (' + version + ')' if version else ''}".rstrip())
    for side, formula in (("old", d.old_formula), ("new", d.new_formula)):
        if formula:
            words.append(f"  {side}: {formula}")
    return words
