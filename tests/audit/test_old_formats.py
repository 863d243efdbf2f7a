"""Stores written before records lost their trace (formats yibao-audit/1 and /2), and
before settlements lost their list of earlier claims (/3), still verify, replay and
show, and take new (yibao-audit/4) entries.

tests/audit/fixtures/book-v2.db was written by yibao before the third format, with
Benxi's example claims (the figures of tests/audit/test_book.py's docstring):

- #1 ``eval --record`` of bx-0004 (yibao-audit/1, with its trace);
- #2, #3 ``settle`` of bx-0001 and bx-0003 of p-01 (yibao-audit/2): 基本救助 7,800 and
  (15,000 + 20,000 − 2,000) × 60% − 7,800 = 12,000 (19,800 in the year, under the cap);
- #4–#6 bx-0002, dated between them (a late claim): 基本救助 6,000, and bx-0003
  adjusted to the cap's remainder 20,000 − 13,800 = 6,200 (−5,800), 倾斜救助 8,280;
- #7–#9 bx-0003 withdrawn: its nets recovered to zero.

tests/audit/fixtures/book-v3.db was written by yibao before the fourth format (every
record ``yibao-audit/3``: no trace, each settlement, correction and revision listing
the claims behind its 本次前 in ``year_to_date_from``), by six ``settle`` runs of
Benxi's example claims (p-01 低保边缘家庭成员, p-02 特困人员, p-03 低保对象):

- #1–#3 bx-0003 then bx-0001 of p-01 (one event, settled in date order: the ledger on
  #1) and bx-0004 of p-02;
- #4–#6 bx-0002, a late claim, and bx-0003's adjustments;
- #7–#12 bx-0002 corrected (in-scope cost 21,000), its and bx-0003's adjustments, then
  bx-0006 of p-01 (October) in the same transaction, its own event;
- #13–#17 bx-0003 withdrawn (冲正), bx-0006's and bx-0003's adjustments;
- #18 ``--retroactive`` with tests/helpers.py's revision (基本救助 cap 3万 from July):
  bx-0006 revised;
- #19–#21 under the revised chain: bx-0007 and bx-0008 of p-01 (November, one event,
  the ledger on #19) and bx-0005 of p-03.
"""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from helpers import EXAMPLES, POLICIES
from yibao.audit.book import claim_object, year_to_date_from
from yibao.audit.book_index import copied_index_entry, index_entry
from yibao.audit.book_explain import explain_in_book, recorded_earlier
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
FIXTURE_V3 = FIXTURE.with_name("book-v3.db")
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


def test_new_entries_go_on_an_old_book_in_the_fourth_format(old_book, tmp_path, capsys):
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
    assert written["format"] == "yibao-audit/4" and "trace" not in written["outcome"]
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


@pytest.fixture
def book_v3(tmp_path):
    path = tmp_path / "book-v3.db"
    shutil.copy(FIXTURE_V3, path)
    return str(path)


def fixture_chain(book: str, folder) -> str:
    """The fixture's two policy texts (Benxi and its revision), each in a file named
    for its policy id; the revision's path, which loads both."""
    db = sqlite3.connect(book)
    texts = [text for (text,) in db.execute("SELECT text FROM sources")]
    db.close()
    paths = {}
    for text in texts:
        revision = text.startswith("policy ")
        name = text.split()[1] if revision else "benxi-2023"
        paths[revision] = folder / f"{name}.policy"
        paths[revision].write_text(text, encoding="utf-8")
    return str(paths[True])


def settle_into(book: str, folder, *events: dict) -> None:
    claims = folder / "claims.jsonl"
    claims.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events),
                      encoding="utf-8")
    assert main(["settle", fixture_chain(book, folder), str(claims), "--book", book]) == EXIT_OK


def earlier_shown(out: str) -> list[tuple[str, str, str]]:
    """The claims `audit show` lists behind 本次前: (id, 基本救助 base and payout)."""
    lines = out.split("本次前（账簿中", 1)[1].split("此后的调整")[0].splitlines()[1:]
    found = []
    for line in lines:
        if line.strip().startswith("无"):
            continue    # 无：年度累计从零开始
        claim_id = line.split()[0]
        base = line.split("基数 ")[1].split(";")[0]
        paid = line.split("支付 ")[1]
        found.append((claim_id, _amount(base, "基本救助"), _amount(paid, "基本救助")))
    return found


def _amount(listed: str, line: str) -> str:
    return next(part.split()[1] for part in listed.split(", ") if part.split()[0] == line)


BX_0001 = ("bx-0001", "15000.00", "7800.00")   # burden 15,000; (15,000 − 2,000) × 60%


def test_a_v3_record_lists_what_its_events_ledger_lists_before_it(book_v3):
    """The fourth format drops ``year_to_date_from`` because it is the prefix of the
    event's ledger up to the claim: on every /3 settlement, correction and revision of
    the fixture (an event's first entry and a later one, a same-run claim settled before
    an earlier arrival, a late claim, a correction, a revision), the list derived from the
    ledger is the one the record holds."""
    with open_store(book_v3) as store:
        records = list(store.records())
        assert {r.data["format"] for r in records} == {"yibao-audit/3"}
        listed = [r for r in records if "year_to_date_from" in r.data]
        assert [r.data["kind"] for r in listed].count("settlement") == 8
        assert {r.data["kind"] for r in listed} == {"settlement", "correction", "revision"}
        for record in listed:
            body = record.data
            without = {k: v for k, v in body.items() if k != "year_to_date_from"}
            entries = store.book_records(body["person_id"], body["year"])
            assert year_to_date_from(without, record.seq, entries) == \
                body["year_to_date_from"], record.seq
    by_seq = {r.seq: [e["claim_id"] for e in r.data["year_to_date_from"]] for r in listed}
    assert by_seq[1] == ["bx-0001"] and by_seq[2] == [] and by_seq[20] == [
        "bx-0001", "bx-0002", "bx-0006", "bx-0007"]


def test_a_book_of_v3_and_v4_records_verifies_replays_and_shows_both(book_v3, tmp_path,
                                                                      capsys):
    """New entries on the /3 book are /4 (no year_to_date_from); the book holding both
    verifies and replays, and `audit show` lists 本次前 for either: the /3 record's own
    list, the /4 record's from its event's ledger, the same as settling the person-year
    again says (explain_in_book)."""
    # p-01's bx-0009 in December, on top of its year.  A claim of p-02 (特困人员) dated
    # before bx-0004, a late claim: burden 40,000 − 16,000 − 2,000 = 22,000, 基本救助 at
    # 70% 15,400; 本次前 empty; bx-0004's 7,000 (burden 10,000 × 70%) falls to what is
    # left of the 2万 cap (the revision's 3万 is from July), 4,600: −2,400.
    on_top = {**EXAMPLE["bx-0001"], "claim_id": "bx-0009", "date": "2023-12-01"}
    late = {**EXAMPLE["bx-0004"], "claim_id": "bx-0004a", "date": "2023-02-01",
            "in_scope_cost": "40000.00", "total_cost": "42000.00"}
    settle_into(book_v3, tmp_path, on_top, late)
    report = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["kind"], r["claim_id"]) for r in report][:2] == [
        ("settlement", "bx-0009"), ("settlement", "bx-0004a")]
    assert report[1]["payouts"]["基本救助"] == "15400.00"
    assert [(r["claim_id"], r["delta"], r["net"]) for r in report
            if r["kind"] == "adjustment" and r["line"] == "基本救助"] == [
        ("bx-0004", "-2400.00", "4600.00")]
    found = bodies(book_v3)
    assert {b["format"] for b in found[21:]} == {"yibao-audit/4"}
    assert not any("year_to_date_from" in b for b in found[21:])
    with open_store(book_v3) as store:
        assert verify_store(store).ok
        assert replay_store(store).ok
        engine = Engine(load_policy(fixture_chain(book_v3, tmp_path)))
        again = explain_in_book(store, engine, engine.validate(on_top), on_top)
    assert main(["audit", "verify", book_v3]) == EXIT_OK
    capsys.readouterr()
    assert main(["audit", "show", book_v3, "--claim", "bx-0002"]) == EXIT_OK    # /3
    assert earlier_shown(capsys.readouterr().out) == [BX_0001]
    assert main(["audit", "show", book_v3, "--claim", "bx-0009"]) == EXIT_OK    # /4
    shown = earlier_shown(capsys.readouterr().out)
    assert [row[0] for row in shown] == ["bx-0001", "bx-0002", "bx-0006", "bx-0007", "bx-0008"]
    assert shown[0] == BX_0001
    assert shown == [(e["claim_id"], e["base"]["基本救助"], e["paid"]["基本救助"])
                     for e in again.earlier]
    assert main(["audit", "show", book_v3, "--claim", "bx-0004a"]) == EXIT_OK   # /4, late
    out = capsys.readouterr().out
    assert "无：年度累计从零开始" in out and earlier_shown(out) == []


def test_a_v4_correction_lists_the_claims_before_it_from_its_own_ledger(book_v3, tmp_path):
    """A correction opens its event: its record carries the ledger, and 本次前 is the
    prefix of that ledger's claims up to it, as settling the person-year again lists it."""
    corrected = {**EXAMPLE["bx-0001"], "claim_id": "bx-0007", "date": "2023-11-01",
                 "in_scope_cost": "30000.00", "correction": True}
    settle_into(book_v3, tmp_path, corrected)
    text = {k: v for k, v in corrected.items() if k != "correction"}
    with open_store(book_v3) as store:
        record = list(store.records())[21]
        written = record.data
        earlier = recorded_earlier(store, record.seq, written)
        engine = Engine(load_policy(fixture_chain(book_v3, tmp_path)))
        again = explain_in_book(store, engine, engine.validate(text), text)
    assert written["kind"] == "correction" and written["format"] == "yibao-audit/4"
    assert "ledger_after" in written and "year_to_date_from" not in written
    assert [e["claim_id"] for e in earlier] == ["bx-0001", "bx-0002", "bx-0006"]
    assert earlier[0]["base"]["基本救助"] == "15000.00" and \
        earlier[0]["paid"]["基本救助"] == "7800.00"
    assert earlier == list(again.earlier)


def index_rows(book: str) -> dict[int, str]:
    with open_store(book) as store:
        return {seq: entry for seq, _, _, entry in store.book_index()}


def test_an_index_that_copies_its_records_is_read_as_it_is_and_reindexed_lean(
        book_v3, tmp_path, capsys):
    """Issue 22 §9: an index entry no longer copies its record's claim, policy chain and
    ledger (it marks the ledger, ``"ledger_after":true``; readers take them from the body).
    The fixture's index was written before, copying them: new entries on it are lean, each
    row verifies in its own shape, and `audit reindex` moves every row to the lean one,
    after which settling, replay and show read the same figures from the bodies.

    p-02 (特困人员, 70%, annual cap 2万 before the July revision) holds bx-0004: burden
    28,000 − 16,000 − 2,000 = 10,000, 基本救助 7,000.  bx-0004b (April, burden
    38,000 − 18,000 = 20,000: 14,000) is settled on top of bx-0004's copied ledger and
    pays what is left of the cap, 13,000; after the reindex bx-0004c (May, burden 10,000)
    reads the ledger from bx-0004b's body: the cap is spent, 0.00."""
    before = index_rows(book_v3)
    assert len(before) == 21
    assert all('"claim":' in entry and '"policies":' in entry
               for entry in before.values() if '"kind":"settlement"' in entry)
    april = {**EXAMPLE["bx-0004"], "claim_id": "bx-0004b", "date": "2023-04-01",
             "in_scope_cost": "38000.00", "total_cost": "40000.00"}
    settle_into(book_v3, tmp_path, april)
    report = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["kind"], r["claim_id"], r["payouts"]["基本救助"]) for r in report] == [
        ("settlement", "bx-0004b", "13000.00")]
    after = index_rows(book_v3)
    assert {seq: after[seq] for seq in before} == before       # the copying rows as they were
    with open_store(book_v3) as store:
        [record] = list(store.records(after=21))
        body = record.data
        assert after[22] == index_entry(body)[2]
        lean = json.loads(after[22])
        assert lean["ledger_after"] is True and "claim" not in lean and "policies" not in lean
        assert len(after[22]) < len(copied_index_entry(body)[2]) / 2
        assert verify_store(store).ok                          # both shapes, each its body's
    assert main(["audit", "reindex", book_v3]) == EXIT_OK
    moved = index_rows(book_v3)
    with open_store(book_v3) as store:
        assert moved == {r.seq: index_entry(r.data)[2] for r in store.records()
                         if "kind" in r.data}
        assert not any('"claim":' in entry or '"policies":' in entry
                       for entry in moved.values())
        assert verify_store(store).ok and replay_store(store).ok
    capsys.readouterr()
    assert main(["audit", "show", book_v3, "--claim", "bx-0004b"]) == EXIT_OK
    assert earlier_shown(capsys.readouterr().out) == [("bx-0004", "10000.00", "7000.00")]
    assert main(["audit", "show", book_v3, "--claim", "bx-0002"]) == EXIT_OK   # /3, own list
    assert earlier_shown(capsys.readouterr().out) == [BX_0001]
    may = {**EXAMPLE["bx-0004"], "claim_id": "bx-0004c", "date": "2023-05-01"}
    settle_into(book_v3, tmp_path, may)
    report = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["kind"], r["claim_id"], r["payouts"]["基本救助"]) for r in report] == [
        ("settlement", "bx-0004c", "0.00")]
    with open_store(book_v3) as store:
        assert verify_store(store).ok and replay_store(store).ok
