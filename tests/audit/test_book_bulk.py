"""The bulk path of a transaction (audit/on_top.py) against the per-claim path: same bytes.

Benxi 2023 and a revision (cap 3万 from 2023-07-01, tests/helpers.py's
BENXI_REVISION): two policy versions.  Every claim here is 低保边缘家庭成员, 住院, with
基本医保 paying 10,000 of its in-scope cost and 大病保险 nothing, so its burden is
in-scope − 10,000; 基本救助 pays (year-to-date burden − 2,000) × 60%, less what
the year paid before, within the cap in force on the claim's date (2万, then 3万).

A second run mixes, across several person-years, claims on top of the book (one
before the revision's date, settled under benxi-2023), two on-top claims of one
person-year that arrive out of date order, a late claim, a withdrawal, a correction,
a repeat, a refused line and a new person; a third run settles on top of the ledgers
those events wrote.  The book written with the bulk path, with the per-claim path
(each on-top person-year settled on its ledger alone and written by the general
writer, chain.link) and with every person-year settled again whole
must be the same bytes, and the report the same lines.
"""

from __future__ import annotations

import json

import pytest

from helpers import BENXI_REVISION as REVISION, POLICIES, claim
from yibao.api import load_engine
from yibao.audit import settle
from yibao.audit.settle import BookSettler
from yibao.audit.sqlite_store import SQLiteStore

FIXED_TIME = "2023-12-29T00:00:00+00:00"
BASIC = "基本救助"


def bx(claim_id: str, person: str, date: str, burden: int) -> dict:
    return claim(claim_id, person, date, ["低保边缘家庭成员"], f"{burden + 10_000}.00",
                 {"基本医保": "10000.00", "大病保险": "0.00"})


BOOKED = [
    bx("a1", "p-1", "2023-02-01", 15_000), bx("a2", "p-1", "2023-08-01", 20_000),
    bx("b1", "p-2", "2023-02-01", 20_000), bx("b2", "p-2", "2023-08-01", 20_000),
    bx("c1", "p-3", "2023-02-01", 15_000), bx("c2", "p-3", "2023-08-01", 10_000),
    bx("d1", "p-4", "2023-02-01", 15_000), bx("d2", "p-4", "2023-08-01", 10_000),
    bx("e1", "p-5", "2023-02-01", 10_000),
]
MIXED = [
    bx("a3", "p-1", "2023-12-01", 10_000),            # on top, then its year is corrected
    bx("b4", "p-2", "2023-12-20", 15_000),            # on top, two of them out of date order
    bx("b3", "p-2", "2023-12-10", 10_000),
    bx("c0", "p-3", "2023-03-01", 5_000),             # late: adjustments
    {"claim_id": "d1", "withdraw": True},             # a withdrawal
    bx("d3", "p-4", "2023-12-01", 5_000),             # after it, in the same transaction
    bx("e2", "p-5", "2023-04-01", 15_000),            # on top, under benxi-2023 (before 07-01)
    {**bx("a2", "p-1", "2023-08-01", 25_000), "correction": True},
    bx("c1", "p-3", "2023-02-01", 15_000),            # a repeat
    {"claim_id": "x1", "person_id": "p-9"},           # refused: no date (C3xx)
    bx("f1", "p-6", "2023-05-01", 10_000),            # a new person
]
AFTER = [bx(f"{person}-9", person, "2023-12-28", 3_000) for person in
         ("p-1", "p-2", "p-3", "p-4", "p-5", "p-6")]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    folder = tmp_path_factory.mktemp("revised")
    (folder / "benxi-2023.policy").write_text(
        (POLICIES / "benxi-2023.policy").read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "benxi-2023-07.policy").write_text(REVISION, encoding="utf-8")
    return load_engine(folder / "benxi-2023-07.policy")


def book(path: str, engine) -> tuple[list[tuple], list[dict]]:
    reports = []
    with SQLiteStore(path, create=True) as store:
        for run, every in ((BOOKED, 4), (MIXED, 100), (AFTER, 3)):
            lines = [json.dumps(c, ensure_ascii=False) for c in run]
            settler = BookSettler(store, engine, clock=lambda: FIXED_TIME)
            for report in settler.run(enumerate(lines, 1), every):
                reports.extend(report)
        return [(r.seq, r.hash, r.body) for r in store.records()], reports


def paid(report: list[dict], claim_id: str) -> str:
    return next(e["payouts"][BASIC] for e in report
                if e["kind"] == "settlement" and e["claim_id"] == claim_id)


def test_the_bulk_path_writes_what_the_per_claim_path_writes(engine, tmp_path, monkeypatch):
    carried, original = [], settle.prepare_on_top

    def watched(session, keys):
        carried.extend(b.claim_id for key in keys for b, _, _ in session.pending[key])
        return original(session, keys)
    monkeypatch.setattr(settle, "prepare_on_top", watched)
    bulk, bulk_report = book(str(tmp_path / "bulk.db"), engine)
    # The bulk path carried the on-top claims of both versions and of a person-year whose
    # two new claims arrive out of date order, and the third run's after the events.
    assert {"b3", "b4", "e2", "p-2-9", "p-3-9", "p-4-9", "p-5-9"} <= set(carried)
    # p-5: e1 paid (10,000 − 2,000) × 60% = 4,800; e2 (before 07-01, benxi-2023):
    # (25,000 − 2,000) × 60% − 4,800 = 9,000.
    assert paid(bulk_report, "e2") == "9000.00"
    # p-2 paid 10,800 then 22,800 in all (b1, b2); in date order b3 (12-10) then b4
    # (12-20): b3 (50,000 − 2,000) × 60% − 22,800 = 6,000; b4 would take 37,800, the
    # revision's cap 3万 leaves 30,000 − 28,800 = 1,200 (in input order: 7,200 and 0).
    assert (paid(bulk_report, "b3"), paid(bulk_report, "b4")) == ("6000.00", "1200.00")
    assert any(e["kind"] == "error" for e in bulk_report)

    monkeypatch.setattr(settle, "prepare_on_top", lambda session, keys: {})
    per_claim, per_claim_report = book(str(tmp_path / "per-claim.db"), engine)
    assert bulk_report == per_claim_report
    assert bulk == per_claim

    monkeypatch.setattr(settle._Session, "_tails", lambda *_: {})
    monkeypatch.setattr(settle._Session, "_after_every_booked_claim", lambda *_: False)
    whole, whole_report = book(str(tmp_path / "whole.db"), engine)
    assert bulk_report == whole_report
    assert bulk == whole
