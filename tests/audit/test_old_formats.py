"""Stores written before records lost their trace (formats yibao-audit/1 and /2) still
verify, replay and show, and take new (yibao-audit/3) entries.

tests/audit/fixtures/book-v2.db was written by yibao before the third format, with
Benxi's example claims (the figures of tests/audit/test_book.py's docstring):

- #1 ``eval --record`` of bx-0004 (yibao-audit/1, with its trace);
- #2, #3 ``settle`` of bx-0001 and bx-0003 of p-01 (yibao-audit/2): 基本救助 7,800 and
  (15,000 + 20,000 − 2,000) × 60% − 7,800 = 12,000 (19,800 in the year, under the cap);
- #4–#6 bx-0002, dated between them (a late claim): 基本救助 6,000, and bx-0003
  adjusted to the cap's remainder 20,000 − 13,800 = 6,200 (−5,800), 倾斜救助 8,280;
- #7–#9 bx-0003 withdrawn: its nets recovered to zero.
"""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from helpers import EXAMPLES, POLICIES
from yibao.audit.book import claim_object
from yibao.audit.replay import replay_store
from yibao.audit.rederive import same_settlement
from yibao.audit.restore import recorded_settlement
from yibao.audit.stores import open_store
from yibao.audit.verify import verify_store
from yibao.cli.main import EXIT_OK, main
from yibao.runtime.batch import Engine
from yibao.runtime.ledger import Ledger
from yibao.dsl.loader import load_policy

FIXTURE = EXAMPLES.parent.parent / "tests" / "audit" / "fixtures" / "book-v2.db"
POLICY = str(POLICIES / "benxi-2023.policy")
EXAMPLE = {json.loads(line)["claim_id"]: json.loads(line)
           for line in (EXAMPLES / "benxi-2023.jsonl").read_text(encoding="utf-8").splitlines()}


@pytest.fixture
def old_book(tmp_path):
    path = tmp_path / "book-v2.db"
    shutil.copy(FIXTURE, path)
    return str(path)


def bodies(location) -> list[dict]:
    with open_store(location) as store:
        return [record.data for record in store.records()]


def test_the_fixture_holds_the_first_two_formats_with_their_traces(old_book):
    found = bodies(old_book)
    assert [b["format"] for b in found] == ["yibao-audit/1"] + ["yibao-audit/2"] * 8
    assert all(b["outcome"]["trace"] for b in found if "outcome" in b)


def test_an_old_store_verifies_and_replays(old_book):
    with open_store(old_book) as store:
        assert verify_store(store).records == 9
        report = replay_store(store)
        assert report.ok, report.differences


def test_an_old_record_is_shown_from_its_own_trace(old_book):
    with open_store(old_book) as store:
        record = store.records_of_claim("bx-0001")[0]
        shown = recorded_settlement(store, record.data)
    assert not shown.rederived
    assert shown.result.payout("基本救助") == 7800
    assert [step.to_json() for step in shown.result.trace] == record.data["outcome"]["trace"]


def fixture_policy(book: str, folder) -> str:
    """Benxi's text as the fixture's records were settled under (the shipped file has
    been edited since, so its hash is no longer the one the book holds: B106)."""
    db = sqlite3.connect(book)
    (text,) = db.execute("SELECT text FROM sources").fetchone()
    db.close()
    path = folder / "benxi-2023.policy"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_new_entries_go_on_an_old_book_in_the_third_format(old_book, tmp_path, capsys):
    policy = fixture_policy(old_book, tmp_path)
    # bx-0003 again under a new id, dated after bx-0002: with bx-0003 withdrawn, p-01's
    # year holds 7,800 + 6,000 = 13,800 of 基本救助's 20,000 cap: it pays the remainder
    # 6,200, and 倾斜救助 (20,000 − 6,200 = 13,800 left; year 7,200 + 4,000 + 13,800 =
    # 25,000 − 3,000 = 22,000 × 60% = 13,200, less 2,520 + 2,400 paid) 8,280.
    again = {**EXAMPLE["bx-0003"], "claim_id": "bx-0003b"}
    claims = tmp_path / "claims.jsonl"
    claims.write_text(json.dumps(again, ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(["settle", policy, str(claims), "--book", old_book]) == EXIT_OK
    settled = json.loads(capsys.readouterr().out)
    assert settled["payouts"] == {"倾斜救助": "8280.00", "基本救助": "6200.00",
                                  "精神障碍床日定额救助": "0.00"}
    written = bodies(old_book)[-1]
    assert written["format"] == "yibao-audit/3" and "trace" not in written["outcome"]
    with open_store(old_book) as store:
        assert verify_store(store).ok
        assert replay_store(store).ok
        shown = recorded_settlement(store, written)
    # The trace derived from the book is the one a single run of p-01's final claims
    # makes for it: bx-0001, bx-0002, then bx-0003b.
    engine = Engine(load_policy(policy))
    ledger = Ledger()
    for claim_id in ("bx-0001", "bx-0002"):
        engine.evaluate_claim(engine.validate(EXAMPLE[claim_id]), ledger)
    live = engine.evaluate_claim(engine.validate(claim_object(json.dumps(again))[0]), ledger,
                                 trace=True)
    assert shown.rederived and shown.matches
    assert shown.result.trace == live.trace
    assert main(["audit", "show", old_book, "--claim", "bx-0003b"]) == EXIT_OK
    assert "6200.00" in capsys.readouterr().out


def test_a_derived_trace_whose_figures_differ_is_flagged(old_book):
    with open_store(old_book) as store:
        body = store.records_of_claim("bx-0001")[0].data
        outcome = recorded_settlement(store, body).result
    assert same_settlement(body, outcome)
    paid_other = {**body, "outcome": {**body["outcome"], "total_paid": "1.00"}}
    assert not same_settlement(paid_other, outcome)
