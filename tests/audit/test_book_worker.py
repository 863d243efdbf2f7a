"""A run's transactions with the run's worker (audit/work_ahead.py, audit/run_worker.py)
against the same run without it: the same records, byte for byte, and the same report.

Benxi 2023.  Every claim here is 低保边缘家庭成员, 住院, with 基本医保 paying 10,000 of
its in-scope cost and 大病保险 nothing, so its burden is in-scope − 10,000; 基本救助
pays (year-to-date burden − 2,000) × 60%, less what the year paid before, within
the 2万 annual cap (§(五)).

The book holds two claims of p-1…p-4.  The daily run, in transactions of three
lines (so that a person-year's claims fall in two or three transactions, and the
worker prepares a transaction's claims while the one before writes), brings
claims on top for every person, a claim whose date does not exist (refused while
validating it: C302, by the worker), a line naming a key twice (C300), a late
claim, a repeat, a withdrawal of a claim the run settled two transactions
before, a new person, and a refused claim then a late one in a person-year the
worker declines (settled and refused by the settling process).  The worker takes every transaction (``WORKER_FROM``
lowered to 1); the run without it is the serial one.

Each test runs with both kinds of worker (``reading``): one forked before the book is
opened, which reads the person-years it is sent from the book itself on a read-only
connection of its own (settle.reading_worker, as ``yibao settle`` forks it), and one
forked by the first large transaction, which the settling process sends their entries.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from helpers import POLICIES, claim
from yibao.api import load_engine
from yibao.audit import run_worker, settle
from yibao.audit.run_worker import RunWorker
from yibao.audit.settle import BookSettler, reading_worker
from yibao.audit.work_ahead import BookReads
from yibao.audit.sqlite_store import SQLiteStore
from yibao.core.jsonl import Encoded, dumps

FIXED_TIME = "2023-12-29T00:00:00+00:00"
BASIC = "基本救助"


def bx(claim_id: str, person: str, date: str, burden: int) -> dict:
    return claim(claim_id, person, date, ["低保边缘家庭成员"], f"{burden + 10_000}.00",
                 {"基本医保": "10000.00", "大病保险": "0.00"})


def line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False)


BOOKED = [line(c) for c in (
    bx("a1", "p-1", "2023-02-01", 10_000), bx("a2", "p-1", "2023-08-01", 10_000),
    bx("b1", "p-2", "2023-02-01", 10_000), bx("b2", "p-2", "2023-08-01", 10_000),
    bx("c1", "p-3", "2023-02-01", 10_000), bx("c2", "p-3", "2023-08-01", 10_000),
    bx("d1", "p-4", "2023-02-01", 10_000), bx("d2", "p-4", "2023-08-01", 10_000))]
DAILY = [
    line(bx("a3", "p-1", "2023-12-01", 5_000)),           # transaction 1
    line(bx("b3", "p-2", "2023-12-01", 5_000)),
    line({**bx("x1", "p-3", "2023-12-01", 5_000), "date": "2023-12-32"}),   # C302
    line(bx("a4", "p-1", "2023-12-02", 10_000)),          # 2: p-1 again, after 1 wrote it
    line(bx("c3", "p-3", "2023-12-02", 5_000)),
    '{"claim_id": "x2", "claim_id": "x2", "person_id": "p-4", "date": "2023-12-03"}',  # C300
    line(bx("d3", "p-4", "2023-12-03", 5_000)),           # 3
    line(bx("b0", "p-2", "2023-03-01", 15_000)),          # late: b3 adjusted
    line(bx("a3", "p-1", "2023-12-01", 5_000)),           # a repeat of transaction 1's
    {"claim_id": "a4", "withdraw": True},                 # 4: withdraws transaction 2's
    line(bx("e1", "p-5", "2023-12-04", 5_000)),           # a new person
    line(bx("c4", "p-3", "2023-12-05", 5_000)),
    line({**bx("x3", "p-4", "2023-03-01", 1_000), "date": "2023-02-30"}),  # 5: C302, and
    line(bx("d0", "p-4", "2023-03-01", 1_000)),           # late: their person-year declined
]
DAILY = [entry if isinstance(entry, str) else line(entry) for entry in DAILY]


# The balance itself, before fixed_share takes it out of every run here.
BALANCE = BookSettler._balance


@pytest.fixture(autouse=True)
def fixed_share(monkeypatch):
    """The share the settling process keeps is fixed here (BookSettler.keep, none unless
    a test sets it: neither _START_SHARE nor, for the first transaction, _OWN_SHARE), not moved by how long each
    side waited (_balance: timings, which a test does not rely on)."""
    monkeypatch.setattr(BookSettler, "_balance", lambda settler, *timings: None)
    monkeypatch.setattr(settle, "_OWN_SHARE", 0)
    monkeypatch.setattr(settle, "_START_SHARE", 0)


@pytest.fixture(scope="module")
def engine():
    return load_engine(POLICIES / "benxi-2023.policy")


@pytest.fixture(params=["reading", "sent"])
def reading(request) -> bool:
    """The worker reads the book itself (forked before it is opened), or is sent what it
    needs of it."""
    return request.param == "reading"


def book(path: str, engine, runs=((BOOKED, 4), (DAILY, 3)), reading: bool = False
         ) -> tuple[list[tuple], list[dict]]:
    """The runs settled into a new book, each with the store opened for it (and, when
    ``reading``, its worker forked before that, as ``yibao settle`` does)."""
    reports = []
    SQLiteStore(path, create=True).close()
    for lines, every in runs:
        worker = reading_worker(engine, path) if reading else None
        with SQLiteStore(path) as store:
            settler = BookSettler(store, engine, clock=lambda: FIXED_TIME, worker=worker)
            for report in settler.run(enumerate(lines, 1), every):
                reports.extend(report)
    with SQLiteStore(path) as store:
        return [(r.seq, r.hash, r.body) for r in store.records()], reports


@pytest.fixture
def serial(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(settle, "WORKER_FROM", 10**9)
    found = book(str(tmp_path / "serial.db"), engine)
    monkeypatch.setattr(settle, "WORKER_FROM", 1)
    return found


def as_serial(serial, path: str, engine, reading: bool) -> list[dict]:
    """``book`` with the run's worker: the same records, byte for byte, and the same
    report as the serial run's (``serial``); the report."""
    records, report = serial
    with_worker, worker_report = book(path, engine, reading=reading)
    assert worker_report == report
    assert with_worker == records
    return worker_report


def submitted(monkeypatch) -> list[list]:
    """What the worker is sent, request by request."""
    sent, submit = [], RunWorker.submit

    def watched(worker, request, items=0):
        sent.append(request)
        return submit(worker, request, items)
    monkeypatch.setattr(RunWorker, "submit", watched)
    return sent


def claims_in(sent: list[list]) -> set[str]:
    """The ids of the claims in the requests :func:`submitted` saw."""
    return {claim_id for request in sent for _, _, _, claims in request
            for claim_id, _, _ in claims}


def watched_replies(monkeypatch) -> list[tuple]:
    """What the settling process got for each request it waited for: (the reply, or None
    if it gave up on it; whether the worker was alive once it had)."""
    got, result = [], RunWorker.result

    def watched(worker, ticket):
        found = result(worker, ticket)
        got.append((found, worker.alive))
        return found
    monkeypatch.setattr(RunWorker, "result", watched)
    return got


def test_the_worker_writes_what_the_serial_run_writes(engine, tmp_path, monkeypatch, serial,
                                                      reading):
    got = watched_replies(monkeypatch)
    worker_report = as_serial(serial, str(tmp_path / "worker.db"), engine, reading)
    # (the replies came from the worker, not from here)
    assert got and all(alive for _, alive in got)
    replies = [found for found, _ in got]
    # The reading worker read each request in a snapshot of the book, which it names;
    # the other was sent the entries.
    assert all((reply[0] is not None) == reading for reply in replies)
    # The worker's settlements come with their report line's text (core/jsonl Encoded,
    # written as it is): the text json writes for the same line.
    encoded = [entry for entry in worker_report if type(entry) is Encoded]
    assert [entry["claim_id"] for entry in encoded] == ["a3", "b3", "a4", "c3", "d3", "c4"]
    assert all(entry.text == dumps(dict(entry)) for entry in encoded)
    taken = {(claim_id, number) for _, reply in replies for items, refused in reply.values()
             for claim_id, number, *_ in (items or []) + refused}
    declined = {key for _, reply in replies for key, (items, _) in reply.items()
                if items is None}
    # The worker took every plain claim on top of its person-year's ledger (the refused
    # ones too: it validates them): the first transaction's as it began, the later
    # ones' while the transaction before ran (x2 on p-4, c4 on p-3), or, for a
    # person-year the transaction before wrote (a4 on p-1, c3 on p-3, d3 on p-4), once
    # it had committed.  The settling process kept the repeat, the withdrawal and the
    # new person (no recorded ledger: read whole); the late claims b0 and d0 were sent,
    # and the worker declined their person-years (dated before the ledger's last
    # claim): settled here, b0 with its adjustments, x3 refused here.
    assert taken == {("a3", 1), ("b3", 2), ("x1", 3), ("a4", 4), ("c3", 5), ("x2", 6),
                     ("d3", 7), ("c4", 12)}
    # The reading worker is also sent the person-years of new people (whether one has a
    # recorded ledger is what it reads): the first run's p-1…p-4 and the daily run's
    # p-5, which it declines too, and the settling process settles.
    assert declined == ({(f"p-{n}", 2023) for n in range(1, 6)} if reading
                        else {("p-2", 2023), ("p-4", 2023)})
    # p-2 in date order b1, b0, b2, b3: burdens 10,000, 25,000, 35,000, 40,000 paid
    # 4,800, 13,800, 19,800, then 22,800 capped at 20,000: b3 paid 3,000 before (on
    # 30,000: 16,800 − 13,800) and 200 now; a4 withdrawn gives back its 6,000.
    assert [(e["claim_id"], e["delta"], e["caused_by"]["claim_id"]) for e in worker_report
            if e["kind"] == "adjustment" and e["line"] == BASIC] == [
        ("b3", "-2800.00", "b0"), ("a4", "-6000.00", "a4")]
    # p-1: a1 and a2 paid (20,000 − 2,000) × 60% = 10,800 in all; a3 (burden 25,000):
    # 13,800 − 10,800 = 3,000; a4 (35,000): 19,800 − 13,800 = 6,000.
    paid = {e["claim_id"]: e["payouts"][BASIC] for e in worker_report
            if e["kind"] == "settlement"}
    assert (paid["a3"], paid["a4"]) == ("3000.00", "6000.00")
    # The refusals the worker found are where the serial run reports them: in input
    # order, before their transaction's settlements.
    errors = [(e["error"], e["line"]) for e in worker_report if e["kind"] == "error"]
    # (x3's person-year was declined by the worker: the settling process refused it)
    assert errors == [("C302", 3), ("C300", 6), ("C302", 13)]
    first = [(e["kind"], e["claim_id"]) for e in worker_report[len(BOOKED):][:3]]
    assert first == [("error", "x1"), ("settlement", "a3"), ("settlement", "b3")]


def test_a_share_kept_by_the_settling_process(engine, tmp_path, monkeypatch, serial, reading):
    """The settling process keeping its share of each transaction (the last person-years
    the worker could take: here, two claims' worth): the same bytes, fewer sent."""
    monkeypatch.setattr(BookSettler, "keep", 2, raising=False)
    sent = submitted(monkeypatch)
    as_serial(serial, str(tmp_path / "kept.db"), engine, reading)
    # The first transaction's a3, b3, x1: b3 and x1 kept, a3 sent.
    # (the reading worker was also sent the first run's new people: its requests are
    # left out here)
    ids = [{claim_id for _, _, _, claims in request for claim_id, _, _ in claims}
           for request in sent]
    booked = {json.loads(text)["claim_id"] for text in BOOKED}
    first = next(found for found in ids if found - booked)
    assert first == {"a3"}


def test_a_worker_killed_mid_run_leaves_its_work_to_the_settling_process(
        engine, tmp_path, monkeypatch, serial, reading):
    """Killed as soon as it has its first request: that one and every later one are
    prepared in the settling process, and the book is the same bytes."""
    submit, killed = RunWorker.submit, []

    def submit_then_kill(worker, request, items=0):
        ticket = submit(worker, request, items)
        if not killed:
            os.kill(worker.pid, signal.SIGKILL)
            killed.append(worker.pid)
        return ticket
    monkeypatch.setattr(RunWorker, "submit", submit_then_kill)
    as_serial(serial, str(tmp_path / "killed.db"), engine, reading)
    assert killed


def test_another_writer_between_two_transactions(engine, tmp_path, monkeypatch, reading):
    """The worker had the second transaction's claims before the first committed; another
    writer settled a claim of one of their person-years in between: what was read for
    them is dropped and read again, as the serial run reads it."""
    # The first transaction p-1's and p-3's, the second p-2's and p-4's.
    daily = [line(bx(f"n{n}", f"p-{person}", "2023-12-10", 1_000))
             for n, person in enumerate((1, 3, 1, 3, 2, 2, 4, 4))]
    other = [line(bx("o1", "p-2", "2023-12-05", 20_000))]

    def interleaved(path: str, reading: bool = False) -> tuple[list[tuple], list[dict]]:
        book(path, engine, runs=((BOOKED, 4),))
        reports = []
        worker = reading_worker(engine, path) if reading else None
        with SQLiteStore(path) as store:
            settler = BookSettler(store, engine, clock=lambda: FIXED_TIME, worker=worker)
            for number, report in enumerate(settler.run(enumerate(daily, 1), 4)):
                reports.extend(report)
                if number == 0:
                    with SQLiteStore(path) as writer:
                        for extra in BookSettler(writer, engine, clock=lambda: FIXED_TIME
                                                 ).run(enumerate(other, 1), 1):
                            reports.extend(extra)
            return [(r.seq, r.hash, r.body) for r in store.records()], reports

    monkeypatch.setattr(settle, "WORKER_FROM", 10**9)
    records, report = interleaved(str(tmp_path / "serial.db"))
    monkeypatch.setattr(settle, "WORKER_FROM", 1)
    sent = submitted(monkeypatch)
    with_worker, worker_report = interleaved(str(tmp_path / "worker.db"), reading)
    assert worker_report == report
    assert with_worker == records
    # p-2's n5 was sent before o1 was written, and sent again after it.
    assert sum(claim_id == "n5" for request in sent for _, _, _, claims in request
               for claim_id, _, _ in claims) == 2
    # o1 (burden 20,000 on p-2's 20,000): 24,000 − 10,800 = 13,200 > the cap's 9,200 left;
    # n5 after it: nothing left of the 2万 cap.
    paid = {e["claim_id"]: e["payouts"][BASIC] for e in worker_report
            if e["kind"] == "settlement"}
    assert (paid["o1"], paid["n5"]) == ("9200.00", "0.00")


def test_a_small_run_forks_no_worker(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(settle, "WORKER_FROM", 256)
    forked = []
    monkeypatch.setattr(RunWorker, "__init__", lambda *args: forked.append(args))
    book(str(tmp_path / "small.db"), engine)
    assert not forked


def test_no_worker_beside_a_thread_of_the_caller(engine, tmp_path, monkeypatch, serial):
    """A program with a thread of its own may hold a lock at the fork that the worker would
    wait for forever: no worker then, and the run is the serial one."""
    import threading

    forked = []
    monkeypatch.setattr(RunWorker, "__init__", lambda *args: forked.append(args))
    release = threading.Event()
    thread = threading.Thread(target=release.wait, name="the caller's own")
    thread.start()
    try:
        records, report = book(str(tmp_path / "threaded.db"), engine)
    finally:
        release.set()
        thread.join()
    assert not forked
    assert (records, report) == serial


def test_a_worker_that_hangs_is_given_up_on(engine, tmp_path, monkeypatch, serial):
    """A reading worker stuck in its read (as a child forked while a thread held one of
    SQLite's locks is stuck in connect: benchmarks/probe_fork_sqlite.py) never replies:
    after REPLY_TIMEOUT it is killed and the settling process settles what it was sent,
    and sends it nothing more.  The same bytes, and the run does not wait for ever."""
    monkeypatch.setattr(BookReads, "tails", lambda *args: time.sleep(3600))
    monkeypatch.setattr(run_worker, "REPLY_TIMEOUT", 0.5)
    monkeypatch.setattr(run_worker, "REPLY_TIMEOUT_PER_ITEM", 0.0)
    gone = watched_replies(monkeypatch)
    started = time.monotonic()
    as_serial(serial, str(tmp_path / "hung.db"), engine, True)
    assert time.monotonic() - started < 20
    # Each run's requests (its first transaction's, and the second's, sent while the first
    # waited) answered by nobody: the first waited for in vain, the worker then killed.
    assert len(gone) >= 4 and all(found is None and not alive for found, alive in gone)


def test_a_reply_read_in_another_snapshot_is_not_used(engine, tmp_path, monkeypatch, serial):
    """The worker names the chain head of the snapshot it read each request in; one that
    is not the book the transaction settles into (here: a head one record on, as if
    another writer had committed first) is declined whole, and the settling process
    settles its person-years.  The same bytes; none of the worker's settlements used
    (they come with their report line's text: Encoded)."""
    real = BookReads.tails

    def elsewhere(reads, keys, shas):
        head, tails = real(reads, keys, shas)
        return (head[0] + 1, head[1]), tails
    monkeypatch.setattr(BookReads, "tails", elsewhere)
    worker_report = as_serial(serial, str(tmp_path / "elsewhere.db"), engine, True)
    assert not [entry for entry in worker_report if type(entry) is Encoded]


def test_yibao_settle_forks_a_reading_worker_before_it_opens_the_book(
        tmp_path, monkeypatch, capsys):
    """``yibao settle`` forks its worker once the policy is loaded and before it opens the
    book; that worker reads the book itself (each reply names its snapshot's head), and
    the run reports what the run without a worker reports."""
    from yibao.audit import sqlite_store
    from yibao.cli.main import main

    booked, daily = tmp_path / "booked.jsonl", tmp_path / "daily.jsonl"
    booked.write_text("\n".join(BOOKED) + "\n", encoding="utf-8")
    daily.write_text("\n".join(DAILY) + "\n", encoding="utf-8")
    policy = str(POLICIES / "benxi-2023.policy")

    def settled(path: str) -> list[dict]:
        found = []
        for claims in (booked, daily):
            assert main(["settle", policy, str(claims), "--book", path,
                         "--commit-every", "3"]) in (0, 1)
            found += [json.loads(text) for text in capsys.readouterr().out.splitlines()]
        return found

    monkeypatch.setattr(settle, "WORKER_FROM", 10**9)
    serial = settled(str(tmp_path / "serial.db"))
    monkeypatch.setattr(settle, "WORKER_FROM", 1)
    monkeypatch.setattr(settle, "_OWN_SHARE", 0)
    monkeypatch.setattr(settle, "_START_SHARE", 0)
    events, fork, opened = [], settle.reading_worker, sqlite_store.SQLiteStore.__init__

    def forking(engine, location):
        events.append("fork")
        return fork(engine, location)

    def opening(store, path, *args, **kwargs):
        events.append("open")
        opened(store, path, *args, **kwargs)
    monkeypatch.setattr(settle, "reading_worker", forking)
    monkeypatch.setattr(sqlite_store.SQLiteStore, "__init__", opening)
    got = watched_replies(monkeypatch)
    assert settled(str(tmp_path / "worker.db")) == serial
    assert events[:2] == ["fork", "open"] and events.count("fork") == 2
    assert got and all(reply is not None and reply[0] is not None for reply, _ in got)


def test_no_reading_worker_beside_a_rollback_journal(engine, tmp_path, monkeypatch, serial):
    """A book not in WAL mode: a reader may wait for the settling process's write
    transaction, which waits for the worker's reply.  The worker forked before the book
    was opened is ended unused, and one forked by the first large transaction is sent
    what it needs: the same bytes."""
    monkeypatch.setattr(SQLiteStore, "wal", property(lambda store: False))
    got = watched_replies(monkeypatch)
    as_serial(serial, str(tmp_path / "journal.db"), engine, True)
    assert got and all(reply is not None and reply[0] is None for reply, _ in got)


def test_a_transaction_sent_ahead_keeps_the_start_share_before_any_balance(
        engine, tmp_path, monkeypatch, serial, reading):
    """Before any transaction has been balanced, one whose claims are sent while the one
    before runs has this process keep ``_START_SHARE`` of them (settle.py: starting
    from none left it waiting for the worker).  Here all of them: x2 (on p-4) and c4
    (on p-3), sent ahead otherwise, are settled here; the same bytes."""
    monkeypatch.setattr(settle, "_START_SHARE", 1.0)
    sent = submitted(monkeypatch)
    as_serial(serial, str(tmp_path / "kept.db"), engine, reading)
    booked = {json.loads(text)["claim_id"] for text in BOOKED}
    taken = claims_in(sent) - booked
    # The first transaction's, sent as it began (_OWN_SHARE, 0 here), and those of
    # person-years the transaction before wrote, sent once it had committed (and, to
    # the reading worker, e1's new person, whose ledger it reads: it declines it).
    assert taken == {"a3", "b3", "x1", "a4", "c3", "d3"} | ({"e1"} if reading else set())


def test_requests_sent_in_parts_are_linked_as_their_replies_come(engine, tmp_path,
                                                                  monkeypatch, serial, reading):
    """A request sent in parts (settle._PART: here one claim each, so one person-year
    each), each reply read when its first person-year is reached: the same bytes and
    report; the worker still takes every claim it took in one request."""
    monkeypatch.setattr(settle, "_PART", 1)
    sent = submitted(monkeypatch)
    as_serial(serial, str(tmp_path / "parts.db"), engine, reading)
    # Each request one person-year (a3 and a4 on p-1 are in different transactions).
    assert all(len(request) == 1 for request in sent)
    taken = claims_in(sent)
    assert {"a3", "b3", "x1", "a4", "c3", "x2", "d3", "c4"} <= taken


def test_a_reply_says_how_long_it_was_ready_before_it_was_read():
    """The balance's measure of a worker ahead of the settling process: a reply read
    0.3 s after it was sent says so (ready_for, on the machine's one monotonic clock);
    one waited for says next to nothing."""
    worker = RunWorker(lambda request: request * 2)
    try:
        ticket = worker.submit(21)
        time.sleep(0.3)
        assert worker.result(ticket) == 42
        assert 0.25 <= worker.ready_for < 30
        waited_for = worker.submit(1)
        assert worker.result(waited_for) == 2
        assert worker.ready_for < 0.25
    finally:
        worker.close()


@pytest.mark.parametrize("waited, idle, ahead, kept", [
    (0.0, 0.0, 0.0, 600),        # neither waited: as it was
    (0.0603, 0.0, 0.0, 700),     # this process waited 60 ms: 201 claims' worth, half kept
    (0.0, 0.0597, 0.0, 500),     # the worker idle before its first request
    (0.0, 0.0, 0.0597, 500),     # its last reply ready 60 ms before it was read
    (0.0, 0.0, 1.0, 0),          # far ahead: this process keeps none
])
def test_the_share_kept_moves_by_what_each_side_waited(waited, idle, ahead, kept):
    """_balance: a claim moved between the two sides changes the time between them by
    _CLAIM_BOTH_SIDES (300 µs); half of what one side waited for the other moves."""
    settler = BookSettler.__new__(BookSettler)
    settler.keep = 600
    BALANCE(settler, waited, idle, ahead)
    assert settler.keep == kept
