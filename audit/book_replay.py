"""Replaying the settlement book: each person-year's nets against one run of its final claims.

The book's invariant (docs/book.md): whatever the order in which claims,
withdrawals and corrections arrived, over however many runs, each claim's net
per line (its settlement plus every adjustment) equals what settling the
person-year's final claims in one run pays it, to the fen, and a withdrawn
claim's net is zero.  Replay checks exactly that, with the policy texts the
person-year was settled under, so it is also the regression check of the book
across engine versions; and it checks what each settlement entry says the
claim was paid then (records hold no trace since ``yibao-audit/3``: those
figures are what is left to check of a settlement as it was made).
"""

from __future__ import annotations

from typing import Iterator

from decimal import Decimal

from yibao.audit.book import (CORRECTION, EVERYONE, REVISION, SETTLEMENT, computed_lines, fold,
                              payable, resettle, settlement_order)
from yibao.audit.policies import PolicyRef, load_stored_policy, policy_key
from yibao.audit.store import AuditStore
from yibao.runtime.batch import Engine
from yibao.runtime.claims import ClaimError
from yibao.runtime.evaluate import ClaimResult
from yibao.core.money import ZERO, format_money


def book_person_years(store: AuditStore, claim_id: str | None = None) -> list[tuple[str, int]]:
    """Every person-year of the book, or the one holding ``claim_id``, in first-entry order."""
    if claim_id is not None:
        for record in reversed(store.records_of_claim(claim_id)):
            data = record.data
            if "kind" in data:
                return [(data["person_id"], data["year"])]
        return []
    return list(dict.fromkeys((person, year) for _, person, year, _ in store.book_index()
                              if person != EVERYONE))   # a year's closure, not a person


def replay_person_year(store: AuditStore, person_id: str, year: int, engines: dict,
                       make_difference) -> Iterator:
    """(claims compared, differences) of one person-year; see the module docstring."""
    records = store.book_records(person_id, year)
    claims = fold(records)
    # Chains only grow (a revision extends the texts a claim was settled under), so
    # the latest entry's chain holds every version the person-year's claims name.
    latest = next(r.data for r in reversed(records) if "policies" in r.data)
    chain = [PolicyRef.from_json(ref) for ref in latest["policies"]]
    key = policy_key(chain)
    if key not in engines:
        engines[key] = Engine(load_stored_policy(chain, store.source))
    engine: Engine = engines[key]
    for booked in claims.values():
        if booked.live:
            booked.claim = engine.validate(booked.text)
    settled = {s.claim_id: s for s in resettle(engine, settlement_order(claims.values()), set())}
    differences = []
    for claim_id, booked in claims.items():
        found = settled.get(claim_id)
        if found is not None and isinstance(found.outcome, ClaimError):
            differences.append(make_difference(booked.seq, claim_id, "outcome", "settled",
                                               f"error {found.outcome.code}"))
            continue
        target = payable(engine, found.outcome) if found is not None else {}
        for line in sorted(computed_lines(engine)):
            net, one_run = booked.net.get(line, ZERO), target.get(line, ZERO)
            if net != one_run:
                differences.append(make_difference(booked.seq, claim_id, f"net.{line}",
                                                   format_money(net), format_money(one_run)))
    differences.extend(_settled_figures(engine, records, make_difference))
    return len(claims), differences, {r.data["engine_version"] for r in records}


def _settled_figures(engine: Engine, records: list, make_difference) -> list:
    """Each settlement, correction and revision entry's ``payable`` against its person-year
    settled again as the book held it at the end of the entry's event.

    Records hold no trace since yibao-audit/3: what a claim was paid when it was settled
    is checked here, as the trace would have shown it.  An event starts at the entry
    that carries ``ledger_after`` (audit/settle.py); entries written before the book kept
    it are not delimited into events, and only their nets are checked (above).
    """
    starts = [index for index, record in enumerate(records) if "ledger_after" in record.data]
    differences = []
    for start, end in zip(starts, starts[1:] + [len(records)]):
        settled = [record for record in records[start:end]
                   if record.data["kind"] in (SETTLEMENT, CORRECTION, REVISION)]
        if not settled:
            continue
        claims = fold(records[:end])
        for booked in claims.values():
            if booked.live:
                booked.claim = engine.validate(booked.text)
        again = {s.claim_id: s.outcome for s in resettle(engine, settlement_order(claims.values()),
                                                         set())}
        for record in settled:
            data = record.data
            outcome = again.get(data["claim_id"])
            found = payable(engine, outcome) if isinstance(outcome, ClaimResult) else {}
            for line in sorted(computed_lines(engine)):
                recorded = data["payable"].get(line, "0.00")
                replayed = format_money(found.get(line, ZERO))
                if Decimal(recorded) != Decimal(replayed):
                    differences.append(make_difference(record.seq, data["claim_id"],
                                                       f"payable.{line}", recorded, replayed))
    return differences
