"""`audit verify` never crashes (issue 25 item 6): 1,000 random edits of a real store.

A real store (docs/specification.md §6's three claims recorded twice by `eval
--record`, with a checkpoint signed after each run) is copied and edited at
random: bytes of the file overwritten (any page: header, b-tree, record,
free list), or rows of any table changed behind yibao's back (a column set to
another type, text that is not UTF-8, a blob, NULL, a huge number, JSON of
another shape; rows deleted or duplicated).  Each copy is verified, half of
them with `--since` the witness file and `--pubkey`; the only answers allowed
are exit 0 (the edit changed nothing that is checked, e.g. a free page), 1
(a coded message) and 2 (a store-level failure, coded): never a traceback.
The seed is fixed, so CI runs the same 1,000 cases every time.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import tempfile

import pytest

from helpers import POLICIES
from yibao.cli.audit import run_verify
from yibao.cli.main import EXIT_OK, main

POLICY = str(POLICIES / "benxi-2023.policy")
CASES = 1_000
SEED = 25

COLUMNS = {
    "records": ["seq", "hash", "batch", "position", "claim_id", "body"],
    "batches": ["batch", "mode", "engine_version", "policy_key", "started_at"],
    "sources": ["sha256", "text"],
    "meta": ["key", "value"],
    "tlog_nodes": ["level", "idx", "hash"],
    "tlog_checkpoints": ["size", "checkpoint"],
    "batch_marks": ["batch", "mark", "value", "at"],
    "book_index": ["seq", "person_id", "year", "entry"],
}


def _values(rng: random.Random, current):
    text = current if isinstance(current, str) else ""
    cut = rng.randrange(len(text) + 1)
    return rng.choice([
        None, 0, -1, 2 ** 62, rng.randrange(1, 9), 1.5, "", "x", b"\xff\xfe\x00", b"\x00" * 32,
        "[]", "{}", '{"seq": "1"}', '{"seq": 1, "prev": 5}', "null", "true",
        text[:cut], text[:cut] + text[cut + 1:], text.replace("0", "1", 1),
        text.replace('"', "'", 1), text + "}", text.encode("utf-8")[:cut] + b"\xc3",
    ])


def _row_edit(path: str, rng: random.Random) -> None:
    db = sqlite3.connect(path)
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f"DROP TRIGGER {name}")
    table = rng.choice(sorted(COLUMNS))
    rowids = [r[0] for r in db.execute(f"SELECT rowid FROM {table}")] if table != "tlog_nodes" \
        else None
    action = rng.random()
    try:
        if table == "tlog_nodes":
            keys = db.execute("SELECT level, idx FROM tlog_nodes").fetchall()
            level, index = rng.choice(keys)
            column = rng.choice(COLUMNS[table])
            if action < 0.2:
                db.execute("DELETE FROM tlog_nodes WHERE level = ? AND idx = ?", (level, index))
            else:
                db.execute(f"UPDATE tlog_nodes SET {column} = ? WHERE level = ? AND idx = ?",
                           (_values(rng, None), level, index))
        elif rowids:
            rowid = rng.choice(rowids)
            if action < 0.15:
                db.execute(f"DELETE FROM {table} WHERE rowid = ?", (rowid,))
            elif action < 0.25:
                columns = ", ".join(COLUMNS[table])
                db.execute(f"INSERT OR IGNORE INTO {table} ({columns}) SELECT {columns} "
                           f"FROM {table} WHERE rowid = ?", (rowid,))
            else:
                column = rng.choice(COLUMNS[table])
                current = db.execute(f"SELECT {column} FROM {table} WHERE rowid = ?",
                                     (rowid,)).fetchone()[0]
                db.execute(f"UPDATE OR IGNORE {table} SET {column} = ? WHERE rowid = ?",
                           (_values(rng, current), rowid))
        db.commit()
    except sqlite3.Error:
        pass          # an edit SQLite itself refuses (a constraint): the copy stays as it was
    finally:
        db.close()


def _byte_edit(path: str, rng: random.Random) -> None:
    with open(path, "r+b") as handle:
        data = bytearray(handle.read())
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(data))
            data[at:at + rng.randint(1, 3)] = bytes(rng.randrange(256) for _ in range(
                rng.randint(1, 3)))
        handle.seek(0)
        handle.truncate()
        handle.write(bytes(data))


@pytest.fixture(scope="module")
def signed_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    claims = folder / "claims.jsonl"
    claims.write_text("".join(
        f'{{"claim_id": "{cid}", "person_id": "p", "date": "2023-0{n}-10", '
        '"identities": ["低保边缘家庭成员"], "scheme": "居民医保", "visit": "住院", '
        f'"total_cost": "{cost}", "in_scope_cost": "{cost}", '
        '"paid": {"基本医保": "10000.00", "大病保险": "0.00"}}\n'
        for n, (cid, cost) in enumerate([("a", "25000.00"), ("b", "20000.00"),
                                         ("c", "30000.00")], 1)), encoding="utf-8")
    store, key, witness = str(folder / "audit.db"), str(folder / "k"), str(folder / "w.jsonl")
    assert main(["audit", "keygen", key]) == EXIT_OK
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("YIBAO_AUDIT_KEY", key)
        patch.setenv("YIBAO_AUDIT_WITNESS", witness)
        for _ in range(2):
            assert main(["eval", POLICY, str(claims), "--record", store]) == EXIT_OK
    return store, key + ".pub", witness


def test_verify_answers_every_edited_store_with_a_code_never_a_traceback(signed_store, capsys):
    store, public, witness = signed_store
    rng = random.Random(SEED)
    seen = {0: 0, 1: 0, 2: 0}
    # The copies live in memory where the machine has /dev/shm: a store's writes are
    # synchronous (fsync), and 1,000 of them on a shared disk take minutes.
    folder = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        for case in range(CASES):
            copy = os.path.join(folder, f"case-{case % 4}.db")
            shutil.copyfile(store, copy)
            (_byte_edit if rng.random() < 0.4 else _row_edit)(copy, rng)
            since = rng.random() < 0.5
            # `yibao audit verify COPY [--since W --pubkey P]`, its parsed arguments built
            # here (argparse's parser is the same every time: built once per main() call).
            args = argparse.Namespace(store=copy, head=None, since=[witness] if since else [],
                                      pubkey=public if since else None)
            status = run_verify(args)        # an exception fails the test
            out, err = capsys.readouterr()
            assert status in seen, (case, status, err)
            if status:
                assert "yibao: A4" in err, (case, err)
            seen[status] += 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    # The cases reach all three answers, most of them a detected change.
    assert seen[0] and seen[1] > CASES // 4 and seen[2] > CASES // 10, seen
