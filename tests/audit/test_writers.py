"""Writers and readers at once, with real processes (issue 25 item 8).

- A reader holding a read transaction open (an auditor's long query) no longer
  makes a recording run fail with "database is locked": the store is in WAL
  mode, where readers never block a writer.  With SQLite's former rollback
  journal the writer's COMMIT waited for the reader's lock until its 30 s busy
  timeout, then failed.
- Two `eval --record --resume` runs of the same interrupted batch at once: the
  second to commit is refused with A435 (exit 2), never an IntegrityError, and
  the batch holds each line once.
- A batch interrupted and then abandoned (the next run forgot --resume) is
  flagged by verify as incomplete, with its recorded and expected line counts.
"""

from __future__ import annotations

import json
import os
import pathlib
import random
import subprocess
import sys
import textwrap
import time
from collections import Counter

from helpers import POLICIES
from yibao.audit.sqlite_store import SQLiteStore
from yibao.audit.verify import verify_store
from yibao.cli.main import EXIT_OK, EXIT_USAGE, main

POLICY = str(POLICIES / "benxi-2023.policy")
YIBAO = [sys.executable, "-m", "yibao.cli.main"]

READER = textwrap.dedent("""
    import os, sqlite3, sys, time
    store, ready, done = sys.argv[1:]
    db = sqlite3.connect(store, isolation_level=None)
    db.execute("BEGIN")
    db.execute("SELECT count(*) FROM records").fetchone()      # holds its read snapshot
    open(ready, "w").close()
    deadline = time.monotonic() + 90
    while not os.path.exists(done) and time.monotonic() < deadline:
        time.sleep(0.05)
    db.execute("COMMIT")
""")


def generated_claims(count: int) -> list[str]:
    """Benxi claims of 100 people across 2023, in date order (so the first lines settle
    alone as they do at the head of the whole file: a resumable prefix)."""
    rng = random.Random(8)
    lines = []
    for number in range(count):
        in_scope = rng.randrange(1_000, 80_000)
        lines.append(json.dumps({
            "claim_id": f"w-{number:05d}", "person_id": f"p-{rng.randrange(100):03d}",
            "date": f"2023-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
            "identities": [rng.choice(["低保对象", "低保边缘家庭成员", "特困人员"])],
            "scheme": "居民医保", "visit": "住院", "total_cost": f"{in_scope}.00",
            "in_scope_cost": f"{in_scope}.00",
            "paid": {"基本医保": f"{in_scope // 3}.00", "大病保险": "0.00"}}, ensure_ascii=False))
    return sorted(lines, key=lambda line: json.loads(line)["date"])


def claims_file(tmp_path, count, name="claims.jsonl") -> str:
    lines = generated_claims(count)
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_a_long_reader_does_not_make_a_writer_fail(tmp_path):
    store = str(tmp_path / "audit.db")
    first = claims_file(tmp_path, 20, "first.jsonl")
    assert main(["eval", POLICY, first, "--record", store, "-o", os.devnull]) in (0, 1)
    ready, done = tmp_path / "ready", tmp_path / "done"
    reader = subprocess.Popen([sys.executable, "-c", READER, store, str(ready), str(done)])
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists()
        # The writer commits 4 transactions while the reader still holds its snapshot;
        # 25 s is less than the 30 s a rollback journal made it wait before failing.
        writer = subprocess.run([*YIBAO, "eval", POLICY, claims_file(tmp_path, 200), "--record",
                                 store, "--commit-every", "50", "-o", os.devnull],
                                capture_output=True, text=True, timeout=25)
        assert writer.returncode in (0, 1), writer.stderr
        assert "locked" not in writer.stderr and reader.poll() is None
    finally:
        done.touch()
        reader.wait(timeout=60)
    with SQLiteStore(store) as opened:
        report = verify_store(opened)
        assert report.ok and report.records == 220


def test_two_concurrent_resumes_of_one_batch(tmp_path):
    store = str(tmp_path / "audit.db")
    claims = claims_file(tmp_path, 600)
    # An interrupted batch: its first 50 lines recorded.
    pathlib.Path(tmp_path / "head.jsonl").write_text(
        "".join(open(claims, encoding="utf-8").readlines()[:50]), encoding="utf-8")
    main(["eval", POLICY, str(tmp_path / "head.jsonl"), "--record", store, "-o", os.devnull])
    runs = [subprocess.Popen([*YIBAO, "eval", POLICY, claims, "--record", store, "--resume",
                              "--commit-every", "25", "-o", os.devnull],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    results = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
    statuses = sorted(status for status, _ in results)
    assert statuses in ([0, 0], [0, 1], [1, 1], [0, EXIT_USAGE], [1, EXIT_USAGE]), results
    for status, err in results:
        assert "IntegrityError" not in err and "Traceback" not in err
        if status == EXIT_USAGE:
            assert "A435 batch 1 is being recorded by another run" in err
    with SQLiteStore(store) as opened:
        assert verify_store(opened).ok
        positions = Counter(r.position for r in opened.records(1))
        assert set(positions.values()) == {1} and len(positions) == 600


def test_a_resume_committed_while_another_reads_its_lines_is_refused(tmp_path):
    """The race of the test above, made to happen: run B reads the interrupted batch's
    lines, then run A records the rest of the batch, then B commits its first missing
    line.  B must see A's records as another run's (A435), not append line 51 again."""
    from yibao.audit.store import AuditError
    from yibao.audit.record import Recorder
    from yibao.core.jsonl import read_lines
    from yibao.dsl.loader import load_policy
    from yibao.runtime.batch import Engine

    store = str(tmp_path / "audit.db")
    claims = claims_file(tmp_path, 100)
    head = tmp_path / "head.jsonl"
    head.write_text("".join(open(claims, encoding="utf-8").readlines()[:50]), encoding="utf-8")
    main(["eval", POLICY, str(head), "--record", store, "-o", os.devnull])
    engine = Engine(load_policy(POLICY))
    with SQLiteStore(store) as opened:
        reads = opened.records

        def then_run_a(batch=None, after=0):
            yield from reads(batch, after)
            # B has read every line of batch 1 it will take as recorded: A runs now.
            assert main(["eval", POLICY, claims, "--record", store, "--resume",
                         "-o", os.devnull]) in (0, 1)

        opened.records = then_run_a
        recorder = Recorder(opened, engine, "sorted", resume=True)
        opened.records = reads
        assert sorted(recorder.recorded) == list(range(1, 51))
        lines = list(read_lines(claims))
        outcomes = engine.evaluate_records(lines)
        recorder.add(51, lines[50][1], outcomes[50])
        try:
            recorder.commit()
        except AuditError as error:
            assert "A435 batch 1 is being recorded by another run" in str(error)
        else:
            raise AssertionError("B appended line 51 again")
        assert verify_store(opened).ok
        positions = Counter(r.position for r in opened.records(1))
        assert set(positions.values()) == {1} and len(positions) == 100


def test_an_abandoned_batch_is_flagged_incomplete(tmp_path, capsys):
    store = str(tmp_path / "audit.db")
    claims = claims_file(tmp_path, 40)
    with open(claims, encoding="utf-8") as handle:
        lines = handle.readlines()
    # A run interrupted after its first 10 lines: simulated by the marks it leaves.
    main(["eval", POLICY, claims, "--record", store, "-o", os.devnull])
    with SQLiteStore(store, create=True) as opened:
        opened.mark_batch(2, "expected", len(lines), "2024-01-01T00:00:00+00:00")
    head = tmp_path / "head.jsonl"
    head.write_text("".join(lines[:10]), encoding="utf-8")
    # (the same 10 lines recorded as batch 2, which then never finishes)
    import sqlite3
    db = sqlite3.connect(store)
    db.execute("INSERT INTO batches (mode, engine_version, policy_key, started_at) "
               "SELECT mode, engine_version, policy_key, started_at FROM batches WHERE batch = 1")
    db.commit()
    db.close()
    with SQLiteStore(store, create=True) as opened:
        from yibao.audit.record import Recorder, record_batch
        from yibao.runtime.batch import Engine
        from yibao.dsl.loader import load_policy
        from yibao.core.jsonl import read_lines

        engine = Engine(load_policy(POLICY))
        recorder = Recorder(opened, engine, "sorted", resume=True)
        assert recorder.batch.batch == 2
        for _ in record_batch(recorder, engine, read_lines(str(head)), 100):
            pass
    # The next run forgot --resume: batch 3.
    assert main(["eval", POLICY, claims, "--record", store, "-o", os.devnull]) in (0, 1)
    capsys.readouterr()
    assert main(["audit", "verify", store]) == EXIT_OK
    err = capsys.readouterr().err
    assert ("yibao: A414 " in err and "batch 2 is incomplete: 10 of 40 line(s) recorded; "
            "interrupted and abandoned" in err), err
    assert "batch 1 is incomplete" not in err and "batch 3 is incomplete" not in err
