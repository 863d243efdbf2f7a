"""The settlement book: a person-year's entries in the chain, read back and settled again.

The book is not a second database: its entries are records of the hash chain
(format ``yibao-audit/4``; ``/2`` and ``/3`` written before), each with a ``kind``:

- ``settlement``: a claim's first settlement: the claim as received, the
  outcome (with its trace in ``/2``), and ``payable``, what each computed line
  pays; the claims behind its 本次前 are in its event's ``ledger_after``
  (:func:`year_to_date_from`; a ``/2`` or ``/3`` record lists them itself);
- ``correction``: a new text for a booked claim (same id, marked
  ``"correction": true``), its outcome as re-settled; money moves only by the
  adjustments that follow it;
- ``withdrawal``: a booked claim taken out (退费, 冲正); its payouts are
  recovered by the adjustments that follow it;
- ``revision``: a booked claim settled again under the policy version in force
  on its date in a revised chain, declared retroactive (``settle
  --retroactive``); money moves by the adjustments that follow it;
- ``closure``: a calendar year closed (``settle --close-year``): from then on
  nothing is written into that year (B107);
- ``adjustment``: one line of one booked claim paid differently after a
  re-settlement: ``delta`` (positive 补付, paid out; negative 追回, recovered),
  ``net`` after it, and ``caused_by`` (the claim, and what happened to it).

A claim's *net* on a line is its settlement's ``payable`` plus every later
adjustment of that line: what the person has been paid for it.  Nothing is
ever rewritten.  :func:`fold` reads a person-year's entries (the store's
``book_records``, by its person-year index) into :class:`BookedClaim`s;
:func:`resettle` settles the live ones again from a fresh ledger in
docs/specification.md §6.1's order (date, then order of arrival), which is
what a single run over the final set of claims does.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Iterable, Union

import attrs

from yibao.audit.store import AuditError, BookEntry
from yibao.runtime.batch import Engine
from yibao.runtime.claims import Claim, ClaimError, decode_claim_line
from yibao.runtime.evaluate import ClaimResult
from yibao.runtime.ledger import AlertYearToDate, Ledger, LineYearToDate, PersonYear
from yibao.core.money import ZERO, format_money

SETTLEMENT, CORRECTION, WITHDRAWAL, ADJUSTMENT, REVISION, CLOSURE = (
    "settlement", "correction", "withdrawal", "adjustment", "revision", "closure")
KINDS = (SETTLEMENT, CORRECTION, WITHDRAWAL, ADJUSTMENT, REVISION, CLOSURE)
# A closure belongs to no person: it is indexed under this person id, with its year.
EVERYONE = ""
BOOK_MODE = "book"   # the mode of a settle run's batch (batches.mode)
PAID_OUT, RECOVERED = "补付", "追回"


@attrs.define
class BookedClaim:
    """One claim id of a person-year as the book holds it (mutable while a run settles)."""

    claim_id: str
    arrival: int | None        # seq of its settlement record: ties of date go by it
    # The claim as last settled or corrected (the marker removed); None: ``raw`` not
    # decoded yet.  A person-year read from the book is decoded only if it is settled
    # again: new claims settled after all of it need only its recorded ledger.
    _text: dict | None
    claim: Claim | None        # ``text`` validated (None until a run needs it)
    seq: int | None            # the record holding ``text`` (None: not written yet)
    hash: str | None
    live: bool = True          # False once withdrawn
    net: dict[str, Decimal] = attrs.field(factory=dict)   # line → what was paid for it
    # every text it has had (a str: as received, not decoded yet; see has_had)
    texts: list[dict | str] = attrs.field(factory=list)
    adjustments: list[dict] = attrs.field(factory=list)   # the adjustment bodies, in order
    policy_key: str | None = None
    # The version that settled it (id, source sha256): kept when the person-year is
    # settled again, unless a revision is declared retroactive (docs/book.md).
    # None: settle it under the version in force on its date.
    policy: tuple[str, str] | None = None
    raw: str | None = None     # ``text`` exactly as received

    @property
    def text(self) -> dict:
        if self._text is None:
            self._text = claim_object(self.raw)[0]
        return self._text

    @text.setter
    def text(self, value: dict) -> None:
        self._text = value

    @property
    def date(self) -> datetime.date:
        return datetime.date.fromisoformat(self.text["date"])

    def has_had(self, text: dict) -> bool:
        """Whether ``text`` is one of the texts this id has had (a repeat, not a new claim)."""
        self.texts = [claim_object(t)[0] if isinstance(t, str) else t for t in self.texts]
        return text in self.texts


def is_book_entry(data: dict) -> bool:
    return data.get("kind") in KINDS


CORRECTION_MARK = "correction"   # ``"correction": true`` on a claim replaces the booked one


def claim_object(raw: str | bytes, line_number: int | None = None) -> tuple[dict, object]:
    """(the claim's JSON object without the correction marker, the marker or None).

    Two submissions are the same claim when these objects are equal (numbers by
    value): spacing and key order do not make a claim different.
    """
    record = decode_claim_line(raw, line_number)
    marker = record.pop(CORRECTION_MARK, None)
    return record, marker


def fold(records: Iterable[BookEntry]) -> dict[str, BookedClaim]:
    """A person-year's claims, by id, from its entries in chain order."""
    claims: dict[str, BookedClaim] = {}
    for record in records:
        data = record.data
        kind, claim_id = data["kind"], data["claim_id"]
        if kind == SETTLEMENT:
            claims[claim_id] = BookedClaim(
                claim_id, record.seq, None, None, record.seq, record.hash,
                net={line: Decimal(amount) for line, amount in data["payable"].items()},
                texts=[data["claim"]], policy_key=data["policy_key"], policy=_applied(data),
                raw=data["claim"])
            continue
        booked = claims[claim_id]
        if kind == CORRECTION:
            booked.text, booked.claim, booked.live = None, None, True
            booked.seq, booked.hash, booked.policy_key = record.seq, record.hash, data["policy_key"]
            booked.policy, booked.raw = _applied(data), data["claim"]
            booked.texts.append(data["claim"])
        elif kind == REVISION:
            booked.policy_key, booked.policy = data["policy_key"], _applied(data)
            booked.seq, booked.hash = record.seq, record.hash
        elif kind == WITHDRAWAL:
            booked.live = False
        else:
            line = data["line"]
            booked.net[line] = booked.net.get(line, ZERO) + Decimal(data["delta"])
            booked.adjustments.append({"seq": record.seq, **data})
    return claims


def _applied(data: dict) -> tuple[str, str]:
    return data["policy_id"], data["policy_sha256"]


@attrs.frozen
class Settled:
    """One live claim re-settled: its outcome and, per computed line, the base it added."""

    claim_id: str
    outcome: Union[ClaimResult, ClaimError]
    base: dict[str, Decimal]


def settlement_order(claims: Iterable[BookedClaim]) -> list[BookedClaim]:
    """docs/specification.md §6.1: date order, ties by order of arrival in the book."""
    return sorted((c for c in claims if c.live), key=lambda c: (c.claim.date, c.arrival))


def resettle(engine: Engine, ordered: list[BookedClaim], trace: set[str],
             ledger: Ledger | None = None) -> list[Settled]:
    """Settle ``ordered`` (one person-year, in settlement order) from a fresh ledger (or
    from ``ledger``, holding the year-to-date of the claims before them)."""
    ledger = Ledger() if ledger is None else ledger
    settled = []
    for booked in ordered:
        claim = booked.claim
        year = ledger.person_year(claim.person_id, claim.date.year)
        before = {name: line.base for name, line in year.lines.items()}
        try:
            if booked.policy is None:
                outcome = engine.evaluate_claim(claim, ledger, booked.claim_id in trace)
            else:   # the version that settled it (a later revision is not retroactive)
                outcome = engine.evaluators[booked.policy[0]].evaluate(
                    claim, ledger, booked.claim_id in trace)
        except ClaimError as error:
            outcome = error
        base = {name: line.base - before.get(name, ZERO) for name, line in year.lines.items()}
        settled.append(Settled(booked.claim_id, outcome, base))
    return settled


# ---- the ledger after a person-year's claims, kept in the chain ---------------------------
# Each event that writes into a person-year puts, in its first entry, ``ledger_after``: the
# person-year's year-to-date figures after all its live claims (each line's base and paid,
# each alert's burden and whether it fired) and the claims in settlement order (id, date,
# the base and payout each added per line).  New claims that come after every booked claim
# are then settled on top of it, without settling the booked claims again: their figures
# cannot change (docs/specification.md §6.1: a claim reads only the claims before it).

def latest_state(entries: Iterable[BookEntry]) -> dict | None:
    state = None
    for entry in entries:
        found = entry.data.get("ledger_after")
        if found is not None:
            state = found
    return state


_LEDGER_KEY = '"ledger_after":'


def year_to_date_from(body: dict, seq: int, entries: Iterable[BookEntry]) -> list[dict]:
    """The claims behind a settlement's, correction's or revision's 本次前 (record ``seq``):
    id, date, and the base and payout each added per line, in settlement order.

    A record of format yibao-audit/2 or /3 lists them itself.  One of /4 does not
    (audit/chain.py): they are the claims its event's ledger lists before it, and that
    ledger is in the event's first entry, the person-year's latest entry up to ``seq``
    that carries ``ledger_after`` (``entries``: the person-year's, in seq order; an
    event's entries are never interleaved with another event's of the same person-year,
    since a transaction settles a person-year's pending claims before it withdraws or
    corrects one of them).
    """
    if "year_to_date_from" in body:
        return body["year_to_date_from"]
    state = None
    for entry in entries:
        if entry.seq > seq:
            break
        if _LEDGER_KEY in entry.entry:
            state = entry.ledger
    rows = state["claims"] if state is not None else []
    claim_id = body["claim_id"]
    if not any(row[0] == claim_id for row in rows):
        raise AuditError(f"record #{seq}: the ledger of the event that wrote it does not list "
                         f"claim {claim_id}, so the claims before it cannot be listed",
                         "run yibao audit verify and yibao audit replay")
    before = []
    for row_id, date, base, paid in rows:
        if row_id == claim_id:
            break
        before.append({"base": base, "claim_id": row_id, "date": date, "paid": paid})
    return before


def state_of(year: PersonYear, claims: list[list]) -> dict:
    return {"lines": {name: [format_money(line.base), format_money(line.paid)]
                      for name, line in sorted(year.lines.items())},
            "alerts": {name: [format_money(alert.burden), alert.fired]
                       for name, alert in sorted(year.alerts.items())},
            "claims": claims}


def ledger_from(state: dict, person_id: str, year: int) -> Ledger:
    ledger = Ledger()
    person_year = ledger.person_year(person_id, year)
    for name, (base, paid) in state["lines"].items():
        person_year.lines[name] = LineYearToDate(Decimal(base), Decimal(paid))
    for name, (burden, fired) in state["alerts"].items():
        person_year.alerts[name] = AlertYearToDate(Decimal(burden), fired)
    return ledger


def payable(engine: Engine, result: ClaimResult) -> dict[str, Decimal]:
    """What the computed lines pay (upstream lines are paid by another system)."""
    computed = computed_lines(engine)
    return {line: amount for line, amount in result.payouts if line in computed}


def computed_lines(engine: Engine) -> frozenset[str]:
    return frozenset(line.name for version in engine.versions for line in version.computed_lines)


def money_map(amounts: dict[str, Decimal]) -> dict[str, str]:
    return {line: format_money(amount) for line, amount in sorted(amounts.items())}
