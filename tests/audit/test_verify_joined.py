"""verify's joined walk (issue 22 §9): each record read with its index row and leaf in one
statement, and given up for the walk apart at anything it does not find plain.

It may only ever say that a chain verifies: on every store, edited or not, its report
must be the walk apart's (``walk_rows`` answering None makes verify walk apart).  The
book here is the Benxi examples settled in two runs (settlements, a late claim's
adjustments, a withdrawal), so that the index holds every kind of entry.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import tempfile

import pytest

from helpers import EXAMPLES
from yibao.audit.settle import BookSettler
from yibao.audit.sqlite_store import SQLiteStore
from yibao.audit.verify import TREE, verify_store

LINES = (EXAMPLES / "benxi-2023.jsonl").read_text(encoding="utf-8").splitlines()
CASES = 300
SEED = 22


@pytest.fixture(scope="module")
def book(tmp_path_factory, benxi_engine):
    path = str(tmp_path_factory.mktemp("joined") / "book.db")
    with SQLiteStore(path, create=True) as store:
        settler = BookSettler(store, benxi_engine)
        later = [line for line in LINES if json.loads(line)["date"] >= "2023-06"]
        earlier = [line for line in LINES if line not in later]
        withdrawn = json.dumps({"claim_id": json.loads(later[0])["claim_id"], "withdraw": True})
        for run in (later, [*earlier, withdrawn]):     # the earlier claims arrive late
            for _ in settler.run(enumerate(run, 1), 3):
                pass
    return path


def walked_apart(store):
    """The report of the walk apart: the store offers no joined read."""
    original = store.walk_rows
    store.walk_rows = lambda after, limit: None
    try:
        return verify_store(store)
    finally:
        store.walk_rows = original


def test_an_untouched_book_is_walked_joined_and_verifies(book):
    with SQLiteStore(book) as store:
        kinds = {json.loads(entry)["kind"] for _, _, _, entry in store.book_index()}
        assert {"settlement", "adjustment", "withdrawal"} <= kinds
        store.chain = store.book_index_bytes = store.tree_leaves = _not_read
        report = verify_store(store)
        assert report.ok and report.records == store.last_seq()
        assert report.root is not None
    with SQLiteStore(book) as store:
        assert walked_apart(store) == report


def _not_read(*_args, **_kwargs):
    raise AssertionError("the walk apart was made on an untouched book")


def test_a_walk_from_the_verified_head_is_joined_too(book, tmp_path):
    copy = str(tmp_path / "copy.db")
    shutil.copyfile(book, copy)
    with SQLiteStore(copy) as store:
        store.mark_verified(3, store.record_hash(3))
        store.chain = _not_read
        report = verify_store(store, since=store.verified_head())
        assert report.ok and report.records == store.last_seq()


@pytest.mark.parametrize("edit", [
    # a leaf whose index is a fraction, after the records walked: the walk apart finds it
    # out of order; the join, which looks leaves up by a whole index, never reads it
    "INSERT INTO tlog_nodes VALUES (0, 1000.5, zeroblob(32))",
    "INSERT INTO tlog_nodes VALUES (0, 'x', zeroblob(32))",
    "INSERT INTO tlog_nodes VALUES (0, 2.5, zeroblob(32))",
])
def test_a_leaf_no_record_joins_is_found_by_the_walk_apart(book, tmp_path, edit):
    copy = str(tmp_path / "copy.db")
    shutil.copyfile(book, copy)
    db = sqlite3.connect(copy)
    db.execute(edit)
    db.commit()
    db.close()
    with SQLiteStore(copy) as store:
        report = verify_store(store)
        assert report.problem is not None and report.problem.kind == TREE
        assert walked_apart(store) == report


def _edit(path: str, rng: random.Random) -> None:
    db = sqlite3.connect(path)
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f"DROP TRIGGER {name}")
    table, columns = rng.choice([("records", ["hash", "batch", "position", "claim_id", "body"]),
                                 ("book_index", ["seq", "person_id", "year", "entry"]),
                                 ("tlog_nodes", ["idx", "hash"]),
                                 ("batches", ["mode", "engine_version", "policy_key"]),
                                 ("sources", ["text"])])
    rowid = "seq" if table in ("records", "book_index") else "rowid"
    if table == "tlog_nodes":
        keys = db.execute("SELECT level, idx FROM tlog_nodes WHERE level = 0").fetchall()
        where, key = "level = 0 AND idx = ?", (rng.choice(keys)[1],)
    else:
        keys = db.execute(f"SELECT {rowid} FROM {table}").fetchall()
        where, key = f"{rowid} = ?", rng.choice(keys)
    column = rng.choice(columns)
    current = db.execute(f"SELECT {column} FROM {table} WHERE {where}", key).fetchone()[0]
    text = current if isinstance(current, str) else ""
    cut = rng.randrange(len(text) + 1)
    value = rng.choice([
        None, 0, 1, 2.5, "x", b"\xff\xfe", b"\x00" * 32, text[:cut] + text[cut + 1:],
        text.replace("0", "1", 1), text.replace('":"', '": "', 1), text.replace("2023", "2024", 1),
        text.encode("utf-8")[:cut] + b"\xc3" + text.encode("utf-8")[cut:],
        (current + 1) if isinstance(current, int) else text + " ",
    ])
    try:
        if rng.random() < 0.15:
            db.execute(f"DELETE FROM {table} WHERE {where}", key)
        else:
            db.execute(f"UPDATE OR IGNORE {table} SET {column} = ? WHERE {where}", (value, *key))
        db.commit()
    except sqlite3.Error:
        pass            # an edit SQLite refuses: the copy stays as it was
    finally:
        db.close()


def test_on_every_edited_book_the_joined_walk_reports_what_the_walk_apart_reports(book,
                                                                                 tmp_path):
    rng = random.Random(SEED)
    found = 0
    # In memory where the machine has /dev/shm, as test_verify_fuzz.py: each edit syncs.
    folder = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else tmp_path)
    try:
        for case in range(CASES):
            copy = os.path.join(folder, f"case-{case % 3}.db")
            shutil.copyfile(book, copy)
            for _ in range(rng.randint(1, 2)):
                _edit(copy, rng)
            with SQLiteStore(copy) as store:
                joined = verify_store(store)
                assert joined == walked_apart(store), f"case {case}"
                found += not joined.ok
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert found > CASES // 2      # the edits reach what verify checks


def test_on_postgresql_the_walk_is_joined_too_and_reports_as_the_walk_apart(book,
                                                                           postgres_url):
    from yibao.audit.postgres_store import PostgresStore

    with SQLiteStore(book) as source, PostgresStore(postgres_url, create=True) as target:
        target.copy_from(source)
    with PostgresStore(postgres_url) as store:
        store.chain = store.book_index_bytes = store.tree_leaves = _not_read
        report = verify_store(store)
        assert report.ok and report.records == store.last_seq()
    with PostgresStore(postgres_url) as store:
        assert walked_apart(store) == report
        # an entry edited behind yibao's back: the joined walk gives up, the walk apart
        # names the record, on both
        store._db.execute("UPDATE book_index SET entry = replace(entry, '\"kind\"', "
                          "'\"kind\" ') WHERE seq = 4")
        edited = verify_store(store)
        assert edited.problem is not None and edited.problem.seq == 4
        assert walked_apart(store) == edited
