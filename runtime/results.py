"""Results in the exchange format of docs/claims.md (money as two-decimal strings)."""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Union

from yibao.runtime.claims import ClaimError
from yibao.core.money import format_money

if TYPE_CHECKING:   # only annotations: writing a batch backend's results needs no evaluator
    from yibao.runtime.evaluate import ClaimResult


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


def outcome_to_json(outcome: Union["ClaimResult", ClaimError], trace: bool = True) -> dict:
    if isinstance(outcome, ClaimError):
        return outcome.to_json()
    return result_to_json(outcome, trace)


def outcome_line(outcome: Union["ClaimResult", ClaimError], trace: bool = True) -> str:
    """``json.dumps(outcome_to_json(outcome, trace), ensure_ascii=False)``, the same text,
    written faster: a JSON Lines result line.

    A trace is the last key of a result, so the line is the result without it and then
    its steps, each step's text kept for the steps a batch repeats: traces share step
    objects (an uncovered line's nodes, the claim's visit, scheme and flags), and
    writing a step's JSON costs more than looking it up.
    """
    head = json.dumps(outcome_to_json(outcome, False), ensure_ascii=False)
    if not trace or isinstance(outcome, ClaimError):
        return head
    steps = ", ".join([_step_text(step) for step in outcome.trace])
    return f'{head[:-1]}, "trace": [{steps}]}}'


@functools.lru_cache(maxsize=2048)   # the steps a batch repeats are a few hundred
def _step_text(step) -> str:
    return json.dumps(step.to_json(), ensure_ascii=False)
