"""A record's trace, derived again from what the store holds (format ``yibao-audit/3``).

A ``/3`` record holds the claim as received and its settlement figures, not
the trace (some ten kB a claim, audit/chain.py).  Everything the trace was
made from is in the store: the policy texts (by sha256), the claim, and the
claims settled before it.  So it is made again, the way the claim was first
settled, tracing that claim only:

- an ``eval --record`` record: its batch settled again whole, from its records
  in input order (a sorted batch settles in date order, so a later line may
  come before it), with a fresh ledger;
- a book entry: its person-year as the book held it at the end of the event
  that wrote the entry (the entries up to the next event's first one, each of
  which carries ``ledger_after``, audit/settle.py), settled in
  docs/specification.md §6.1's order up to the claim, each claim under the
  version that settled it.

The figures derived with the trace are compared with the recorded ones: a
difference means the engine now settles the claim otherwise (``audit replay``
names every such claim).
"""

from __future__ import annotations

from typing import Union

from yibao.audit.book import fold, resettle, settlement_order
from yibao.audit.record import claim_bytes, settle_lines, settlement
from yibao.audit.store import AuditError, AuditStore
from yibao.runtime.batch import Engine
from yibao.runtime.claims import ClaimError
from yibao.runtime.evaluate import ClaimResult
from yibao.runtime.results import outcome_to_json


def rederive(store: AuditStore, body: dict, engine: Engine) -> Union[ClaimResult, ClaimError]:
    """The outcome of the record ``body`` settled again with its trace (``engine``: the
    record's policy chain, loaded from the store)."""
    if "kind" in body:
        return _in_book(store, body, engine)
    return _in_batch(store, body, engine)


def same_settlement(body: dict, outcome: Union[ClaimResult, ClaimError]) -> bool:
    """Whether ``outcome`` pays what the record says (its figures, the trace aside)."""
    return settlement(outcome_to_json(outcome, trace=False)) == settlement(body["outcome"])


def _in_batch(store: AuditStore, body: dict, engine: Engine) -> Union[ClaimResult, ClaimError]:
    position = body["position"]
    lines = [(record.position, claim_bytes(record.data))
             for record in store.records(body["batch"])]
    for found, _, outcome in settle_lines(engine, lines, body["mode"],
                                          lambda line: line == position):
        if found == position:
            return outcome
    raise AuditError(f"batch {body['batch']} has no line {position}", "run yibao audit verify")


def _in_book(store: AuditStore, body: dict, engine: Engine) -> Union[ClaimResult, ClaimError]:
    entries = store.book_records(body["person_id"], body["year"])
    at = next((index for index, entry in enumerate(entries) if entry.seq == body["seq"]), None)
    if at is None:
        raise AuditError(f"record #{body['seq']} is not in the book index",
                         "run yibao audit reindex")
    end = next((index for index in range(at + 1, len(entries))
                if "ledger_after" in entries[index].data), len(entries))
    claims = fold(entries[:end])
    target = claims[body["claim_id"]]
    for booked in claims.values():
        if booked.live:
            booked.claim = engine.validate(booked.text)
    order = settlement_order(claims.values())
    order = order[:order.index(target) + 1]
    return resettle(engine, order, {target.claim_id})[-1].outcome
