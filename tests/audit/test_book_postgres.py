"""The book on PostgreSQL: the same records and checks as SQLite, and two desks at once.

Claims: Benxi's example file (see test_book.py for the figures by hand):
bx-0001, bx-0002, bx-0003 of p-01 pay 基本救助 7,800, 6,000, 6,200 in any
number of runs.  The concurrency test starts two real `yibao settle`
processes at the same moment on overlapping people (and some claims in both
inputs), against one PostgreSQL book and, for comparison, one SQLite book.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections import Counter

import pytest

from helpers import EXAMPLES, POLICIES
from yibao.audit.stores import open_store
from yibao.audit.verify import verify_store
from yibao.cli.main import EXIT_OK, main

POLICY = str(POLICIES / "benxi-2023.policy")
EXAMPLE = {json.loads(line)["claim_id"]: json.loads(line)
           for line in (EXAMPLES / "benxi-2023.jsonl").read_text(encoding="utf-8").splitlines()}
BASIC = "基本救助"


def write(path, *records) -> str:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return str(path)


def test_the_book_on_postgresql_continues_the_year_and_verifies(tmp_path, postgres_url, capsys):
    first = write(tmp_path / "a.jsonl", EXAMPLE["bx-0003"])
    second = write(tmp_path / "b.jsonl", EXAMPLE["bx-0001"], EXAMPLE["bx-0002"])
    assert main(["settle", POLICY, first, "--book", postgres_url]) == EXIT_OK
    assert main(["settle", POLICY, second, "--book", postgres_url]) == EXIT_OK
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["kind"], e["claim_id"], e.get("delta")) for e in out
            if e.get("line") == BASIC or e["kind"] == "settlement"] == [
        ("settlement", "bx-0003", None), ("settlement", "bx-0001", None),
        ("settlement", "bx-0002", None), ("adjustment", "bx-0003", "-4600.00")]
    assert main(["audit", "verify", postgres_url]) == EXIT_OK
    assert main(["audit", "replay", postgres_url]) == EXIT_OK
    assert main(["audit", "show", postgres_url, "--claim", "bx-0003", "--color", "never",
                 "--lang", "en"]) == EXIT_OK
    assert "基本救助 -4600.00 (追回), net 6200.00" in capsys.readouterr().out
    # bx-0002's record (yibao-audit/4) lists no earlier claims: show reads them from its
    # event's ledger, on bx-0001's record.  Before it: bx-0001, burden 15,000, 基本救助
    # (15,000 − 2,000) × 60% = 7,800, 倾斜救助 on the 7,200 left (7,200 − 3,000) × 60%.
    assert main(["audit", "show", postgres_url, "--claim", "bx-0002", "--color", "never",
                 "--lang", "en"]) == EXIT_OK
    shown = capsys.readouterr().out.split("Before this claim")[1].split("Changed since")[0]
    assert shown.splitlines()[1:] == [
        "  bx-0001 2023-02-10: base 倾斜救助 7200.00, 基本救助 15000.00; paid 倾斜救助 2520.00, "
        "基本救助 7800.00, 精神障碍床日定额救助 0.00"]


def test_postgresql_refuses_updates_and_verify_names_the_record(postgres_url, tmp_path, capsys):
    import psycopg

    assert main(["settle", POLICY, write(tmp_path / "a.jsonl", EXAMPLE["bx-0001"]),
                 "--book", postgres_url]) == EXIT_OK
    with psycopg.connect(postgres_url, autocommit=True) as db:
        with pytest.raises(psycopg.Error, match="append-only"):
            db.execute("UPDATE records SET body = body || ' ' WHERE seq = 1")
        db.execute("ALTER TABLE records DISABLE TRIGGER records_append_only")
        db.execute("UPDATE records SET body = replace(body, '7800.00', '9800.00') WHERE seq = 1")
    capsys.readouterr()
    assert main(["settle", POLICY, write(tmp_path / "b.jsonl", EXAMPLE["bx-0002"]),
                 "--book", postgres_url]) == 2
    assert "record #1 was altered" in capsys.readouterr().err


def test_a_sqlite_book_migrates_to_postgresql_in_one_command(tmp_path, postgres_url, capsys):
    book = str(tmp_path / "book.db")
    assert main(["settle", POLICY, write(tmp_path / "a.jsonl", EXAMPLE["bx-0003"]),
                 "--book", book]) == EXIT_OK
    assert main(["settle", POLICY, write(tmp_path / "b.jsonl", EXAMPLE["bx-0001"],
                                         {"claim_id": "bx-0003", "withdraw": True}),
                 "--book", book]) == EXIT_OK
    capsys.readouterr()
    assert main(["audit", "verify", book]) == EXIT_OK
    head = capsys.readouterr().out.split()[-1]
    assert main(["audit", "migrate", book, postgres_url]) == EXIT_OK
    assert capsys.readouterr().out.strip().endswith(head)
    # The migrated book goes on: the year of p-01 continues from it.
    assert main(["settle", POLICY, write(tmp_path / "c.jsonl", EXAMPLE["bx-0002"]),
                 "--book", postgres_url]) == EXIT_OK
    settled = json.loads(capsys.readouterr().out.splitlines()[0])
    assert settled["payouts"][BASIC] == "6000.00"     # after bx-0001's 15,000
    assert main(["audit", "verify", postgres_url]) == EXIT_OK


# ---- two desks at the same moment ------------------------------------------------------------
# Enough claims that each desk settles for longer than the two processes' start-ups may
# differ on a loaded machine (150 a desk raced no more once settling no longer traced:
# one desk finished before the other began), not so many that the people's years grow long.
PEOPLE, PER_DESK, SHARED = 40, 400, 30


def desk_inputs(tmp_path) -> tuple[str, str, int]:
    """Two inputs over the same people; SHARED claims are in both (identical)."""
    rng = random.Random(7)

    def claim(number: int) -> dict:
        in_scope = rng.randrange(2_000, 60_000)
        return {"claim_id": f"d-{number:04d}", "person_id": f"p-{rng.randrange(PEOPLE):02d}",
                "date": f"2023-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                "identities": [rng.choice(["低保对象", "低保边缘家庭成员", "因病致贫重病患者"])],
                "scheme": "居民医保", "visit": "住院", "total_cost": f"{in_scope}.00",
                "in_scope_cost": f"{in_scope}.00",
                "paid": {"基本医保": f"{in_scope // 3}.00", "大病保险": "0.00"}}
    shared = [claim(n) for n in range(SHARED)]
    a = shared + [claim(n) for n in range(SHARED, SHARED + PER_DESK)]
    b = shared + [claim(n) for n in range(SHARED + PER_DESK, SHARED + 2 * PER_DESK)]
    rng.shuffle(a)
    rng.shuffle(b)
    return (write(tmp_path / "desk-a.jsonl", *a), write(tmp_path / "desk-b.jsonl", *b),
            SHARED + 2 * PER_DESK)


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_two_desks_settling_the_same_people_at_once_lose_nothing_and_pay_nothing_twice(
        tmp_path, backend, request, postgres_server):
    # Every attempt must settle exactly; an attempt whose desks happened not to overlap
    # (one finished before the other had started: a loaded machine's start-up skew)
    # proves nothing about racing, so the race is run again on a fresh book, at most
    # three times, and at least one attempt must have raced.
    raced = []
    for attempt in range(3):
        book = (postgres_server.new_database(f"t_two_desks_{attempt}")
                if backend == "postgresql" else str(tmp_path / f"book-{attempt}.db"))
        raced.append(_two_desks_settle_exactly(tmp_path / f"attempt-{attempt}", book))
        if raced[-1]:
            break
    assert any(raced), "the two desks never ran at the same time in three attempts"


def _two_desks_settle_exactly(folder, book) -> bool:
    """Run the two desks at once into ``book``, assert nothing is lost or paid twice,
    and say whether they overlapped (each started before the other's last write)."""
    folder.mkdir()
    a, b, total = desk_inputs(folder)
    # Create the store first, so the two desks race on settling, not on creating tables.
    open_store(book, create=True).close()
    desks = [subprocess.Popen([sys.executable, "-m", "yibao.cli.main", "settle", POLICY, path,
                               "--book", book, "--commit-every", "5"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for path in (a, b)]
    outputs = [desk.communicate(timeout=600) for desk in desks]
    assert [desk.returncode for desk in desks] == [0, 0], [err.decode() for _, err in outputs]
    reports = [[json.loads(line) for line in out.decode().splitlines()] for out, _ in outputs]
    with open_store(book) as store:
        assert verify_store(store).ok
        kinds = Counter((r.data["kind"], r.claim_id) for r in store.records())
        last_write = {}
        for record in store.records():
            last_write[record.batch] = record.data["recorded_at"]
        started = [batch.started_at for batch in store.batches()]
    batches = set(last_write)
    settled = Counter(claim_id for kind, claim_id in kinds if kind == "settlement")
    assert len(settled) == total and set(settled.values()) == {1}
    # Each shared claim was settled by one desk and reported already settled by the other.
    already = Counter(e["claim_id"] for report in reports for e in report
                      if e["kind"] == "already_settled")
    assert len(already) == SHARED and set(already.values()) == {1}
    assert len(batches) == 2
    # The nets equal one run of all the claims in their order of arrival.
    assert main(["audit", "replay", book]) == EXIT_OK
    return max(started) < min(last_write.values())


# ---- the ledger table (docs/book.md), as on SQLite (tests/audit/test_book_reads.py) -----------
def ledger_rows(store) -> dict:
    return {(person, year): seq for person, year, seq in
            store._db.execute("SELECT person_id, year, seq FROM book_ledgers").fetchall()}


def test_on_postgresql_a_claim_on_top_reads_its_person_year_from_the_ledger_on(
        tmp_path, postgres_url, monkeypatch):
    from yibao.api import load_engine
    from yibao.audit.settle import BookSettler

    engine = load_engine(POLICY)

    def settle(store, *claim_ids):
        report = []
        lines = [(n, json.dumps(EXAMPLE[c], ensure_ascii=False)) for n, c in enumerate(claim_ids, 1)]
        for part in BookSettler(store, engine).run(lines):
            report.extend(part)
        return report

    with open_store(postgres_url, create=True) as store:
        settle(store, "bx-0001", "bx-0004")
        settle(store, "bx-0002")
        ledger_at = store.records_of_claim("bx-0002")[0].seq
        assert ledger_rows(store)[("p-01", 2023)] == ledger_at
        store._db.execute("DROP TABLE book_ledgers")   # a book written before the table
    with open_store(postgres_url) as store:
        whole, tails = [], {}
        read_whole, read_tails = store.book_records_of, store.book_tails
        monkeypatch.setattr(store, "book_records_of", lambda keys: whole.extend(
            k for k in keys if k[0]) or read_whole(keys))
        monkeypatch.setattr(store, "book_tails", lambda keys: tails.update(
            (k, [e.seq for e in v]) for k, v in read_tails(keys).items()) or read_tails(keys))
        report = settle(store, "bx-0003")
        # 20,000 − 7,800 − 6,000: from the ledger, the table built by this settle
        assert [e["payouts"][BASIC] for e in report if e["kind"] == "settlement"] == ["6200.00"]
        assert whole == [] and tails == {("p-01", 2023): [ledger_at]}
        assert ledger_rows(store)[("p-01", 2023)] == store.records_of_claim("bx-0003")[0].seq
        assert verify_store(store).ok
        # rebuilt with the index by reindex
        expected = ledger_rows(store)
        store._db.execute("DELETE FROM book_ledgers")
        store.rebuild_book_index(list(store.book_index()))
        assert ledger_rows(store) == expected and len(expected) == 2


def test_a_book_migrated_to_postgresql_has_its_ledger_table(tmp_path, postgres_url, capsys):
    from yibao.audit.sqlite_store import SQLiteStore

    book = str(tmp_path / "book.db")
    assert main(["settle", POLICY, write(tmp_path / "a.jsonl", EXAMPLE["bx-0001"],
                                         EXAMPLE["bx-0004"]), "--book", book]) == EXIT_OK
    assert main(["audit", "migrate", book, postgres_url]) == EXIT_OK
    with SQLiteStore(book) as source, open_store(postgres_url) as target:
        expected = {(p, y): s for p, y, s in source._db.execute(   # SQLite's person-year table
            "SELECT person_id, year, ledger FROM book_years WHERE ledger IS NOT NULL")}
        assert ledger_rows(target) == expected and len(expected) == 2


def test_an_old_books_copying_index_is_read_on_postgresql_and_reindexed_lean(
        tmp_path, postgres_url, capsys):
    """Issue 22 §9 on PostgreSQL: the /3 fixture (tests/audit/test_old_formats.py), whose
    index rows copy their records' claim, chain and ledger, migrates as it is; p-02
    (特困人员, bx-0004 paid 7,000 of the 2万 cap) takes bx-0004b on top of its copying
    ledger (burden 38,000 − 18,000 = 20,000 at 70%: 13,000 left of the cap) in a lean row;
    after `audit reindex` every row is lean and bx-0004c (May, burden 10,000) reads the
    ledger from bx-0004b's body: the cap is spent, 0.00."""
    fixture = EXAMPLES.parent.parent / "tests" / "audit" / "fixtures" / "book-v3.db"
    book = tmp_path / "book-v3.db"
    book.write_bytes(fixture.read_bytes())
    chain = None
    with open_store(str(book)) as store:
        for _, text in store.sources():     # Benxi, and its revision (which loads both)
            revision = text.startswith("policy ")
            path = tmp_path / f"{text.split()[1] if revision else 'benxi-2023'}.policy"
            path.write_text(text, encoding="utf-8")
            chain = str(path) if revision else chain
    assert main(["audit", "migrate", str(book), postgres_url]) == EXIT_OK
    april = {**EXAMPLE["bx-0004"], "claim_id": "bx-0004b", "date": "2023-04-01",
             "in_scope_cost": "38000.00", "total_cost": "40000.00"}
    may = {**EXAMPLE["bx-0004"], "claim_id": "bx-0004c", "date": "2023-05-01"}
    paid = []
    for claim in (april, may):
        capsys.readouterr()
        assert main(["settle", chain, write(tmp_path / "day.jsonl", claim),
                     "--book", postgres_url]) == EXIT_OK
        [line] = capsys.readouterr().out.splitlines()
        paid.append(json.loads(line)["payouts"][BASIC])
        with open_store(postgres_url) as store:
            rows = [json.loads(entry) for _, _, _, entry in store.book_index()]
            assert verify_store(store).ok
        if claim is april:
            assert "claim" in rows[0] and "claim" not in rows[-1]      # copying, then lean
            assert rows[-1]["ledger_after"] is True
            assert main(["audit", "reindex", postgres_url]) == EXIT_OK
    assert paid == ["13000.00", "0.00"]
    assert not any("claim" in row or "policies" in row for row in rows)
    assert main(["audit", "replay", postgres_url]) == EXIT_OK
