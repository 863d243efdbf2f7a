"""A claim explained against the book: its person's earlier claims fill 本次前.

Nothing is written: the person-year is read from the book, the claim (as
given, replacing the booked one of that id if there is one) is put in its
place in settlement order, and the person-year is settled again with a trace
of that claim only.  The claims settled before it are listed with the base
and payout each added per line, so the year-to-date figures of the trace can
be checked by hand.
"""

from __future__ import annotations

import attrs

from yibao.audit.book import (BookedClaim, fold, money_map, payable, resettle, settlement_order,
                              year_to_date_from)
from yibao.audit.store import AuditStore
from yibao.runtime.batch import Engine
from yibao.runtime.claims import Claim, ClaimError
from yibao.runtime.evaluate import ClaimResult


@attrs.frozen
class BookView:
    outcome: ClaimResult | ClaimError
    earlier: tuple[dict, ...]       # the claims behind 本次前: id, date, base, paid
    adjustments: tuple[dict, ...]   # later adjustments of the booked claim of this id
    booked: bool                    # whether the book holds this claim id


def explain_in_book(store: AuditStore, engine: Engine, claim: Claim, record: dict) -> BookView:
    claims = fold(store.book_records(claim.person_id, claim.date.year))
    booked = claims.get(claim.claim_id)
    if booked is None:
        # Not in the book yet: it would arrive after every booked claim.
        arrival = max((c.arrival for c in claims.values()), default=0) + 1
        booked = claims[claim.claim_id] = BookedClaim(claim.claim_id, arrival, record, claim,
                                                      None, None)
        adjustments: tuple[dict, ...] = ()
        in_book = False
    else:
        booked.text, booked.claim, booked.live = record, claim, True
        adjustments, in_book = tuple(booked.adjustments), True
    for other in claims.values():
        if other.live and other.claim is None:
            other.claim = engine.validate(other.text)
    settled = resettle(engine, settlement_order(claims.values()), {claim.claim_id})
    earlier = []
    for item in settled:
        if item.claim_id == claim.claim_id:
            return BookView(item.outcome, tuple(earlier), adjustments, in_book)
        if isinstance(item.outcome, ClaimResult):
            earlier.append({"claim_id": item.claim_id, "date": claims[item.claim_id].text["date"],
                            "base": money_map(item.base),
                            "paid": money_map(payable(engine, item.outcome))})
    raise AssertionError("the claim is always settled")   # it is live and in the order


def recorded_earlier(store: AuditStore, seq: int, body: dict) -> list[dict]:
    """The claims behind 本次前 of book record ``seq`` (``body``) as it was settled: listed
    by the record (yibao-audit/2, /3), or derived from its event's ledger (/4)."""
    if "year_to_date_from" in body:
        return body["year_to_date_from"]
    return year_to_date_from(body, seq, store.book_records(body["person_id"], body["year"]))
