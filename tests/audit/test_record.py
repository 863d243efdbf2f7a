"""What a record holds, how batches, re-recordings and resumption are stored.

Figures: docs/specification.md §6's example (see conftest): 基本救助 7,800 / 6,000 /
6,200 and 倾斜救助 2,520 / 2,400 / 8,280 for the burdens 15,000 / 10,000 / 20,000.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from helpers import POLICIES
from yibao import ENGINE_VERSION
from yibao.audit.chain import GENESIS, body_hash
from yibao.audit.restore import recorded_settlement
from yibao.audit.store import STREAM, AuditError
from yibao.audit.verify import verify_store
from yibao.runtime.claims import ClaimError
from yibao.runtime.results import outcome_to_json


def bodies(store, batch=None):
    return [r.data for r in store.records(batch)]


def test_a_record_holds_claim_outcome_policy_hash_engine_and_time(domain_store, as_lines,
                                                                  domain_claims):
    first, second, third = bodies(domain_store)
    policy_bytes = (POLICIES / "benxi-2023.policy").read_bytes()
    assert first["claim"] == as_lines(domain_claims)[0][1]          # exactly as received
    assert [b["outcome"]["payouts"]["基本救助"] for b in (first, second, third)] == [
        "7800.00", "6000.00", "6200.00"]
    assert [b["outcome"]["payouts"]["倾斜救助"] for b in (first, second, third)] == [
        "2520.00", "2400.00", "8280.00"]
    # No trace (yibao-audit/4, as /3): audit show derives it again from the store.
    assert "trace" not in first["outcome"] and first["format"] == "yibao-audit/4"
    shown = recorded_settlement(domain_store, first)
    assert shown.rederived and shown.matches
    assert any(step.op == "schedule" for step in shown.result.trace)
    assert first["policy_id"] == "benxi-2023"
    assert first["policy_sha256"] == hashlib.sha256(policy_bytes).hexdigest()
    assert [ref["sha256"] for ref in first["policies"]] == [first["policy_sha256"]]
    assert first["engine_version"] == ENGINE_VERSION
    assert first["recorded_at"] == "2024-01-02T03:04:05.000000+00:00"
    assert (first["seq"], first["prev"], first["batch"], first["position"]) == (1, GENESIS, 1, 1)


def test_each_record_commits_to_its_predecessor(domain_store):
    records = list(domain_store.records())
    assert [r.seq for r in records] == [1, 2, 3]
    assert [r.data["prev"] for r in records] == [GENESIS, records[0].hash, records[1].hash]
    assert all(body_hash(r.body) == r.hash for r in records)


def test_policy_texts_are_stored_once_by_their_hash(domain_store, benxi_engine, record, as_lines,
                                                    domain_claims):
    record(domain_store, benxi_engine, as_lines(domain_claims))   # a second batch, same policy
    text = (POLICIES / "benxi-2023.policy").read_text(encoding="utf-8")
    assert list(domain_store.sources()) == [(hashlib.sha256(text.encode()).hexdigest(), text)]


def test_rerecording_a_claim_appends_a_new_record_linked_to_the_earlier_one(
        domain_store, benxi_engine, record, as_lines, domain_claims):
    record(domain_store, benxi_engine, as_lines(domain_claims))
    records = domain_store.records_of_claim("b")
    assert [(r.seq, r.batch) for r in records] == [(2, 1), (5, 2)]
    assert records[1].data["previous"] == {"seq": 2, "hash": records[0].hash}
    assert records[0].data["previous"] is None
    # The new batch is settled on its own ledger: the same figures again.
    assert [b["outcome"]["payouts"]["基本救助"] for b in bodies(domain_store, 2)] == [
        "7800.00", "6000.00", "6200.00"]
    assert verify_store(domain_store).ok


def test_bad_lines_are_recorded_with_their_error(store, benxi_engine, record, as_lines,
                                                 domain_claims):
    lines = as_lines(domain_claims) + [(4, '{"claim_id": "broken", '), (5, b"\xff\xfe")]
    record(store, benxi_engine, lines)
    broken, binary = bodies(store)[3:]
    assert (broken["claim_id"], broken["outcome"]["error"]) == ("broken", "C300")
    assert broken["claim"] == '{"claim_id": "broken", '
    assert binary["claim_id"] is None and binary["claim_base64"] == "//4="
    assert binary["policy_id"] is None


def test_resume_skips_recorded_lines_and_settles_the_rest_on_the_same_ledger(
        store, benxi_engine, record, as_lines, domain_claims):
    lines = as_lines(domain_claims)
    record(store, benxi_engine, lines[:1])              # interrupted after claim a
    recorder, outcomes = record(store, benxi_engine, lines, resume=True)
    assert recorder.resumed and recorder.batch.batch == 1
    assert [r.claim_id for r in store.records()] == ["a", "b", "c"]
    # c pays the cap's remainder only because a and b were settled before it.
    assert [str(o.payout("基本救助")) for o in outcomes] == ["7800.00", "6000.00", "6200.00"]
    assert [r.data["outcome"]["payouts"]["基本救助"] for r in store.records()] == [
        "7800.00", "6000.00", "6200.00"]


def test_resume_of_a_finished_batch_records_nothing(domain_store, benxi_engine, record, as_lines,
                                                     domain_claims):
    record(domain_store, benxi_engine, as_lines(domain_claims), resume=True)
    assert len(list(domain_store.records())) == 3


def test_resume_refuses_another_input(domain_store, benxi_engine, record, as_lines,
                                      domain_claims):
    changed = domain_claims
    changed[0]["in_scope_cost"] = "26000.00"
    with pytest.raises(AuditError, match="line 1 differs"):
        record(domain_store, benxi_engine, as_lines(changed), resume=True)


def test_resume_refuses_an_input_missing_recorded_lines(domain_store, benxi_engine, record,
                                                        as_lines, domain_claims):
    with pytest.raises(AuditError, match="recorded line 3"):
        record(domain_store, benxi_engine, as_lines(domain_claims)[:2], resume=True)


def test_resume_refuses_another_mode(domain_store, benxi_engine, record, as_lines, domain_claims):
    with pytest.raises(AuditError, match="settled sorted, not stream"):
        record(domain_store, benxi_engine, as_lines(domain_claims), mode=STREAM, resume=True)


def test_streamed_batches_are_recorded_in_input_order(store, benxi_engine, record, as_lines,
                                                      domain_claims):
    _, outcomes = record(store, benxi_engine, as_lines(domain_claims), mode=STREAM, every=2)
    assert [r.data["mode"] for r in store.records()] == ["stream"] * 3
    assert [str(o.payout("倾斜救助")) for o in outcomes] == ["2520.00", "2400.00", "8280.00"]


def test_a_traced_outcome_is_recorded_without_its_trace(store, benxi_engine, as_lines,
                                                        domain_claims):
    from yibao.audit.record import Recorder

    recorder = Recorder(store, benxi_engine, "sorted")
    traced = benxi_engine.evaluate_records(as_lines(domain_claims), trace=True)[0]
    assert traced.trace
    recorder.add(1, as_lines(domain_claims)[0][1], traced)
    recorder.add(2, "{}", ClaimError("C300", None, None, "not valid JSON"))
    recorder.commit()
    first, second = bodies(store)
    assert first["outcome"] == outcome_to_json(traced, trace=False)
    assert first["outcome"]["payouts"]["基本救助"] == "7800.00"
    assert second["outcome"]["error"] == "C300"


def test_records_are_canonical_json(domain_store):
    for stored in domain_store.records():
        data = json.loads(stored.body)
        assert stored.body == json.dumps(data, ensure_ascii=False, sort_keys=True,
                                         separators=(",", ":"))
