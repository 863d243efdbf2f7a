"""A transaction's on-top person-years settled in one pass (issue 22 §9, the bulk path).

In a daily run nearly every person-year a transaction touches only gains claims
dated on or after its last settled one (``_Session._on_top``).  Those claims read
the year to date the book recorded after that claim (``ledger_after``) and
nothing else (docs/specification.md §6.1: a claim reads only the claims before
it), and no booked claim's figures change.  Here they are all settled in one
loop, without the per-person-year machinery of the general path (a ``Ledger``
and ``Settled`` objects per person-year, the claims' outcomes looked up by
identity, the ledger rebuilt through ``_with_state``): the person-year's year to
date is loaded into one ledger the whole transaction shares (the person-years
are distinct), each claim evaluated on it in settlement order, and each
settlement record built from the run's template (audit/settlement_template.py),
all but the chain's fields, which ``_Session._link`` splices in.

The records are byte for byte those the general writer writes for the same
claims (tests/audit/test_book_bulk.py compares whole books written both ways and
settled again whole; so do the fast-path differential tests).  A value the
template does not write (:class:`NotTemplated`) leaves that person-year to the
general path (``_Session._settle_and_book``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Optional

from yibao.audit.settlement_template import NotTemplated, encode
from yibao.core.money import ZERO, format_money
from yibao.runtime.claims import Claim, ClaimError
from yibao.runtime.ledger import AlertYearToDate, Ledger, LineYearToDate
from yibao.runtime.results import result_to_json

PersonYearKey = tuple[str, int]
# A person-year prepared on top of its ledger: the ledger after its new claims, and per
# claim in input order (claim id, input line, the pieces of its record, or None and the
# refusal's JSON).  The pieces: (its record: the body before its chain fields, the body
# after them and the index entry, or what makes them (:func:`assemble`); what it pays as
# written, the policy id, and the report line's identity, alerts and referrals): plain
# values, so the run's worker (audit/run_worker.py) can send them back as they are.
Pieces = tuple[tuple, dict, str, object, list, list]
Prepared = tuple[dict, list[tuple[str, int, Optional[Pieces], Optional[dict]]]]
# A new claim as prepare takes it: (claim id, the validated claim, input line, raw line).
Waiting = tuple[str, Claim, int, "bytes | str"]


def prepare_on_top(session, keys: list[PersonYearKey]) -> dict[PersonYearKey, Prepared | None]:
    """Each on-top person-year of the transaction ``session`` (audit/settle.py
    ``_Session``): its new claims settled on its recorded ledger and their records
    prepared (the shape ``_Session._link`` takes), or None where the template cannot
    write a value.  Writes nothing to the store or the chain."""
    settler = session.settler
    return prepare(session.engine, settler.computed, session.template,
                   [(key, session.states[key],
                     [(booked.claim_id, booked.claim, line, raw)
                      for booked, line, raw in session.pending[key]])
                    for key in keys])


def prepare(engine, computed: frozenset[str], template, work: list[tuple[PersonYearKey, dict,
                                                                       list[Waiting]]],
            assembled: bool = True) -> dict[PersonYearKey, Prepared | None]:
    """prepare_on_top's job as a function of its inputs alone (the engine, the lines the
    book pays, the run's template, and per person-year its ledger and new claims): the
    run's worker does it for the person-years it is sent, the settling process for the
    others, and the same inputs give the same bytes.  Not ``assembled``: each record as
    what makes it (:func:`assemble`, done by the settling process), not the record
    itself, whose three parts repeat the claim, the ledger and the policies: the
    worker sends 40% fewer bytes."""
    evaluate = engine.evaluate_claim
    ledger = Ledger()   # one for the transaction: each person-year is its own entry
    found: dict = {}
    for key, state, waiting in work:
        person_year = ledger.person_year(*key)
        lines, alerts = person_year.lines, person_year.alerts
        for name, (base, paid) in state["lines"].items():
            lines[name] = LineYearToDate(Decimal(base), Decimal(paid))
        for name, (burden, fired) in state["alerts"].items():
            alerts[name] = AlertYearToDate(Decimal(burden), fired)
        # Settlement order: date, then order of arrival (here, input order).
        order = (range(len(waiting)) if len(waiting) == 1 else
                 sorted(range(len(waiting)), key=lambda i: (waiting[i][1].date, i)))
        rows = list(state["claims"])
        settled: list = [None] * len(waiting)
        for index in order:
            claim_id, claim = waiting[index][0], waiting[index][1]
            before = {name: line.base for name, line in lines.items()}
            try:
                outcome = evaluate(claim, ledger, False)
            except ClaimError as error:
                # Refused by the evaluator (e.g. C311): it never touched the ledger.
                settled[index] = error
                continue
            amounts = {line: amount for line, amount in outcome.payouts if line in computed}
            payable = {line: format_money(amounts[line]) for line in sorted(amounts)}
            added = {name: format_money(line.base - before.get(name, ZERO))
                     for name, line in sorted(lines.items())}
            settled[index] = (outcome, payable, len(rows))
            rows.append([claim_id, claim.date.isoformat(), added, payable])
        after = {"lines": {name: [format_money(line.base), format_money(line.paid)]
                           for name, line in sorted(lines.items())},
                 "alerts": {name: [format_money(alert.burden), alert.fired]
                            for name, alert in sorted(alerts.items())},
                 "claims": rows}
        try:
            found[key] = (after, _records(key, waiting, settled, after, template, assembled))
        except NotTemplated:
            found[key] = None
    return found


def assemble(template, made: tuple) -> tuple[bytes, bytes, bytes]:
    """A record's three parts (SettlementTemplate.record) from what _records made of it."""
    return template.record(*made[:7], template.version(made[7]), *made[8:])


def _records(key, waiting, settled, after, template, assembled: bool = True) -> list:
    """Per new claim in input order: (claim id, line, the pieces of its record) or
    (claim id, line, None, the refusal's JSON)."""
    person = encode(key[0])
    # (No year_to_date_from since yibao-audit/4: the claims behind 本次前 are the prefix
    # of the ledger_after below up to the claim, audit/book.py year_to_date_from.)
    ledger_after = encode(after)   # the event's first entry carries it
    items = []
    for (claim_id, _, line, raw), outcome in zip(waiting, settled):
        if isinstance(outcome, ClaimError):
            error = outcome if outcome.line_number is not None else ClaimError(
                outcome.code, outcome.claim_id, outcome.field, outcome.message, outcome.hint,
                line)
            items.append((claim_id, line, None, error.to_json()))
            continue
        result, payable, _ = outcome
        text = raw if isinstance(raw, str) else raw.decode("utf-8")
        outcome_json = result_to_json(result, trace=False)
        made = (encode(text), encode(claim_id), line, ledger_after, encode(outcome_json),
                encode(payable), person, result.policy, key[1])
        ledger_after = None
        items.append((claim_id, line, (
            assemble(template, made) if assembled else made, payable, result.policy,
            result.identity, outcome_json["alerts"], outcome_json["referrals"]), None))
    return items
