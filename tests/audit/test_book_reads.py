"""What a settle transaction reads from the book, and how little (issue 22 §9).

Claims: Benxi's examples of p-01 (figures in tests/audit/test_book.py's docstring):
bx-0001 (02-10) pays 基本救助 7,800, bx-0002 (05-20) 6,000, bx-0003 (09-03) the
cap's remainder 20,000 − 13,800 = 6,200.
"""

from __future__ import annotations

import json

import pytest

from helpers import EXAMPLES
from yibao.audit import settle as settle_module
from yibao.audit.book_explain import recorded_earlier
from yibao.audit.restore import recorded_settlement
from yibao.audit.settle import BookSettler, _current_ledger
from yibao.audit.store import BookEntry, ledger_of

EXAMPLE = {json.loads(line)["claim_id"]: line
           for line in (EXAMPLES / "benxi-2023.jsonl").read_text(encoding="utf-8").splitlines()}


def settle_lines(store, engine, *claim_ids):
    settler = BookSettler(store, engine)
    report = []
    for lines in settler.run(enumerate((EXAMPLE[c] for c in claim_ids), 1)):
        report.extend(lines)
    return report


def paid(report, claim_id):
    return next(e["payouts"]["基本救助"] for e in report
                if e["kind"] == "settlement" and e["claim_id"] == claim_id)


def test_a_transaction_reads_ahead_and_never_one_person_year_at_a_time(store, benxi_engine,
                                                                       monkeypatch):
    settle_lines(store, benxi_engine, "bx-0001")

    def one_at_a_time(*_):
        raise AssertionError("a person-year read on its own")
    monkeypatch.setattr(store, "book_records", one_at_a_time)
    monkeypatch.setattr(store, "records_of_claim", one_at_a_time)
    report = settle_lines(store, benxi_engine, "bx-0002", "bx-0003")
    assert (paid(report, "bx-0002"), paid(report, "bx-0003")) == ("6000.00", "6200.00")


def test_claims_after_the_booked_ones_are_settled_on_the_recorded_ledger(store, benxi_engine,
                                                                         monkeypatch):
    settle_lines(store, benxi_engine, "bx-0001", "bx-0002")
    folded = []
    original = settle_module.fold
    monkeypatch.setattr(settle_module, "fold", lambda entries: folded.append(1) or original(
        entries))
    report = settle_lines(store, benxi_engine, "bx-0003")
    assert paid(report, "bx-0003") == "6200.00"
    assert folded == []             # the booked claims were not read, only the ledger


def test_a_late_claim_still_reads_its_person_year_whole(store, benxi_engine, monkeypatch):
    settle_lines(store, benxi_engine, "bx-0001", "bx-0003")
    folded = []
    original = settle_module.fold
    monkeypatch.setattr(settle_module, "fold", lambda entries: folded.append(1) or original(
        entries))
    report = settle_lines(store, benxi_engine, "bx-0002")
    assert folded == [1]
    assert paid(report, "bx-0002") == "6000.00"
    # bx-0003 had 12,000 ((15,000 + 20,000 − 2,000) × 60% − 7,800): 5,800 recovered.
    assert [(e["claim_id"], e["line"], e["delta"]) for e in report
            if e["kind"] == "adjustment" and e["line"] == "基本救助"] == [
        ("bx-0003", "基本救助", "-5800.00")]


def test_the_trace_of_a_claim_settled_with_a_later_arrival_is_derived_as_settled(
        store, benxi_engine):
    # One run: bx-0003 arrives first, bx-0001 (dated before it) second; settled together
    # in date order, bx-0003 after bx-0001.  Its record comes first in the chain, so its
    # trace must be derived from the person-year at the end of the event, not before it.
    settle_lines(store, benxi_engine, "bx-0003", "bx-0001")
    found = store.records_of_claim("bx-0003")[0]
    record = found.data
    # 本次前 is bx-0001 (yibao-audit/4: read from the ledger on bx-0003's own record, the
    # event's first): burden 35,000 − 17,000 − 3,000 = 15,000; 基本救助 (15,000 − 2,000) ×
    # 60% = 7,800; 倾斜救助 on what is left, 15,000 − 7,800 = 7,200: (7,200 − 3,000) × 60%
    # = 2,520 (Benxi §(五), 低保边缘家庭成员).
    [earlier] = recorded_earlier(store, found.seq, record)
    assert earlier["claim_id"] == "bx-0001" and earlier["date"] == "2023-02-10"
    assert (earlier["base"]["基本救助"], earlier["paid"]["基本救助"]) == ("15000.00", "7800.00")
    assert (earlier["base"]["倾斜救助"], earlier["paid"]["倾斜救助"]) == ("7200.00", "2520.00")
    shown = recorded_settlement(store, record)
    assert shown.rederived and shown.matches
    assert str(shown.result.payout("基本救助")) == "12000.00"
    assert any(step.op == "schedule" for step in shown.result.trace)


def entry(seq: int, **fields) -> BookEntry:
    return BookEntry(seq, f"{seq:064x}", json.dumps(fields, ensure_ascii=False, sort_keys=True,
                                                    separators=(",", ":")))


SHA = "a" * 64
APPLIED = (f'"policy_sha256":"{SHA}"',)   # how an entry names the chain's one version
LEDGER = {"lines": {}, "alerts": {}, "claims": [["c1", "2023-01-02", {}, {}]]}


@pytest.mark.parametrize("after, current", [
    ([], True),
    ([entry(3, kind="adjustment", claim_id="c0", line="基本救助")], True),
    ([entry(3, kind="withdrawal", claim_id="c1")], False),           # an event without ledger
    ([entry(3, kind="settlement", claim_id="c2", policy_sha256=SHA)], False),   # not listed
])
def test_the_recorded_ledger_is_current_only_with_its_own_event_after_it(after, current):
    entries = [entry(1, kind="settlement", claim_id="c0", policy_sha256=SHA),
               entry(2, kind="settlement", claim_id="c1", policy_sha256=SHA, ledger_after=LEDGER),
               *after]
    assert (_current_ledger(entries, APPLIED) == LEDGER) is current


def test_a_version_the_chain_lacks_reads_the_person_year_whole():
    entries = [entry(1, kind="settlement", claim_id="c1", policy_sha256="b" * 64,
                     ledger_after=LEDGER)]
    assert _current_ledger(entries, APPLIED) is None


def test_with_two_versions_in_the_chain_an_entry_may_name_either():
    revised = "c" * 64
    chain = APPLIED + (f'"policy_sha256":"{revised}"',)
    entries = [entry(1, kind="settlement", claim_id="c0", policy_sha256=revised),
               entry(2, kind="settlement", claim_id="c1", policy_sha256=SHA, ledger_after=LEDGER)]
    assert _current_ledger(entries, chain) == LEDGER
    assert _current_ledger(entries, APPLIED) is None      # c0's version is not in a chain of one
    other = [entry(1, kind="settlement", claim_id="c1", policy_sha256="b" * 64,
                   ledger_after=LEDGER)]
    assert _current_ledger(other, chain) is None


def test_a_persons_claims_and_a_records_hash_are_read_by_key(store, benxi_engine):
    # what the desk's search by person and its index's check of the last record read
    # use (desk/search_book.py, desk/catalog.py); the base class's walk gives the same
    settle_lines(store, benxi_engine, "bx-0003", "bx-0001", "bx-0004", "bx-0002")
    # in the order of each claim's first entry in the chain
    first = {c: store.records_of_claim(c)[0].seq for c in ("bx-0001", "bx-0002", "bx-0003")}
    assert store.person_claims("p-01") == sorted(first, key=first.get)
    assert store.person_claims("p-02") == ["bx-0004"] and store.person_claims("p-99") == []
    records = list(store.records())
    assert [store.record_hash(r.seq) for r in records] == [r.hash for r in records]
    assert store.record_hash(len(records) + 1) is None
    base = type(store).__mro__[1]
    assert base.person_claims(store, "p-01") == store.person_claims("p-01")
    assert base.record_hash(store, 2) == store.record_hash(2)


# ---- the person-year table: its entries and where its latest ledger is (docs/book.md) ----
def ledger_rows(store):
    return dict(((person, year), seq) for person, year, seq in store._db.execute(
        "SELECT person_id, year, ledger FROM book_years WHERE ledger IS NOT NULL"))


def listed(store):
    return {(person, year): json.loads(seqs) for person, year, seqs in
            store._db.execute("SELECT person_id, year, seqs FROM book_years")}


def indexed(store):
    found = {}
    for seq, person, year, _ in store.book_index():
        found.setdefault((person, year), []).append(seq)
    return found


def as_before_the_table(store):
    """The store as a yibao before the person-year table wrote it: found through an index
    of book_index by person-year, the ledgers' seqs in a table of their own."""
    ledgers = ledger_rows(store)
    store._db.execute("DROP TABLE book_years")
    store._db.execute("CREATE INDEX book_by_person_year ON book_index (person_id, year, seq)")
    store._db.execute("CREATE TABLE book_ledgers (person_id TEXT NOT NULL, year INTEGER NOT "
                      "NULL, seq INTEGER NOT NULL, PRIMARY KEY (person_id, year)) WITHOUT ROWID")
    store._db.executemany("INSERT INTO book_ledgers VALUES (?, ?, ?)",
                          [(*key, seq) for key, seq in ledgers.items()])
    store._db.execute("UPDATE meta SET value = 'yibao-audit/2' WHERE key = 'format'")


def schema_of(store):
    return ({name for (name,) in store._db.execute("SELECT name FROM sqlite_master")},
            store._db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()[0])


def reads(store, monkeypatch):
    """The person-years read whole, and the entries read from a ledger on, by key."""
    whole, tails = [], {}
    read_whole, read_tails = store.book_records_of, store.book_tails

    def book_records_of(keys):
        keys = set(keys)
        whole.extend(key for key in keys if key[0])     # not the years' closures
        return read_whole(keys)

    def book_tails(keys):
        found = read_tails(keys)
        tails.update({key: [e.seq for e in entries] for key, entries in found.items()})
        return found
    monkeypatch.setattr(store, "book_records_of", book_records_of)
    monkeypatch.setattr(store, "book_tails", book_tails)
    return whole, tails


def test_a_claim_after_the_booked_ones_reads_its_person_year_from_the_ledger_on(
        store, benxi_engine, monkeypatch):
    settle_lines(store, benxi_engine, "bx-0001")
    settle_lines(store, benxi_engine, "bx-0002")
    ledger_at = store.records_of_claim("bx-0002")[0].seq    # its settlement holds the ledger
    assert ledger_rows(store) == {("p-01", 2023): ledger_at}
    whole, tails = reads(store, monkeypatch)
    report = settle_lines(store, benxi_engine, "bx-0003")
    # 20,000 − 7,800 − 6,000 = 6,200, from the ledger; bx-0001's entry was not read
    assert paid(report, "bx-0003") == "6200.00"
    assert whole == [] and tails == {("p-01", 2023): [ledger_at]}
    assert ledger_rows(store) == {("p-01", 2023): store.records_of_claim("bx-0003")[0].seq}


def test_a_late_claim_reads_its_person_year_whole_after_its_ledger(store, benxi_engine,
                                                                   monkeypatch):
    settle_lines(store, benxi_engine, "bx-0001", "bx-0003")
    whole, tails = reads(store, monkeypatch)
    report = settle_lines(store, benxi_engine, "bx-0002")
    # the ledger (after bx-0003, 09-03) says bx-0002 (05-20) is late: read whole
    assert tails == {("p-01", 2023): [1, 2]} and whole == [("p-01", 2023)]
    assert paid(report, "bx-0002") == "6000.00"
    assert [(e["claim_id"], e["delta"]) for e in report
            if e["kind"] == "adjustment" and e["line"] == "基本救助"] == [("bx-0003", "-5800.00")]


def test_a_book_without_the_table_is_read_by_its_index_and_gets_the_table_on_its_first_settle(
        store_path, benxi_engine):
    from yibao.audit.sqlite_store import SQLiteStore

    with SQLiteStore(store_path, create=True) as store:
        settle_lines(store, benxi_engine, "bx-0001", "bx-0004")
        settle_lines(store, benxi_engine, "bx-0002")
        expected, entries = ledger_rows(store), listed(store)
        whole = store.book_records("p-01", 2023)
        as_before_the_table(store)
    with SQLiteStore(store_path) as store:
        # read as it was written, through its index, and not changed by reading
        assert store.book_records("p-01", 2023) == whole and len(whole) == 2
        assert store.person_claims("p-01") == ["bx-0001", "bx-0002"]
        assert store.book_tails([("p-01", 2023)]) == {}       # outside a write: read whole
        names, format_ = schema_of(store)
        assert "book_by_person_year" in names and format_ == "yibao-audit/2"
        report = settle_lines(store, benxi_engine, "bx-0003")
        assert paid(report, "bx-0003") == "6200.00"
        # built from the index in the settle's first transaction, then kept by it; the
        # index by person-year and the ledgers' table gone, the format saying so
        third = store.records_of_claim("bx-0003")[0].seq
        assert ledger_rows(store) == {**expected, ("p-01", 2023): third}
        assert listed(store) == {**entries, ("p-01", 2023): [*entries["p-01", 2023], third]}
        names, format_ = schema_of(store)
        assert "book_years" in names and not names & {"book_by_person_year", "book_ledgers"}
        assert format_ == "yibao-store/3"


@pytest.mark.parametrize("pointer", ["first ledger", "past the end"])
def test_a_pointer_left_behind_reads_more_and_never_settles_differently(
        store, benxi_engine, monkeypatch, pointer):
    # A writer that did not keep the table (or an edit) leaves a row that is not the
    # latest ledger: everything from it on is read, or the person-year whole.
    settle_lines(store, benxi_engine, "bx-0001")
    settle_lines(store, benxi_engine, "bx-0002")
    first = store.records_of_claim("bx-0001")[0].seq
    seq = first if pointer == "first ledger" else 10**6
    store._db.execute("UPDATE book_years SET ledger = ?", (seq,))
    whole, tails = reads(store, monkeypatch)
    report = settle_lines(store, benxi_engine, "bx-0003")
    assert paid(report, "bx-0003") == "6200.00"
    if pointer == "first ledger":
        assert whole == [] and tails == {("p-01", 2023): [first, first + 1]}
    else:
        assert whole == [("p-01", 2023)] and tails == {}


def test_a_store_holding_another_policy_text_reads_person_years_whole(store, benxi_engine,
                                                                      monkeypatch):
    # Only the whole person-year says which versions settled its claims (B106).
    settle_lines(store, benxi_engine, "bx-0001")
    store._db.execute("INSERT INTO sources VALUES (?, ?)", ("f" * 64, "policy other {}"))
    whole, tails = reads(store, monkeypatch)
    report = settle_lines(store, benxi_engine, "bx-0002")
    assert paid(report, "bx-0002") == "6000.00"
    assert whole == [("p-01", 2023)] and tails == {}


def test_reindex_rebuilds_the_table_with_the_index(store, benxi_engine):
    settle_lines(store, benxi_engine, "bx-0001", "bx-0004")
    settle_lines(store, benxi_engine, "bx-0002")
    expected, entries = ledger_rows(store), listed(store)
    assert entries == indexed(store) and entries["p-01", 2023] == [1, 3]
    store._db.execute("DELETE FROM book_years")
    store.rebuild_book_index(list(store.book_index()))
    assert ledger_rows(store) == expected and len(expected) == 2
    assert listed(store) == entries


def test_two_writers_opened_before_the_table_was_made_list_it_once(store_path, benxi_engine):
    from yibao.audit.sqlite_store import SQLiteStore

    with SQLiteStore(store_path, create=True) as store:
        settle_lines(store, benxi_engine, "bx-0001")
        as_before_the_table(store)
    first, second = SQLiteStore(store_path), SQLiteStore(store_path)
    try:
        settle_lines(first, benxi_engine, "bx-0002")      # lists the book
        report = settle_lines(second, benxi_engine, "bx-0003")    # finds it listed
        assert paid(report, "bx-0003") == "6200.00"
        assert listed(second) == indexed(second) and len(listed(second)["p-01", 2023]) == 3
    finally:
        first.close()
        second.close()


def test_a_book_gets_its_table_before_its_first_settle_if_asked(store_path, benxi_engine):
    from yibao.audit.sqlite_store import SQLiteStore

    with SQLiteStore(store_path, create=True) as store:
        settle_lines(store, benxi_engine, "bx-0001", "bx-0004")
        expected, entries = ledger_rows(store), listed(store)
        as_before_the_table(store)
    with SQLiteStore(store_path) as store:
        store.prepare_ledgers()
        assert (ledger_rows(store), listed(store)) == (expected, entries)
        store.prepare_ledgers()           # once only
        assert (ledger_rows(store), listed(store)) == (expected, entries)
        assert schema_of(store)[1] == "yibao-store/3"


def test_the_table_lists_each_person_years_entries_in_chain_order(store, benxi_engine):
    settle_lines(store, benxi_engine, "bx-0001", "bx-0004", "bx-0003")
    settle_lines(store, benxi_engine, "bx-0002")     # late: its adjustment of bx-0003 too
    entries = listed(store)
    assert entries == indexed(store)
    # bx-0001's, bx-0003's and bx-0002's settlements, then the two adjustments of bx-0003
    # that the late bx-0002 caused (倾斜救助 +3,480, 基本救助 −5,800), in the order written
    settled = [store.records_of_claim(c)[0].seq for c in ("bx-0001", "bx-0003", "bx-0002")]
    adjusted = [seq for seq, _, _, entry in store.book_index()
                if json.loads(entry)["kind"] == "adjustment"]
    assert entries["p-01", 2023] == settled + adjusted and len(adjusted) == 2
    assert entries["p-02", 2023] == [store.records_of_claim("bx-0004")[0].seq]
    assert [e.seq for e in store.book_records("p-01", 2023)] == entries["p-01", 2023]


@pytest.mark.parametrize("edit", ["another's entry", "twice", "no entry", "not a number"])
def test_a_list_naming_what_is_not_its_entry_is_refused_when_read(store, benxi_engine, edit):
    from yibao.audit.store import AuditError

    settle_lines(store, benxi_engine, "bx-0001", "bx-0004")     # p-01's #1, p-02's #2
    seqs = {"another's entry": "[1,2]", "twice": "[1,1]", "no entry": "[1,99]",
            "not a number": '[1,"2"]'}[edit]
    store._db.execute("UPDATE book_years SET seqs = ? WHERE person_id = 'p-01'", (seqs,))
    for read in (lambda: store.book_records("p-01", 2023),
                 lambda: store.book_records_of([("p-01", 2023)]),
                 lambda: store.book_tails([("p-01", 2023)]),
                 lambda: store.person_claims("p-01")):
        with pytest.raises(AuditError, match="A438 .* lists .* among the entries of p-01 2023"):
            read()
    with pytest.raises(AuditError, match="A438"):
        settle_lines(store, benxi_engine, "bx-0002")     # it would settle on p-02's claim


@pytest.mark.parametrize("part", [1, 20_000])     # index rows compared at a time
@pytest.mark.parametrize("since", ["whole", "since a verified head"])
def test_verify_names_an_entry_its_list_leaves_out_and_reindex_restores_it(
        store, benxi_engine, since, part, monkeypatch):
    from yibao.audit import sqlite_store
    from yibao.audit.verify import verify_store

    monkeypatch.setattr(sqlite_store, "LIST_PART", part)

    settle_lines(store, benxi_engine, "bx-0004")
    head = (store.last_seq(), store.record_hash(store.last_seq()))
    settle_lines(store, benxi_engine, "bx-0001", "bx-0002")
    first, second = listed(store)["p-01", 2023]
    # a list that leaves bx-0001 out would settle bx-0003 on 6,000 alone
    store._db.execute("UPDATE book_years SET seqs = ? WHERE person_id = 'p-01'", (f"[{second}]",))
    report = verify_store(store, since=None if since == "whole" else head)
    assert report.problem.kind == "book index" and report.problem.seq == first
    store._db.execute("UPDATE book_years SET seqs = ? WHERE person_id = 'p-01'",
                      (f"[{first},{second},{second}]",))       # one listed twice
    assert verify_store(store, since=None if since == "whole" else head).problem.seq == second
    store.rebuild_book_index(list(store.book_index()))
    assert verify_store(store).ok and listed(store) == indexed(store)
    # a walk that stops before the end (another writer appended since it began) does not
    # take the entries listed after it for extra ones
    assert store.unlisted_entry(0, first) is None and store.unlisted_entry(first, second) is None


def test_the_lists_check_reads_an_index_row_whose_person_is_not_utf8(store, benxi_engine):
    settle_lines(store, benxi_engine, "bx-0001", "bx-0004")
    seq = store.records_of_claim("bx-0001")[0].seq
    store._db.execute("UPDATE book_index SET person_id = CAST(x'70ff' AS TEXT) WHERE seq = ?",
                      (seq,))
    # read tolerantly (not refused mid-read): that row's person-year lists nothing
    assert store.unlisted_entry(0, store.last_seq()) == seq


def test_a_reader_opened_before_the_table_was_made_reads_through_it_after(store_path,
                                                                           benxi_engine):
    # (the run's worker: a read-only connection, opened before the settling process's
    # first transaction lists a book written before the table)
    from yibao.audit.sqlite_store import SQLiteStore

    with SQLiteStore(store_path, create=True) as store:
        settle_lines(store, benxi_engine, "bx-0001")
        as_before_the_table(store)
    reader = SQLiteStore(store_path, read_only=True)
    try:
        with reader.snapshot():
            assert reader.book_tails([("p-01", 2023)]) == {}     # no table: read whole
        with SQLiteStore(store_path) as store:
            settle_lines(store, benxi_engine, "bx-0002")
        with reader.snapshot():
            tails = reader.book_tails([("p-01", 2023)])
        assert [entry.seq for entry in tails["p-01", 2023]] == [2]
    finally:
        reader.close()


def test_a_transactions_read_ahead_is_one_statement_a_method_however_many_people(
        store, benxi_engine):
    settle_lines(store, benxi_engine, "bx-0001")
    people = [(f"p-{number:04d}", 2023) for number in range(1, 1200)] + [("p-01", 2023)]
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    try:
        tails = store.book_tails(people)
        heads = store.claim_heads([f"c-{number}" for number in range(1200)] + ["bx-0001"])
    finally:
        store._db.set_trace_callback(None)
    # 1,200 people and 1,201 ids: one SELECT each (it was one per 500 values), and one for
    # the bodies of the lean ledger entries read (a lean entry leaves the ledger there)
    selects = [s for s in statements if s.startswith("SELECT")]
    assert len(selects) == 3 and selects[1].startswith("SELECT seq, CASE typeof(body)")
    assert list(tails) == [("p-01", 2023)] and list(heads) == ["bx-0001"]


def test_an_index_entry_that_is_not_utf8_is_read_and_its_ledger_not_used(store, benxi_engine):
    settle_lines(store, benxi_engine, "bx-0001")
    seq = store.records_of_claim("bx-0001")[0].seq
    store._db.execute("DROP TRIGGER IF EXISTS book_index_no_update")
    store._db.execute("UPDATE book_index SET entry = CAST(replace(entry, '\"settlement\"', "
                      "'\"settlement\"   ') AS BLOB) || x'ff' WHERE seq = ?", (seq,))
    store._db.execute("UPDATE book_index SET entry = CAST(entry AS TEXT) WHERE seq = ?", (seq,))
    [entry] = store.book_tails([("p-01", 2023)])[("p-01", 2023)]
    # read as the bytes stored (the settler parses bytes), not refused mid-read; its
    # ledger is not taken (it is not JSON now): the person-year would be read whole
    assert entry.seq == seq and entry.entry.endswith(b"\xff")
    assert _current_ledger([entry], ()) is None
    store._db.execute("UPDATE book_index SET entry = x'7b7d' WHERE seq = ?", (seq,))  # a blob
    [entry] = store.book_tails([("p-01", 2023)])[("p-01", 2023)]
    assert entry.entry is None and _current_ledger([entry], ()) is None


def test_a_ledger_read_as_bytes_is_the_ledger_read_as_text(store, benxi_engine):
    """book_tails gives SQLite's entries as their UTF-8 bytes: _current_ledger reads the
    same ledger from them as from the text, and refuses the same versions."""
    settle_lines(store, benxi_engine, "bx-0001", "bx-0002")
    [raw] = store.book_tails([("p-01", 2023)]).values()
    assert all(type(e.entry) is bytes for e in raw)
    # (the ledger's record body with its entry, which only marks the ledger, also bytes;
    # not the body of bx-0002's, settled in the same event)
    assert [type(e.body) for e in raw] == [bytes, type(None)]
    text = [BookEntry(e.seq, e.hash, e.entry.decode("utf-8"), e.body and e.body.decode("utf-8"))
            for e in raw]
    sha = store.records_of_claim("bx-0001")[0].data["policy_sha256"]
    applied = f'"policy_sha256":"{sha}"'
    state = _current_ledger(raw, (applied,))
    assert state == _current_ledger(text, (applied,))
    assert [row[0] for row in state["claims"]] == ["bx-0001", "bx-0002"]
    assert _current_ledger(raw, ('"policy_sha256":"' + "0" * 64 + '"',)) is None


@pytest.mark.parametrize("where", ["sqlite", "postgresql"])
def test_a_body_and_entry_given_as_bytes_are_stored_as_the_same_text(where, store_path,
                                                                     request, benxi_engine):
    """Appending.add takes the UTF-8 bytes that were hashed (what settle builds) as well as
    text: the store holds the same text either way, its leaf and ledger pointer the same."""
    from yibao.audit.chain import link
    from yibao.audit.merkle import record_leaf
    from yibao.audit.store import StoredRecord
    from yibao.audit.stores import open_store

    location = store_path if where == "sqlite" else request.getfixturevalue("postgres_url")
    with open_store(location, create=True) as store:
        batch = store.open_batch("book", "0", "k", "2023-12-28T00:00:00Z", {})
        written = []
        for number, as_bytes in enumerate([False, True, True], 1):
            with store.appending() as tail:
                body, digest = link({"kind": "settlement", "claim_id": f"c-{number}",
                                     "batch": batch.batch, "position": number,
                                     "note": "基本救助 — 本次前"}, tail.seq + 1, tail.hash)
                entry = '{"kind":"settlement","ledger_after":{"claims":[]}}'
                record = StoredRecord(tail.seq + 1, digest, batch.batch, number,
                                      f"c-{number}", body.encode() if as_bytes else body)
                tail.add(record, ("p-1", 2023, entry.encode() if as_bytes else entry))
                written.append((body, entry, record_leaf(body)))
        stored = [(r.body, r.hash) for r in store.records()]
        assert [body for body, _ in stored] == [body for body, _, _ in written]
        assert all(isinstance(body, str) for body, _ in stored)
        assert [entry for _, _, _, entry in store.book_index()] == [e for _, e, _ in written]
        assert [leaf for _, leaf in store.tree_leaves()] == [leaf for _, _, leaf in written]
        # the ledger's pointer moved to the last entry holding a ledger, given as bytes
        assert store.book_tails([("p-1", 2023)])[("p-1", 2023)][0].seq == 3


def test_a_new_store_has_pages_of_16_kb_and_an_old_one_keeps_its_own(store, tmp_path,
                                                                      monkeypatch):
    from yibao.audit import sqlite_store

    assert store._db.execute("PRAGMA page_size").fetchone()[0] == 16384
    old = str(tmp_path / "old.db")
    monkeypatch.setattr(sqlite_store, "PAGE_SIZE", 4096)     # a book written before
    sqlite_store.SQLiteStore(old, create=True).close()
    monkeypatch.undo()
    with sqlite_store.SQLiteStore(old, create=True) as opened:
        assert opened._db.execute("PRAGMA page_size").fetchone()[0] == 4096


@pytest.mark.parametrize("ledger", [
    LEDGER,
    # names inside it that read as the keys the cut looks for: cut there, it is not an
    # object (a proper prefix of one), and the body is read whole
    {"alerts": {}, "claims": [["c0", "2023-01-02", {"a": "1.00", "mode": "1.00"},
                               {"a": "1.00", "line": "2.00"}]],
     "lines": {"a": ["1.00", "1.00"], "line": ["1.00", "1.00"], "mode": ["1.00", "0.00"]}},
])
@pytest.mark.parametrize("kind, after", [("settlement", {"mode": "book", "outcome": {}}),
                                         ("adjustment", {"line": "基本救助", "mode": "book"})])
def test_a_ledger_is_cut_out_of_its_body_as_the_body_holds_it(ledger, kind, after):
    """A lean entry leaves the ledger in its record's body (store.IN_BODY); ledger_of reads it
    from there without parsing the outcome, as bytes or text, and whatever the names in
    it, the ledger the body holds."""
    body = json.dumps({"claim_id": "c0", "kind": kind, "ledger_after": ledger, **after},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    if "mode" in ledger["lines"]:    # (the first cut is inside the ledger)
        text = json.dumps(ledger, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        end = body.find(text) + len(text)
        assert min(body.find(',"line":"'), body.find(',"mode":"')) < end
    assert ledger_of(body) == ledger and ledger_of(body.encode("utf-8")) == ledger
    entry = BookEntry(1, None, '{"claim_id":"c0","kind":"%s","ledger_after":true}' % kind,
                      body.encode("utf-8"))
    assert entry.ledger == ledger and entry.data["ledger_after"] == ledger
    with pytest.raises(KeyError):
        ledger_of(json.dumps({"kind": kind, **after}))


def test_a_transactions_claim_ids_are_looked_up_by_the_index_however_many(store,
                                                                          benxi_engine):
    # With no statistics SQLite's planner took a list of some 4,000 ids or more for a
    # large share of the records and scanned them all: 0.6-0.8 s a transaction on a book
    # of 10^6 claims (settle --commit-every 5000), where the lookups take a few ms.
    from yibao.audit.sqlite_store import _CLAIM_HEADS, _marks

    settle_lines(store, benxi_engine, "bx-0001", "bx-0002")
    ids = sorted([f"unknown-{n:05d}" for n in range(6000)] + ["bx-0002"])
    plan = [row[3] for row in store._db.execute(
        "EXPLAIN QUERY PLAN " + _CLAIM_HEADS.format(marks=_marks(len(ids))), ids)]
    assert any("USING INDEX records_by_claim" in step for step in plan), plan
    assert not any(step.startswith("SCAN r") for step in plan), plan
    heads = store.claim_heads(ids)
    assert list(heads) == ["bx-0002"]
    assert heads["bx-0002"].person_year == ("p-01", 2023)


def test_a_store_without_the_index_by_claim_id_still_finds_the_claims(store_path, benxi_engine):
    from yibao.audit.sqlite_store import SQLiteStore

    with SQLiteStore(store_path, create=True) as store:
        settle_lines(store, benxi_engine, "bx-0001", "bx-0002")
        store._db.execute("DROP INDEX records_by_claim")
    with SQLiteStore(store_path) as store:
        heads = store.claim_heads(["bx-0001", "bx-0002", "bx-9999"])
    assert sorted(heads) == ["bx-0001", "bx-0002"]
    assert heads["bx-0001"].person_year == ("p-01", 2023)
