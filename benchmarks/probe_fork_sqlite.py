"""Why the run's worker must not open an SQLite connection of its own (issue 22 §9).

    .venv/bin/python -m benchmarks.probe_fork_sqlite [--forks 300] [--no-checkpointer]

The book's daily run forks its worker (audit/run_worker.py) from the settling
process, which by then has the book open and, on SQLite in WAL mode, a
checkpointing thread of the store's own (audit/sqlite_store.py ``_Checkpointer``,
the ``yibao-checkpoint`` thread, which runs ``wal_checkpoint`` with the GIL let
go).  Letting the worker read the next transaction's ledgers on a read-only
connection opened in the child, after the fork, hung a test run.  This probe
does what that did, without yibao: a parent holding a write transaction on a WAL
database and a thread checkpointing it, forking children that each open a new
read-only connection and read.  A child that has not finished within 5 s is
counted as hung and killed.

What it shows (2026-12-07, SQLite 3.40.1, 2 cores): 11 of 300 children (5 and 7
of 200 in two more runs) hung with the checkpointing thread, none of 300 without
it, and none of 300 forked before the parent opened the database
(``--before-open``: each waits on a pipe, then reads while the parent is inside
a write transaction and the thread checkpoints).  A fork copies SQLite's
process-wide state as it is at that instant: a mutex the checkpointing thread
holds (the unix VFS's, taken to find a file's inode record or map the WAL
index) stays held in the child for ever, and the next ``connect`` there waits
on it.  Opening the connection after the fork does not avoid that, and even with
no thread the child inherits the parent's per-file lock bookkeeping (SQLite's
inode list: locks the parent holds look like the child's own, so the child's
read locks may never reach the kernel and a checkpoint in the parent may copy
pages under the child's snapshot): SQLite's "do not carry a connection across
fork" applies to the file, not only to the connection object.  A worker with a
connection of its own has to be a process that never shared SQLite state with
one using the book: forked before the settling process opens the store (the
command line loads the policy first, then opens the book), or spawned.

Not a test: it depends on timing; it prints a count.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import threading
import time


def _read(path: str) -> None:
    """A child's job: its own read-only connection, one read; exits 0 if it read."""
    status = 3
    try:
        reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        reader.execute("SELECT count(*), sum(length(v)) FROM t").fetchall()
        status = 0
    finally:
        os._exit(status)


def _forked_before(path: str, forks: int) -> list[tuple[int, int]]:
    """``forks`` children forked before the parent opens the database: (pid, the pipe
    end that starts one's read)."""
    waiting = []
    for _ in range(forks):
        start, go = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(go)
            os.read(start, 1)
            _read(path)
        os.close(start)
        waiting.append((pid, go))
    return waiting


def probe(forks: int, checkpointer: bool, before_open: bool = False) -> tuple[int, int]:
    """(children hung, children failed) out of ``forks``."""
    folder = tempfile.mkdtemp(prefix="yibao-fork-probe-")
    path = os.path.join(folder, "probe.db")
    waiting = _forked_before(path, forks) if before_open else []
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode = wal")
    db.execute("PRAGMA wal_autocheckpoint = 0")
    db.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)")
    db.execute("BEGIN")
    db.executemany("INSERT INTO t VALUES (?, ?)", [(k, os.urandom(2000)) for k in range(20_000)])
    db.execute("COMMIT")
    stopping = threading.Event()

    def checkpoint() -> None:
        own = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        while not stopping.is_set():
            own.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        own.close()

    thread = threading.Thread(target=checkpoint, daemon=True)
    if checkpointer:
        thread.start()
    hung = failed = 0
    try:
        for round_ in range(forks):
            db.execute("BEGIN IMMEDIATE")    # the settling process inside a transaction
            db.execute("UPDATE t SET v = ? WHERE k = ?", (os.urandom(2000), round_ % 20_000))
            if before_open:
                pid, go = waiting[round_]
                os.write(go, b"r")
                os.close(go)
            else:
                pid = os.fork()
                if pid == 0:
                    _read(path)
            db.execute("COMMIT")
            deadline = time.monotonic() + 5
            while True:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    failed += status != 0
                    break
                if time.monotonic() > deadline:
                    hung += 1
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                    break
                time.sleep(0.001)
    finally:
        stopping.set()
        if checkpointer:
            thread.join()
        db.close()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        os.rmdir(folder)
    return hung, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forks", type=int, default=300)
    parser.add_argument("--no-checkpointer", action="store_true")
    parser.add_argument("--before-open", action="store_true",
                        help="fork the children before the parent opens the database")
    args = parser.parse_args()
    hung, failed = probe(args.forks, not args.no_checkpointer, args.before_open)
    print(f"SQLite {sqlite3.sqlite_version}: {args.forks} children"
          f"{' forked before the parent opened the database' if args.before_open else ''}, "
          f"{hung} hung, {failed} failed "
          f"({'no ' if args.no_checkpointer else ''}checkpointing thread)")


if __name__ == "__main__":
    main()
