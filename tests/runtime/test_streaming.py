"""Streaming settles as a whole batch does, and forgets a person's closed years.

``Engine.stream_records`` (``yibao eval --stream``) takes each person's claims
in date order and keeps one ledger year per person: once a person's claim of
year Y arrives, their year Y−1 can never be read again.  Dropping it must not
change any figure: over two years of synthetic Benxi claims (annual caps
reached, identities changing), every outcome equals the sorted batch's.
"""

from __future__ import annotations

from decimal import Decimal

from helpers import POLICIES
from yibao.api import load_engine, outcome_to_json
from yibao.backends.synthetic import synthetic_claims
from yibao.runtime import batch
from yibao.runtime.ledger import Ledger


def test_streamed_claims_settle_as_the_sorted_batch_does(monkeypatch):
    engine = load_engine(POLICIES / "benxi-2023.policy")
    records = list(enumerate(synthetic_claims(engine.loaded, 30_000, seed=11), 1))
    assert {r["date"][:4] for _, r in records} == {"2023", "2024"}
    ledgers: list[Ledger] = []

    class Watched(Ledger):
        def __init__(self):
            super().__init__()
            ledgers.append(self)

    monkeypatch.setattr(batch, "Ledger", Watched)
    streamed = [outcome_to_json(o, trace=False) for o in engine.stream_records(records)]
    people = {r["person_id"] for _, r in records}
    assert len(ledgers[0]) <= len(people)   # one year each, at most
    sorted_batch = [outcome_to_json(o, trace=False) for o in engine.evaluate_records(records)]
    assert streamed == sorted_batch
    # not a soft target: some person-years reach 基本救助's 20,000 cap (§(五))
    paid: dict = {}
    for (_, record), outcome in zip(records, streamed):
        if "payouts" in outcome:
            key = (record["person_id"], record["date"][:4])
            paid[key] = paid.get(key, Decimal(0)) + Decimal(outcome["payouts"]["基本救助"])
    assert sum(1 for total in paid.values() if total == Decimal("20000.00")) >= 5


def test_a_claim_out_of_date_order_is_refused_with_its_line():
    """C315, like every other error, says which line it refuses (it once did not)."""
    engine = load_engine(POLICIES / "benxi-2023.policy")
    first = next(synthetic_claims(engine.loaded, 1, seed=3))
    later = {**first, "claim_id": "later", "date": "2023-06-01"}
    earlier = {**first, "claim_id": "earlier", "date": "2023-05-01"}
    outcomes = list(engine.stream_records([(4, later), (9, earlier)]))
    error = outcomes[1]
    assert (error.code, error.claim_id, error.field, error.line_number) == (
        "C315", "earlier", "date", 9)
    assert outcome_to_json(error, trace=False)["line"] == 9
