"""A recorded settlement read back renders exactly as the live one (explain/text.py).

Uses the bundled Benxi 2023 examples, whose figures tests/compiler checks.
"""

from __future__ import annotations

from helpers import EXAMPLES
from yibao.audit.restore import outcome_from_json, recorded_settlement
from yibao.core.jsonl import read_lines
from yibao.runtime.evaluate import ClaimResult
from yibao.runtime.results import outcome_to_json
from yibao.explain.text import render_text


def test_every_recorded_example_renders_as_its_live_settlement(store, benxi_engine, record):
    lines = list(read_lines(str(EXAMPLES / "benxi-2023.jsonl")))
    record(store, benxi_engine, lines)
    # The records hold no trace (yibao-audit/3): show derives it, and it must be the
    # trace of the live settlement of the same batch.
    live = benxi_engine.evaluate_records(lines, trace=True)
    shown = 0
    for stored, outcome in zip(store.records(), live):
        if not isinstance(outcome, ClaimResult):
            continue
        claim = benxi_engine.claims_by_id[outcome.claim_id]
        expected = render_text(outcome, claim, benxi_engine.version_for(claim.date))
        shown_again = recorded_settlement(store, stored.data)
        assert shown_again.rederived and shown_again.matches
        assert render_text(shown_again.result, shown_again.claim, shown_again.policy) == expected
        shown += 1
    assert shown == 12            # the 13th example claim lacks paid.基本医保 (C307)


def test_an_outcome_survives_the_round_trip_through_its_json(domain_store):
    for stored in domain_store.records():
        recorded = stored.data["outcome"]
        assert outcome_to_json(outcome_from_json(recorded), trace=False) == recorded


def test_an_error_survives_the_round_trip(store, benxi_engine, record):
    record(store, benxi_engine, [(7, '{"claim_id": "x"}')])
    recorded = next(store.records()).data["outcome"]
    assert recorded["error"] == "C301" and recorded["line"] == 7
    assert outcome_to_json(outcome_from_json(recorded)) == recorded
