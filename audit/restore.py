"""A recorded outcome read back: trace steps, the result, the claim, for the renderers.

The inverse of :mod:`yibao.runtime.results` for what a record holds: the
renderers in :mod:`yibao.explain` take a :class:`ClaimResult`, the
:class:`Claim` and the :class:`Policy` version that settled it.  A record of
format ``yibao-audit/1`` or ``/2`` holds its trace and is shown exactly as it
was made, without evaluating; a ``/3`` or ``/4`` record holds its figures only, and
its trace is derived again (audit/rederive.py) and checked against them.
JSON objects are unordered: a step's inputs come back ordered by name.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Union

import attrs

from yibao.audit.book import claim_object
from yibao.audit.policies import PolicyRef, load_stored_policy
from yibao.audit.chain import UNTRACED_FORMATS
from yibao.audit.record import claim_bytes
from yibao.audit.rederive import rederive, same_settlement
from yibao.audit.store import AuditError, AuditStore
from yibao.runtime.admission import validate_claim
from yibao.runtime.batch import Engine
from yibao.runtime.claims import Claim, ClaimError, decode_claim_line
from yibao.runtime.evaluate import ClaimResult
from yibao.runtime.facts import RecordedWords, facts_from_json
from yibao.runtime.trace import Step
from yibao.dsl.model import Policy


def step_from_json(data: dict) -> Step:
    """A step as its trace JSON holds it: its facts (docs/views.md), or, in a record
    written before the trace carried facts, its words, shown as recorded.  Whether a
    coverage step found the line applies is the one figure the views read from those
    words; such records wrote it 是 or 否."""
    clause = data.get("clause", "")
    if "facts" in data:
        facts = facts_from_json(data["op"], data["facts"])
    else:
        facts = RecordedWords(data["value"], data.get("formula", ""),
                              tuple(data.get("inputs", {}).items()),
                              covered=data["value"] != "否" if data["op"] == "covers" else None,
                              label=data.get("label", ""))
    return Step(
        node=data["node"], op=data["op"], facts=facts,
        clause=clause[1:] if clause.startswith("§") else clause,
        quote=data.get("quote", ""),
        candidate=data.get("candidate"),
        line=data.get("line"),
        version=data.get("version", ""),
        inherited=data.get("inherited", False),
        skipped=data.get("skipped", False),
    )


def outcome_from_json(data: dict) -> Union[ClaimResult, ClaimError]:
    if "error" in data:
        problems = tuple(ClaimError(p["error"], data.get("claim_id"), p.get("field"),
                                    p["message"], p.get("hint", ""))
                         for p in data.get("problems", ()))
        return ClaimError(data["error"], data.get("claim_id"), data.get("field"), data["message"],
                          data.get("hint", ""), data.get("line"), problems)
    return ClaimResult(
        claim_id=data["claim_id"],
        policy=data["policy"],
        identity=data["identity"],
        payouts=tuple((line, Decimal(amount)) for line, amount in data["payouts"].items()),
        total_paid=Decimal(data["total_paid"]),
        personal_burden=Decimal(data["personal_burden"]),
        alerts=tuple(data["alerts"]),
        referrals=tuple(data["referrals"]),
        trace=tuple(step_from_json(step) for step in data.get("trace", ())),
    )


@attrs.frozen
class RecordedSettlement:
    """A recorded result, its claim, the policy version and an engine over the stored chain.

    The engine (compiled from the stored texts, never run) is what the explain
    command's renderers read; its ``claims_by_id`` holds the recorded claim.
    """

    result: ClaimResult
    claim: Claim
    policy: Policy
    engine: Engine
    # A yibao-audit/3 or /4 record holds no trace: it is derived again (audit/rederive.py), and
    # this says whether the figures derived with it are the recorded ones.
    rederived: bool = False
    matches: bool = True


def recorded_settlement(store: AuditStore, body: dict) -> RecordedSettlement:
    result = outcome_from_json(body["outcome"])
    if isinstance(result, ClaimError):
        raise AuditError(f"record #{body['seq']} holds an error, not a settlement: {result}")
    loaded = load_stored_policy([PolicyRef.from_json(ref) for ref in body["policies"]],
                                store.source)
    version = next((p for p in loaded.versions if p.policy_id == body["policy_id"]), None)
    if version is None:
        raise AuditError(f"record #{body['seq']} names policy {body['policy_id']}, which its "
                         "policy chain does not hold")
    # A book's correction (and a revision of a corrected claim) holds the claim as
    # received, its "correction": true marker included: the claim is the text without it.
    raw = claim_bytes(body)
    text = claim_object(raw)[0] if "kind" in body else decode_claim_line(raw)
    claim = validate_claim(text, version)
    # The canonical body sorts keys; payouts are shown in the policy's order of lines.
    order = {line.name: index for index, line in enumerate(version.lines)}
    payouts = tuple(sorted(result.payouts, key=lambda item: order.get(item[0], len(order))))
    engine = Engine(loaded)
    rederived, matches = body["format"] in UNTRACED_FORMATS, True
    if rederived:
        again = rederive(store, body, engine)
        matches = same_settlement(body, again)
        if isinstance(again, ClaimResult):
            # The recorded figures, explained by the trace derived with them.
            result = attrs.evolve(result, trace=again.trace)
    engine.claims_by_id = {claim.claim_id: claim}
    return RecordedSettlement(attrs.evolve(result, payouts=payouts), claim, version, engine,
                              rederived, matches)
