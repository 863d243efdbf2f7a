"""The lean daily run (issue 22 §9): what a transaction of `yibao settle` spends, and how.

Claims: Benxi's examples of p-01 (figures in tests/audit/test_book.py's docstring):
bx-0001 (02-10) pays 基本救助 7,800, bx-0002 (05-20) 6,000, bx-0003 (09-03) the
cap's remainder 20,000 − 13,800 = 6,200.
"""

from __future__ import annotations

import gc
import json

from helpers import EXAMPLES
from yibao.audit import settle as settle_module
from yibao.audit import settlement_template
from yibao.audit.book import year_to_date_from
from yibao.audit.book_index import index_entry
from yibao.audit.chain import link
from yibao.audit.settle import BookSettler
from yibao.audit.sqlite_store import SQLiteStore

FIXED_TIME = "2023-12-29T00:00:00+00:00"
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


def test_a_settlement_on_top_is_built_from_the_template_as_link_would_write_it(
        store, benxi_engine, monkeypatch):
    """bx-0002 and bx-0003 come after bx-0001's recorded ledger: both are booked from the
    run's template (never the general writer), and each body is what chain.link writes
    for its fields, its index entry what book_index.index_entry writes."""
    settle_lines(store, benxi_engine, "bx-0001")
    general = []
    write = settle_module._Session._write
    monkeypatch.setattr(settle_module._Session, "_write",
                        lambda session, key, fields: (general.append(fields["kind"]),
                                                      write(session, key, fields))[1])
    report = settle_lines(store, benxi_engine, "bx-0002", "bx-0003")
    assert general == []
    assert [paid(report, c) for c in ("bx-0002", "bx-0003")] == ["6000.00", "6200.00"]
    records = list(store.records())
    entries = {entry.seq: entry.entry for entry in store.book_records("p-01", 2023)}
    for record in records[1:]:
        data = record.data
        fields = {key: value for key, value in data.items()
                  if key not in ("format", "seq", "prev")}
        assert (record.body, record.hash) == link(fields, record.seq, data["prev"])
        assert entries[record.seq] == index_entry(data)[2]
    # Two claims of one person-year, one event: the ledger after it rides on the first.
    second, third = records[1].data, records[2].data
    assert [row[0] for row in second["ledger_after"]["claims"]] == ["bx-0001", "bx-0002",
                                                                     "bx-0003"]
    assert "ledger_after" not in third
    # No list of the claims before it (yibao-audit/4): they are the event's ledger's.
    assert "year_to_date_from" not in third
    assert [row["claim_id"] for row in year_to_date_from(
        third, records[2].seq, store.book_records("p-01", 2023))] == ["bx-0001", "bx-0002"]


def test_a_record_the_template_cannot_write_goes_the_general_way(benxi_engine, monkeypatch,
                                                                 tmp_path):
    """The template refuses a value orjson would not write as json does (NotTemplated: a
    lone surrogate, an integer past 64 bits; claims never hold one today, C300 refuses
    the first): that person-year's records are booked by the general writer, and the
    book holds the same bytes as one written with the template, the event's ledger on
    the record that opens it."""
    lines = [EXAMPLE[c] for c in ("bx-0001", "bx-0002", "bx-0003")]

    def book(path):
        with SQLiteStore(path, create=True) as store:
            for run in (lines[:1], lines[1:]):
                settler = BookSettler(store, benxi_engine, clock=lambda: FIXED_TIME)
                for _ in settler.run(enumerate(run, 1)):
                    pass
            return [(r.seq, r.hash, r.body) for r in store.records()]
    calls = []

    def refuse(*args):
        calls.append(args[1])
        raise settlement_template.NotTemplated("a lone surrogate")
    monkeypatch.setattr(settlement_template.SettlementTemplate, "record", refuse)
    refused = book(str(tmp_path / "refused.db"))
    assert len(calls) == 1      # bx-0002 tried it: its person-year went the general way
    monkeypatch.undo()
    assert refused == book(str(tmp_path / "templated.db"))
    assert '"ledger_after"' in refused[1][2] and '"ledger_after"' not in refused[2][2]

