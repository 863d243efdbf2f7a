"""`audit replay` re-settles recorded batches in order and reports every difference.

The store holds docs/specification.md §6's claims a, b, c (see conftest for the figures
worked out from Benxi §(五)).  The "changed evaluator" forgets deductibles
(G(C) = rate × C), worked out by hand for 低保边缘家庭成员:

- a (burden 15,000): 基本救助 15,000 × 60% = 9,000 (recorded 7,800); 倾斜救助 on
  6,000: 3,600 (recorded 2,520); total paid 10,000 + 12,600 = 22,600 (recorded
  20,320); personal burden 25,000 − 22,600 = 2,400 (recorded 4,680).
- b (burden 10,000): 基本救助 25,000 × 60% − 9,000 = 6,000 and 倾斜救助 10,000 ×
  60% − 3,600 = 2,400, as recorded; but its burden 1,600 now brings the year's
  burden to 4,000 only, below §(八)'s 5,000, so 因病返贫风险 no longer fires on b
  (recorded: 4,680 + 1,600 = 6,280 ≥ 5,000).
- c (burden 20,000): 基本救助 45,000 × 60% − 15,000 = 12,000, cut to the cap's
  remainder 20,000 − 15,000 = 5,000 (recorded 6,200); 倾斜救助 25,000 × 60% −
  6,000 = 9,000 (recorded 8,280); total 24,000 (recorded 24,480); burden 6,000
  (recorded 5,520).
"""

from __future__ import annotations

import pytest

from yibao.audit.replay import replay_store
from yibao.audit.store import AuditError
from yibao.compiler import arithmetic
from yibao.runtime import op_semantics


@pytest.fixture
def without_deductibles(monkeypatch):
    """A regression in the evaluator: G ignores the deductible."""
    slice_of = arithmetic.claim_slice
    monkeypatch.setattr(op_semantics, "claim_slice",   # the schedule op's rule
                        lambda ar, before, after, deductible, rate: slice_of(
                            ar, before, after, 0, rate))


def as_table(report):
    return [(d.claim_id, d.field, d.recorded, d.replayed) for d in report.differences]


def test_an_unchanged_engine_replays_without_difference(domain_store):
    report = replay_store(domain_store)
    assert report.ok and report.compared == 3


def test_a_changed_evaluator_is_caught_claim_by_claim(domain_store, without_deductibles):
    report = replay_store(domain_store, compare_trace=False)
    assert as_table(report) == [
        ("a", "payouts.倾斜救助", "2520.00", "3600.00"),
        ("a", "payouts.基本救助", "7800.00", "9000.00"),
        ("a", "personal_burden", "4680.00", "2400.00"),
        ("a", "total_paid", "20320.00", "22600.00"),
        ("b", "alerts", '["因病返贫风险"]', "[]"),
        ("c", "payouts.倾斜救助", "8280.00", "9000.00"),
        ("c", "payouts.基本救助", "6200.00", "5000.00"),
        ("c", "personal_burden", "5520.00", "6000.00"),
        ("c", "total_paid", "24480.00", "24000.00"),
    ]


def test_records_without_a_trace_are_compared_by_their_figures(domain_store,
                                                              without_deductibles):
    # yibao-audit/3 records hold no trace to compare: their figures tell the change.
    report = replay_store(domain_store)
    assert not [d for d in report.differences if d.field.startswith("trace[")]
    assert as_table(report) == as_table(replay_store(domain_store, compare_trace=False))
    assert {d.claim_id for d in report.differences} == {"a", "b", "c"}


def test_one_claim_is_replayed_after_the_person_years_earlier_claims(domain_store):
    # c pays 6,200 only after a and b; alone it would pay (20,000 − 2,000) × 60% = 10,800.
    report = replay_store(domain_store, "c")
    assert report.ok and report.compared == 1


def test_one_claim_replayed_under_a_changed_evaluator(domain_store, without_deductibles):
    report = replay_store(domain_store, "c", compare_trace=False)
    assert [d.field for d in report.differences] == [
        "payouts.倾斜救助", "payouts.基本救助", "personal_burden", "total_paid"]


def test_a_claim_recorded_twice_is_replayed_in_both_batches(domain_store, benxi_engine, record,
                                                           as_lines, domain_claims):
    record(domain_store, benxi_engine, as_lines(domain_claims))
    report = replay_store(domain_store, "b")
    assert report.ok and report.compared == 2


def test_an_unknown_claim_is_an_error(domain_store):
    with pytest.raises(AuditError, match="no record of claim zz"):
        replay_store(domain_store, "zz")


def test_a_policy_text_that_no_longer_loads_is_reported(domain_store, store_path, tamper):
    tamper(store_path, "UPDATE sources SET text = 'policy broken'")
    report = replay_store(domain_store)
    (difference,) = report.differences
    assert difference.field == "policy" and "does not load now" in difference.replayed


def test_an_old_records_worded_trace_is_compared_on_its_figures_only():
    """A record written before the trace carried facts holds each step's words: replay
    compares its figures (here the same) and not the words against the facts."""
    from yibao.audit.replay import compare
    recorded = {"claim_id": "a", "policy": "p", "identity": None, "payouts": {"x": "1.00"},
                "total_paid": "1.00", "personal_burden": "0.00", "alerts": [], "referrals": [],
                "trace": [{"node": "x.payout", "op": "cap", "label": "x支付", "value": "1.00",
                           "formula": "不设年度限额: 支付 1.00"}]}
    replayed = dict(recorded, trace=[{"node": "x.payout", "op": "cap",
                                      "facts": {"line": "x", "applies": True, "due": "1.00",
                                                "payout": "1.00"}}])
    assert compare(1, "a", recorded, replayed) == []
    assert [d.field for d in compare(1, "a", recorded, dict(replayed, total_paid="2.00"))] == [
        "total_paid"]
    with_facts = dict(recorded, trace=replayed["trace"])
    changed = dict(replayed, trace=[{**replayed["trace"][0], "facts": {"payout": "2.00"}}])
    assert [d.field for d in compare(1, "a", with_facts, changed)] == ["trace[0]"]
