"""The lean daily run (issue 22 §9): what a transaction of `yibao settle` spends, and how.

Claims: Benxi's examples of p-01 (figures in tests/audit/test_book.py's docstring):
bx-0001 (02-10) pays 基本救助 7,800, bx-0002 (05-20) 6,000, bx-0003 (09-03) the
cap's remainder 20,000 − 13,800 = 6,200.
"""

from __future__ import annotations

import gc
import json

from helpers import EXAMPLES
from yibao.audit.settle import BookSettler

EXAMPLE = {json.loads(line)["claim_id"]: line
           for line in (EXAMPLES / "benxi-2023.jsonl").read_text(encoding="utf-8").splitlines()}


def settle_lines(store, engine, *claim_ids) -> list[dict]:
    report = []
    for lines in BookSettler(store, engine).run(enumerate((EXAMPLE[c] for c in claim_ids), 1)):
        report.extend(lines)
    return report


def paid(report, claim_id):
    return next(e["payouts"]["基本救助"] for e in report
                if e["kind"] == "settlement" and e["claim_id"] == claim_id)


def test_a_transaction_runs_without_the_cyclic_collector_and_gives_it_back(
        store, benxi_engine, monkeypatch):
    seen = []
    evaluate = benxi_engine.evaluate_claim

    def watched(claim, ledger, trace=False):
        seen.append(gc.isenabled())
        return evaluate(claim, ledger, trace)
    monkeypatch.setattr(benxi_engine, "evaluate_claim", watched)
    assert gc.isenabled()
    report = settle_lines(store, benxi_engine, "bx-0001", "bx-0002", "bx-0003")
    assert seen == [False, False, False]
    assert gc.isenabled()
    assert [paid(report, c) for c in ("bx-0001", "bx-0002", "bx-0003")] == [
        "7800.00", "6000.00", "6200.00"]


def test_a_caller_that_turned_the_collector_off_keeps_it_off(store, benxi_engine):
    gc.disable()
    try:
        settle_lines(store, benxi_engine, "bx-0001")
        assert not gc.isenabled()
    finally:
        gc.enable()
