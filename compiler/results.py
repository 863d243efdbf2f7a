"""Results in the exchange format of DOMAIN.md §5 (money as two-decimal strings)."""

from __future__ import annotations

from typing import Union

from yibao.compiler.claims import ClaimError
from yibao.compiler.evaluate import ClaimResult
from yibao.core.money import format_money


def result_to_json(result: ClaimResult, trace: bool = True) -> dict:
    data = {
        "claim_id": result.claim_id,
        "policy": result.policy,
        "identity": result.identity,
        "payouts": {line: format_money(amount) for line, amount in result.payouts},
        "total_paid": format_money(result.total_paid),
        "personal_burden": format_money(result.personal_burden),
        "alerts": list(result.alerts),
        "referrals": list(result.referrals),
    }
    if trace:
        data["trace"] = [step.to_json() for step in result.trace]
    return data


def outcome_to_json(outcome: Union[ClaimResult, ClaimError], trace: bool = True) -> dict:
    if isinstance(outcome, ClaimError):
        return outcome.to_json()
    return result_to_json(outcome, trace)
