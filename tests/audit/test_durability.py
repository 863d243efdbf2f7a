"""kill -9 during `yibao eval --record`, again and again, then resume: nothing lost, nothing twice.

A batch of 2,000 Benxi claims (generated deterministically: 400 people, dates
across 2023, every identity of §(一) and §(六), every visit) is recorded with
``--resume`` in transactions of 100 lines.  Each run is killed with SIGKILL at
a random point (while settling, between commits, or inside one) until a run
completes.  After every kill the store verifies, holds every claim whose
result the killed run had written out, and holds no line twice; at the end
it holds the batch exactly once and its outcomes, traces included, equal an
uninterrupted in-process run's (so the year-to-date ledger was rebuilt
consistently on every resume), as does the completing run's output.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3

from helpers import POLICIES
from killed_run import KilledRun
from yibao.audit.chain import GENESIS, link
from yibao.audit import sqlite_store
from yibao.audit.sqlite_store import SQLiteStore
from yibao.audit.store import StoredRecord
from yibao.audit.verify import verify_store
from yibao.core.jsonl import read_lines
from yibao.runtime.results import outcome_to_json

POLICY = str(POLICIES / "benxi-2023.policy")
CLAIMS, PEOPLE, KILLS, EVERY = 2000, 400, 5, 100
IDENTITIES = ["特困人员", "孤儿", "低保对象", "低保边缘家庭成员", "因病致贫重病患者", "返贫致贫人口",
              "监测帮扶对象", "其他监测范围内人口", "脱贫人口"]
VISITS = ["住院", "住院", "门诊慢特病", "高值药品", "普通门诊"]


def generated_claims(rng: random.Random) -> list[str]:
    lines = []
    for number in range(CLAIMS):
        in_scope = rng.randrange(1_000, 80_000)
        basic = rng.randrange(0, in_scope // 2)
        serious = rng.randrange(0, (in_scope - basic) // 3)
        held = [] if rng.random() < 0.1 else rng.sample(IDENTITIES, rng.choice([1, 1, 2]))
        lines.append(json.dumps({
            "claim_id": f"k-{number:05d}", "person_id": f"p-{rng.randrange(PEOPLE):03d}",
            "date": f"2023-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
            "identities": held, "scheme": rng.choice(["居民医保", "职工医保"]),
            "visit": rng.choice(VISITS),
            "total_cost": f"{in_scope + rng.randrange(0, 5_000)}.{rng.randrange(100):02d}",
            "in_scope_cost": f"{in_scope}.00",
            "paid": {"基本医保": f"{basic}.00", "大病保险": f"{serious}.00"},
        }, ensure_ascii=False))
    # Two lines that are not claims are recorded (with their errors) like the rest.
    lines.insert(700, '{"claim_id": "k-broken", "person_id": ')
    lines.insert(1500, json.dumps({"claim_id": "k-00007", "note": "a duplicate id"}))
    return lines


def start_run(claims: str, store: str) -> KilledRun:
    """One `yibao eval --record --resume` process, its output read as it comes."""
    return KilledRun(["eval", POLICY, claims, "--record", store, "--resume",
                      "--commit-every", str(EVERY)], "yibao: recorded #", timeout=120)


def stored_lines(path: str) -> list[tuple[int, str | None]]:
    """(position, claim id) of each record, read-only: a run killed early may have made none."""
    if not os.path.exists(path):
        return []
    db = sqlite3.connect(path)     # read-write: it may have to roll back a hot journal
    try:
        return db.execute("SELECT position, claim_id FROM records ORDER BY seq").fetchall()
    except sqlite3.OperationalError:     # killed before the schema's transaction committed
        return []
    finally:
        db.close()


def kill_at_random(run: KilledRun, rng: random.Random, stored: int, total: int) -> None:
    """Kill while loading or settling (by time), or just after a commit, or inside the next."""
    commits_left = -(-(total - stored) // EVERY)
    if commits_left < 3 or rng.random() < 0.3:
        run.kill_after(0, rng.uniform(0.3, 2.5))
    else:
        # Leave two commits to go, so that the run cannot finish before the kill.
        run.kill_after(rng.randrange(1, commits_left - 1), rng.uniform(0, 0.02))


def test_kill_9_at_random_points_then_resume(tmp_path, benxi_engine):
    rng = random.Random(20230101)
    claims, store = tmp_path / "claims.jsonl", str(tmp_path / "audit.db")
    claims.write_text("\n".join(generated_claims(rng)) + "\n", encoding="utf-8")
    total = CLAIMS + 2
    counts_after_kills: list[int] = []
    code = None
    for attempt in range(KILLS + 1):
        stored = len(stored_lines(store)) if attempt else 0
        run = start_run(str(claims), store)
        if attempt < KILLS:
            kill_at_random(run, rng, stored, total)
        code = run.wait()
        if code != -signal.SIGKILL:
            break
        rows = stored_lines(store)
        reported = {json.loads(line)["claim_id"] for line in run.out}
        assert reported <= {claim_id for _, claim_id in rows}, "reported but not stored"
        assert len({position for position, _ in rows}) == len(rows), "a line recorded twice"
        with SQLiteStore(store) as opened:
            assert verify_store(opened).ok
        counts_after_kills.append(len(rows))
    # Exit status 1 with this last line, not a crash: the run reports the two bad lines.
    assert (code, run.err[-1]) == (1, "yibao: 2 claim(s) failed; the others were settled\n"), \
        "".join(run.err[-20:])
    # Kills must have struck mid-batch, with part of it recorded, or nothing was tested.
    assert sum(0 < count < total for count in counts_after_kills) >= 2, counts_after_kills

    lines = list(read_lines(str(claims)))
    uninterrupted = benxi_engine.evaluate_records(lines)
    with SQLiteStore(store) as opened:
        assert verify_store(opened).ok
        records = list(opened.records())
    positions = [r.position for r in records]
    assert positions == [number for number, _ in lines], (len(positions), [
        (seq, position) for seq, position in enumerate(positions, 1) if seq != position][:5])
    # Records hold the settlement without its trace (yibao-audit/3).
    assert [r.data["outcome"] for r in records] == [
        outcome_to_json(o, trace=False) for o in uninterrupted]
    assert [json.loads(line) for line in run.out] == [
        outcome_to_json(o, trace=False) for o in uninterrupted]


def test_a_log_past_its_bound_is_copied_into_the_database_file_beside_the_writer(
        tmp_path, monkeypatch):
    """Once the write-ahead log passes CHECKPOINT_LOG_BYTES (here: at once), it is
    checkpointed by the store's own thread after the COMMIT (audit/sqlite_store.py
    _Checkpointer), not in the committing call; what is in the file is then the chain
    as committed, whatever the log still holds."""
    monkeypatch.setattr(sqlite_store, "CHECKPOINT_LOG_BYTES", 0)
    path = str(tmp_path / "book.db")
    with SQLiteStore(path, create=True) as store:
        batch = store.open_batch("sorted", "0", "key", "2024-01-02T03:04:05Z", {})
        body, digest = link({"claim_id": "a", "batch": batch.batch, "position": 1}, 1, GENESIS)
        with store.appending() as tail:
            tail.add(StoredRecord(1, digest, batch.batch, 1, "a", body))
        # Committed: in the log.  One record is far below SQLite's own 1,000-page
        # checkpoint, so only the store's thread copies it into the file.
        assert store._db.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        store._checkpointer.settled()
        file_only = sqlite3.connect(f"file:{path}?immutable=1", uri=True)   # ignores the log
        assert file_only.execute("SELECT seq, claim_id FROM records").fetchall() == [(1, "a")]
        file_only.close()


def test_a_log_under_its_bound_is_copied_when_the_book_closes(tmp_path, monkeypatch):
    """Under CHECKPOINT_LOG_BYTES nothing is copied while the writer runs (a daily run
    writes each index leaf once into the file, at the end); the close copies the log,
    and a log that passes the bound is copied and then starts again from nothing."""
    path = str(tmp_path / "book.db")

    def appended(store, seq: int) -> None:
        body, digest = link({"claim_id": f"c{seq}", "batch": 1, "position": seq}, seq,
                            store.record_hash(seq - 1) if seq > 1 else GENESIS)
        with store.appending() as tail:
            tail.add(StoredRecord(seq, digest, 1, seq, f"c{seq}", body))

    def in_the_file() -> int:
        file_only = sqlite3.connect(f"file:{path}?immutable=1", uri=True)   # ignores the log
        try:
            return file_only.execute("SELECT count(*) FROM records").fetchone()[0]
        finally:
            file_only.close()

    with SQLiteStore(path, create=True) as store:
        store.open_batch("sorted", "0", "key", "2024-01-02T03:04:05Z", {})
        for seq in range(1, 4):
            appended(store, seq)
        store._checkpointer.settled()
        assert in_the_file() == 0 and os.path.getsize(path + "-wal") > 0
        # Past the bound: the next COMMIT asks the thread to copy the log.
        monkeypatch.setattr(sqlite_store, "CHECKPOINT_LOG_BYTES", 0)
        appended(store, 4)
        store._checkpointer.settled()
        assert in_the_file() == 4
        copied = os.path.getsize(path + "-wal")
        monkeypatch.setattr(sqlite_store, "CHECKPOINT_LOG_BYTES", 256 << 20)
        appended(store, 5)     # the log starts again, truncated (journal_size_limit)
        assert os.path.getsize(path + "-wal") < copied
    assert in_the_file() == 5 and not os.path.exists(path + "-wal")
    with SQLiteStore(path) as opened:
        assert [record.seq for record in opened.records()] == [1, 2, 3, 4, 5]
