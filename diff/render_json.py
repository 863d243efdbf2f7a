"""A diff as JSON for tools: every value change and every claim, money as strings."""

from __future__ import annotations

from yibao.core.money import format_money
from yibao.runtime.evaluate import ClaimResult
from yibao.diff.corpus import ClaimDiff
from yibao.diff.report import DiffReport


def report_to_json(report: DiffReport) -> dict:
    data = {
        "old": report.old.to_json(),
        "new": report.new.to_json(),
        "values": [change.to_json() for change in report.values],
        "changed": report.anything_changed,
    }
    if report.summary is not None:
        data["corpus"] = report.corpus_name
        data["summary"] = report.summary.to_json()
        data["claims"] = [claim_to_json(c) for c in report.corpus.claims
                          if c.category != "unchanged"]
    return data


def claim_to_json(claim: ClaimDiff) -> dict:
    c = claim.claim
    data = {
        "claim_id": c.claim_id, "line": c.line, "person_id": c.person_id, "date": c.date,
        "identities": list(c.identities), "visit": c.visit, "category": claim.category,
        "old": _outcome(claim.old), "new": _outcome(claim.new),
    }
    if claim.category == "changed":
        data["change"] = format_money(claim.change)
        data["lines"] = [{"line": l.line, "old": _money(l.old), "new": _money(l.new),
                          "change": format_money(l.change)}
                         for l in claim.line_changes() if l.old != l.new]
        data["divergence"] = claim.divergence.to_json() if claim.divergence else None
    return data


def _money(amount):
    return None if amount is None else format_money(amount)


def _outcome(outcome) -> dict:
    if isinstance(outcome, ClaimResult):
        return {"policy": outcome.policy, "identity": outcome.identity,
                "payouts": {line: format_money(a) for line, a in outcome.payouts},
                "total_paid": format_money(outcome.total_paid),
                "personal_burden": format_money(outcome.personal_burden),
                "alerts": list(outcome.alerts), "referrals": list(outcome.referrals)}
    return {"error": outcome.code, "field": outcome.field, "message": outcome.message}
