"""The desk's start-up over a large book (issue 26 at 10^6 claims): it verifies from the
head the book last verified (``--verify-all``: the whole chain), answers searches by
claim id or person from the store's own indexes, and keeps its search index in a file
(``--index``) that a restart only brings up to date.

The demo book (conftest.py) is the bundled examples settled one file after another:
32 records; ``yibao settle`` verified the chain before each run and marked the head
it reached, so the book's verified head is #24, the last record before the last run
(xinjiang-2023's claims, #25–#32).  p-01 is Benxi's bx-0001..bx-0003 (conftest.py's
figures: nets 基本救助 7,800, 6,000 and 6,200).
"""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from desk_support import make_client
from helpers import POLICIES, claim
from yibao.audit.stores import open_store
from yibao.cli.main import main
from yibao.desk import catalog as catalog_module
from yibao.desk.catalog import Catalog, Query
from yibao.desk.search_book import search_book

VERIFIED_HEAD, RECORDS = 24, 32
BANNER = 'class="banner failed" role="alert"'


@pytest.fixture
def book(demo_book, tmp_path):
    copy = tmp_path / "book.db"
    shutil.copy(demo_book, copy)
    return copy


def tamper(book, seq: int) -> None:
    """Alter record ``seq``'s body behind the triggers' back (its hash no longer matches)."""
    with sqlite3.connect(book) as db:
        db.execute("DROP TRIGGER IF EXISTS records_no_UPDATE")
        body = db.execute("SELECT body FROM records WHERE seq = ?", (seq,)).fetchone()[0]
        db.execute("UPDATE records SET body = ? WHERE seq = ?",
                   (body.replace('"claim_id"', '"claim_id" ', 1), seq))


def settle_late_claim(book, tmp_path, claim_id: str = "bx-late", person: str = "p-90") -> None:
    """Another process settles a claim into the book: a new person of Benxi, 低保边缘家庭成员,
    whose first claim pays 基本救助 (35,000 − 17,000 − 3,000 − 2,000) × 60% = 7,800."""
    claims = tmp_path / f"{claim_id}.jsonl"
    line = claim(claim_id, person, "2023-06-01", ["低保边缘家庭成员"], "35000.00",
                 {"基本医保": "17000.00", "大病保险": "3000.00"}, total="40000.00")
    claims.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(["settle", str(POLICIES / "benxi-2023.policy"), str(claims), "--book", str(book),
                 "-o", str(tmp_path / f"{claim_id}.out")]) == 0


# ---- verify: from the book's verified head --------------------------------------------
def test_the_desk_verifies_from_the_head_the_book_last_verified(book):
    with open_store(str(book)) as store:
        assert store.verified_head()[0] == VERIFIED_HEAD and store.last_seq() == RECORDS
    client = make_client(book)
    status = client.app.state.ctx.status.current
    assert (status.state, status.since, status.records) == ("verified", VERIFIED_HEAD, RECORDS)
    assert f"记录 #{VERIFIED_HEAD}–#{RECORDS} 逐条校验" in client.get("/chain").text
    whole = make_client(book, verify_all=True).app.state.ctx.status.current
    assert (whole.state, whole.since, whole.records) == ("verified", 0, RECORDS)


def test_while_the_walk_runs_the_yellow_line_names_where_it_started(book):
    from yibao.desk.status import PENDING, ChainStatus

    client = make_client(book)
    watch = client.app.state.ctx.status
    watch.current = ChainStatus(PENDING, since=VERIFIED_HEAD)   # as check() sets it first
    assert f"启动时自账簿上次校验的链头 #{VERIFIED_HEAD} 起" in client.get("/policies").text
    watch.current = ChainStatus(PENDING)                        # --verify-all
    assert "启动时全链校验" in client.get("/policies").text


def test_a_record_tampered_after_the_verified_head_is_caught_at_start_up(book):
    tamper(book, 30)   # xj-0006's settlement, written by the last run
    client = make_client(book)
    for path in ("/", "/chain", "/claim?id=bx-0003", "/person?id=p-01&year=2023"):
        page = client.get(path).text
        assert BANNER in page and "账簿校验失败：记录 #30" in page, path


def test_the_verified_head_itself_altered_is_caught(book):
    tamper(book, VERIFIED_HEAD)
    page = make_client(book).get("/").text
    assert BANNER in page and f"账簿校验失败：记录 #{VERIFIED_HEAD}" in page


def test_a_record_older_than_the_verified_head_is_left_to_the_whole_chain_walk(book):
    tamper(book, 2)   # bx-0001's settlement: settle verified it before its later runs
    assert BANNER not in make_client(book).get("/").text
    page = make_client(book, verify_all=True).get("/").text
    assert BANNER in page and "账簿校验失败：记录 #2" in page


def test_a_record_appended_while_the_desk_runs_then_tampered_is_caught(book, tmp_path):
    client = make_client(book)
    assert BANNER not in client.get("/").text
    settle_late_claim(book, tmp_path)
    found = client.get("/", params={"date_from": "2023-06-01", "date_to": "2023-06-01",
                                    "identity": "低保边缘家庭成员"}).text
    assert "bx-late" in found and BANNER not in found
    assert client.app.state.ctx.status.current.records == RECORDS + 1
    # A second late claim, tampered once written: after the head the desk verified.
    settle_late_claim(book, tmp_path, "bx-late-2", "p-91")
    with open_store(str(book)) as store:
        seq = store.records_of_claim("bx-late-2")[0].seq
    tamper(book, seq)
    page = client.get("/policies").text
    assert BANNER in page and f"账簿校验失败：记录 #{seq}" in page


# ---- search: by claim id and person from the store's indexes ---------------------------
QUERIES = [Query(person_id="p-01"), Query(person_id="p-01", date_from="2023-05-20"),
           Query(person_id="p-01", line="基本救助", alert="yes"),
           Query(person_id="p-02", alert="no"), Query(person_id="p-01", adjusted="yes"),
           Query(claim_id="bx-0003"), Query(claim_id="bx-0003", person_id="p-02"),
           Query(claim_id="xj-0006"), Query(claim_id="no-such-claim"),
           Query(person_id="p-01", identity="低保边缘家庭成员", date_to="2023-06-30")]


def test_a_search_by_claim_or_person_reads_the_store_and_agrees_with_the_index(demo_book):
    index = Catalog()
    with open_store(str(demo_book)) as store:
        index.update(store)
        for query in QUERIES:
            assert search_book(store, query, 50) == index.search(query), query
        p01 = search_book(store, Query(person_id="p-01"), 50)
    assert [row.claim_id for row in p01.rows] == ["bx-0001", "bx-0002", "bx-0003"]
    assert [row.net["基本救助"] for row in p01.rows] == ["7800.00", "6000.00", "6200.00"]


def test_a_search_by_person_answers_while_the_index_is_being_built(book):
    client = make_client(book)
    ctx = client.app.state.ctx
    ctx.catalog = Catalog()          # nothing read yet, as on a large book's first start
    ctx.catalog.building = True
    page = client.get("/", params={"person_id": "p-01"}).text
    # bx-0003 nets 基本救助 6,200 + 倾斜救助 8,280 (conftest.py)
    assert "共 3 条" in page and "bx-0003" in page and "14,480.00" in page
    waiting = client.get("/", params={"identity": "低保边缘家庭成员"}).text
    assert 'id="index-building"' in waiting and f"已读账链记录 0 / {RECORDS} 条" in waiting
    assert "bx-0001" not in waiting    # no answer from a part of the book
    ctx.catalog.building = False
    assert "bx-0001" in client.get("/", params={"identity": "低保边缘家庭成员"}).text


# ---- the index kept in a file -----------------------------------------------------------
class CountingStore:
    """A store whose ``records`` walks are noted (where each started)."""

    def __init__(self, store):
        self._store, self.walks = store, []

    def records(self, batch=None, after=0):
        self.walks.append(after)
        return self._store.records(batch, after)

    def __getattr__(self, name):
        return getattr(self._store, name)


def everything(index: Catalog):
    index.page_size = 1000
    return index.search(Query()), index.choices(), index.batch_counts()


def test_the_index_file_is_only_brought_up_to_date_on_a_restart(book, tmp_path):
    path = str(tmp_path / "desk-index.sqlite")
    with open_store(str(book)) as store:
        Catalog(path).update(store)
    settle_late_claim(book, tmp_path)
    restarted = Catalog(path)
    assert restarted.seq == RECORDS
    with open_store(str(book)) as store:
        counting = CountingStore(store)
        restarted.update(counting)
        fresh = Catalog()
        fresh.update(store)
    # one walk, from after the records the file had read (their head's hash checked first)
    assert counting.walks == [RECORDS]
    assert restarted.seq == RECORDS + 1
    assert everything(restarted) == everything(fresh)
    assert restarted.claim("bx-late").net["基本救助"] == "7800.00"


def test_an_index_file_of_another_book_is_built_again(demo_book, tmp_path):
    other = tmp_path / "other.db"
    settle_late_claim(other, tmp_path)      # a book of one claim
    path = str(tmp_path / "desk-index.sqlite")
    with open_store(str(demo_book)) as store:
        Catalog(path).update(store)
    index = Catalog(path)
    with open_store(str(other)) as store:
        index.update(store)
    assert index.search(Query()).total == 1 and index.claim("bx-0003") is None
    assert index.choices()["policy_id"] == ["benxi-2023"]


def test_two_desks_sharing_an_index_file_apply_each_record_once(demo_book, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setattr(catalog_module, "CHUNK", 5)   # interleave their transactions
    path = str(tmp_path / "desk-index.sqlite")
    first, second = Catalog(path), Catalog(path)
    with open_store(str(demo_book)) as store:
        while first._update_chunk(store) | second._update_chunk(store):
            pass
        fresh = Catalog()
        fresh.update(store)
    assert everything(first) == everything(fresh) == everything(second)


def test_an_index_file_the_desk_cannot_write_is_refused_with_d107(demo_book, tmp_path, capsys):
    assert main(["serve", "--book", str(demo_book), "--policies", str(POLICIES),
                 "--index", str(tmp_path / "no-such-folder" / "index.sqlite")]) == 2
    err = capsys.readouterr().err
    assert "D107" in err and "no-such-folder" in err


def test_the_book_given_as_the_index_file_is_refused_and_left_alone(book, tmp_path):
    from yibao.desk.catalog import IndexUnusable
    from yibao.desk.context import DeskContext

    other = tmp_path / "other.sqlite"      # any SQLite file of something else
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    for path in (book, other):
        with pytest.raises(IndexUnusable, match="D107 .*a database of something else"):
            DeskContext(str(book), POLICIES, index=str(path))
        with sqlite3.connect(path) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
            mode = db.execute("PRAGMA journal_mode").fetchone()[0]
        assert not tables & {"catalog_meta", "claims", "claim_lines"}, path
    assert mode == "delete"                # not switched to the index's WAL
