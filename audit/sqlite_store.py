"""The embedded audit store: one SQLite file (standard library ``sqlite3``).

Durability: every append is one ``BEGIN IMMEDIATE`` … ``COMMIT`` transaction
with ``synchronous=FULL`` in write-ahead-log mode (WAL), so a process killed at
any moment leaves the file as of its last commit (SQLite ignores an
uncommitted tail of the log on the next open); readers never block a writer.
(``settle`` holds its first transactions open as one until the verify walk's
verdict, ``commit_after``: still one ``BEGIN IMMEDIATE`` … ``COMMIT``.)  Triggers
refuse ``UPDATE`` and ``DELETE`` on records and sources: the store is append-only
by construction, and tamper-evident by the hash chain when someone bypasses the
triggers.  A writer's log is copied into the file by a thread of its own
(``_Checkpointer``).
"""

from __future__ import annotations

import functools
import os
import secrets
import sqlite3
import threading
import urllib.parse
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator, Mapping

import orjson

from yibao.audit.chain import BOOK_FORMAT, GENESIS, LISTED_FORMAT, SQLITE_STORE_FORMATS
from yibao.audit import merkle
from yibao.audit.store import (IN_BODY_LEDGER_BYTES, LEDGER_MARK, LEDGER_MARK_BYTES,
                               NOT_A_STORE, OTHER_FORMAT, Appending, AuditError, Batch,
                               BookEntry, ClaimHead, LedgerTableStore, RawRecord,
                               StoredRecord, by_person_year, ledger_part)

SCHEMA_CORE = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (sha256 TEXT PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    batch INTEGER PRIMARY KEY, mode TEXT NOT NULL, engine_version TEXT NOT NULL,
    policy_key TEXT NOT NULL, started_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, batch INTEGER NOT NULL,
    position INTEGER NOT NULL, claim_id TEXT, body TEXT NOT NULL,
    UNIQUE (batch, position));
CREATE INDEX IF NOT EXISTS records_by_claim ON records (claim_id, seq);
"""
# The settlement book's index: which records are a person-year's entries.  It is
# derived from the chain (each entry's body names its person and year) and
# rebuilt from it by ``yibao audit reindex``; verify checks it against the chain.
BOOK_SCHEMA = """
CREATE TABLE IF NOT EXISTS book_index (
    seq INTEGER PRIMARY KEY, person_id TEXT NOT NULL, year INTEGER NOT NULL,
    entry TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS verified (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL);
"""
# The transparency log (audit/merkle.py, docs/transparency.md): the hash of every
# complete subtree of the RFC 9162 tree over the records, and the signed checkpoints
# kept beside them.  New tables: the records and their bodies are as before.
TREE_SCHEMA = """
CREATE TABLE IF NOT EXISTS tlog_nodes (
    level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tlog_checkpoints (
    size INTEGER NOT NULL, checkpoint TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batch_marks (
    batch INTEGER NOT NULL, mark TEXT NOT NULL, value INTEGER, at TEXT NOT NULL,
    PRIMARY KEY (batch, mark));
"""
# Each person-year's entries (docs/book.md, "The person-year table"): the seqs of its
# rows of book_index in chain order (a JSON array), and the seq of the latest of them
# holding ``ledger_after`` (NULL if none does), so that a claim settled on top of it
# reads the entries from there on, not the person-year's whole history.  One row a
# person-year, extended in the transaction that writes its entries.  It replaces an
# index of book_index by (person_id, year, seq) and a table of the ledgers' seqs: the
# index's keys went in at random places among 10^6, so a transaction of 2,000 claims
# rewrote some 1,400 of its 1,650 leaf pages and the table 250 more, against some 800
# pages of this one (benchmarks/RESULTS.md, ninth pass).  Derived from the index:
# verify checks that the lists name every entry of the records it walks, and a read
# refuses a list that names a row not its person-year's (LIST_DISAGREES).
YEARS_SCHEMA = """
CREATE TABLE IF NOT EXISTS book_years (
    person_id TEXT NOT NULL, year INTEGER NOT NULL, seqs TEXT NOT NULL, ledger INTEGER,
    PRIMARY KEY (person_id, year)) WITHOUT ROWID;
"""
# The lists built from the index (a book written before them; reindex): each person-year's
# running array over its rows in seq order, kept at its last row.  A window, not GROUP BY
# over a sorted subquery: only a window's ORDER BY says in which order an aggregate
# takes its rows (6.8 s against 5.0 for the 10^6 book, once).
YEARS_FILL = ("INSERT INTO book_years SELECT person_id, year, seqs, ledger FROM ("
              "SELECT person_id, year, json_group_array(seq) OVER running AS seqs, "
              "max(CASE WHEN instr(entry, ?) > 0 THEN seq END) OVER running AS ledger, "
              "lead(seq) OVER running AS next FROM book_index "
              "WINDOW running AS (PARTITION BY person_id, year ORDER BY seq)) WHERE next IS NULL")
# A transaction's new entries of a person-year appended to its array (both arrays are
# never empty: "[…]" + "[…]" joined at the brackets), its ledger moved if one holds it.
YEARS_APPEND = ("INSERT INTO book_years VALUES (?, ?, ?, ?) ON CONFLICT (person_id, year) "
                "DO UPDATE SET seqs = substr(seqs, 1, length(seqs) - 1) || ',' || "
                "substr(excluded.seqs, 2), ledger = coalesce(excluded.ledger, ledger)")
# What a book written before book_years has instead, dropped when it gets the table.
LEGACY_BY_PERSON = "book_by_person_year"
LEGACY_LEDGERS = "book_ledgers"
SCHEMA = SCHEMA_CORE + BOOK_SCHEMA + YEARS_SCHEMA + TREE_SCHEMA
_APPEND_ONLY = "CREATE TRIGGER IF NOT EXISTS {table}_no_{verb} BEFORE {verb} ON {table} " \
               "BEGIN SELECT RAISE(ABORT, 'the audit store is append-only'); END;"
_RECORD_COLUMNS = "seq, hash, batch, position, claim_id, body"
# A person-year's entries as its row of book_years lists them: per listed value the index
# row (and record, ``join`` _RECORD) it names, checked by SQLiteStore._listed_rows.  The
# planner reads the table by key, the array, then each row by its seq.
_LISTED = ("SELECT y.person_id, y.year, j.value, b.seq, b.person_id, b.year, {fields} "
           "FROM book_years y, json_each(y.seqs) j LEFT JOIN book_index b ON b.seq = j.value "
           "{join} WHERE {where} ORDER BY y.person_id, y.year, j.value")
_RECORD = "LEFT JOIN records r ON r.seq = j.value"
# A transaction's claim ids looked up in the records by claim id, always by its index:
# with no statistics (a book is never ANALYZEd) SQLite's planner takes a list of some
# 4,000 ids or more for a large share of the table and scans all of it, 0.6-0.8 s on a
# book of 10^6 claims where the lookups take 2-4 ms (benchmarks/RESULTS.md, tenth pass).
_CLAIM_HEADS = ("SELECT r.claim_id, r.seq, r.hash, b.person_id, b.year "
                "FROM records r INDEXED BY records_by_claim LEFT JOIN book_index b USING (seq) "
                "WHERE r.claim_id IN ({marks}) ORDER BY r.seq")
LIST_DISAGREES = "A438"   # a row of book_years names an entry not its person-year's
LIST_PART = 20_000        # rows of the index compared with the lists at a time (verify)
PAGE_SIZE = 16384   # a new store's pages (SQLite's default is 4096)
# A text column read as its bytes, undecoded; any other type (a tampered row) as NULL.
_AS_BYTES = "CASE typeof({0}) WHEN 'text' THEN CAST({0} AS BLOB) END"
# verify's walk (``walk_rows``): each record with its index row and its leaf, by key.
_WALK = (f"SELECT r.seq, r.hash, r.batch, r.position, r.claim_id, {_AS_BYTES.format('r.body')}, "
         f"b.seq, b.person_id, b.year, {_AS_BYTES.format('b.entry')}, t.hash "
         "FROM records r LEFT JOIN book_index b ON b.seq = r.seq "
         "LEFT JOIN tlog_nodes t ON t.level = 0 AND t.idx = r.seq - 1 "
         "WHERE r.seq > ? AND r.seq <= ? ORDER BY r.seq")
_WALK_PART = 1000  # rows fetched at a time


class SQLiteStore(LedgerTableStore):
    def __init__(self, path: str, create: bool = False, read_only: bool = False):
        self.location = path
        if not create and not os.path.isfile(path):
            raise AuditError(f"{NOT_A_STORE} {path}: no audit store there",
                             "record one first: yibao eval POLICY CLAIMS --record STORE")
        try:
            # Autocommit mode: transactions are opened explicitly, BEGIN IMMEDIATE.
            # ``read_only``: a connection SQLite itself refuses to write on (the run's
            # worker reading the book beside its writer: audit/work_ahead.py).
            self._db = (sqlite3.connect(f"file:{urllib.parse.quote(path)}?mode=ro", uri=True,
                                        timeout=30, isolation_level=None) if read_only else
                        sqlite3.connect(path, timeout=30, isolation_level=None))
            # A text column edited into bytes that are not UTF-8 is read with U+FFFD in
            # their place (it then no longer matches its hash), not refused mid-walk.
            self._db.text_factory = lambda raw: raw.decode("utf-8", "replace")
            self._tail: _Tail | None = None   # the open write transaction's, if any
            self._verdict: Callable[[], None] | None = None   # awaited before the first COMMIT
            self._held = False     # a transaction left open for the verdict (commit_after)
            self._depth = 0        # transactions entered and not left (nested by the verdict)
            self._checkpointer: _Checkpointer | None = None   # started by the first append
            self._db.execute("PRAGMA synchronous = FULL")
            self._in_list = _parameters_allowed(self._db)
            self._prepare(create)
            self._use_wal()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as error:
            # A damaged schema can make SQLite's own message undecodable: still not a store.
            raise AuditError(f"{NOT_A_STORE} {path}: not an audit store ({error})",
                             "STORE is a file written by yibao eval --record") from None

    def _prepare(self, create: bool) -> None:
        found = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
        if found is None and not create:
            raise AuditError(f"{NOT_A_STORE} {self.location}: not an audit store (no meta table)")
        if found is None:
            # Before the first table: a page size holds only in a new file (and not once it
            # is in WAL mode).  A record is 2–4 kB and an index entry 1.5–2: in 16 kB pages
            # a settle transaction's COMMIT writes and checkpoints about half the CPU's worth
            # of log of 4 kB ones, the file is a sixth smaller, and reads cost the same
            # (benchmarks/RESULTS.md, "Verify and store I/O, second pass").  A book created
            # before keeps its pages.
            self._db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            with self._transaction():
                self._create_schema()
        version = self._db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        if version is None or version[0] not in SQLITE_STORE_FORMATS:
            raise AuditError(f"{OTHER_FORMAT} {self.location}: store format "
                             f"{version and version[0]}, "
                             f"this yibao reads {', '.join(SQLITE_STORE_FORMATS)}")
        self._has_book = version[0] in (BOOK_FORMAT, LISTED_FORMAT)
        if create and not self._has_book:
            # A yibao-audit/1 store opened to write: it gains the book's index and
            # person-year table (empty, as the chain holds no book entry yet) and says so.
            with self._transaction():
                for statement in (BOOK_SCHEMA + YEARS_SCHEMA).strip().split(";\n"):
                    self._db.execute(statement)
                self._db.execute("UPDATE meta SET value = ? WHERE key = 'format'",
                                 (LISTED_FORMAT,))
            self._has_book = True
        self._listed_now()
        self._has_tree = self._table_exists("tlog_nodes")
        # (a store whose index by claim id was dropped is still read, by a scan, as before)
        self._claim_heads = _CLAIM_HEADS if self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'records_by_claim'"
        ).fetchone() else _CLAIM_HEADS.replace(" INDEXED BY records_by_claim", "")
        if create and not self._has_tree:
            self.prepare_tree()

    def _use_wal(self) -> None:
        """Write-ahead logging: a reader holding a long read transaction (an auditor's
        verify, a report) no longer makes a writer fail with "database is locked", and
        writers wait for each other up to the busy timeout (30 s).  With
        ``synchronous=FULL`` every commit is still on disk when COMMIT returns.  The
        mode is kept in the file; a file that cannot be switched (read-only) stays as it
        is."""
        try:
            self._journal_mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError:
            self._journal_mode = None

    def _table_exists(self, name: str) -> bool:
        return self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                                (name,)).fetchone() is not None

    def _create_schema(self) -> None:
        for statement in SCHEMA.strip().split(";\n"):
            self._db.execute(statement)
        for table in ("records", "sources"):
            for verb in ("UPDATE", "DELETE"):
                self._db.execute(_APPEND_ONLY.format(table=table, verb=verb))
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)", (LISTED_FORMAT,))
        self._create_tree_schema()

    def _create_tree_schema(self) -> None:
        for statement in TREE_SCHEMA.strip().split(";\n"):
            self._db.execute(statement)
        for verb in ("UPDATE", "DELETE"):
            self._db.execute(_APPEND_ONLY.format(table="tlog_nodes", verb=verb))
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('log_id', ?)",
                         (secrets.token_hex(16),))

    def prepare_tree(self) -> None:
        with self._transaction():
            if not self._table_exists("tlog_nodes"):
                self._create_tree_schema()
            self._has_tree = True
            head = self._db.execute("SELECT coalesce(max(seq), 0) FROM records").fetchone()[0]
            self._grow_tree(head, [])

    @contextmanager
    def _transaction(self, appends: bool = False):
        """One ``BEGIN IMMEDIATE`` … ``COMMIT``; while a verdict is awaited (commit_after),
        kept open and joined by the next one, until one that ``appends`` ends."""
        if not self._depth and not self._held:
            self._db.execute("BEGIN IMMEDIATE")
        self._held = False
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            if not self._depth:
                self._db.execute("ROLLBACK")
            raise
        self._depth -= 1
        if self._depth:
            return                  # inside another (the verdict marking its head): it commits
        if self._verdict is not None and not appends:
            self._held = True       # the batch opened, the head marked: nothing to wait for yet
            return
        self._commit()

    def _commit(self) -> None:
        self._held = False
        if self._verdict is not None:
            verdict, self._verdict = self._verdict, None
            self._depth += 1        # what verdict writes (the verified head) joins this
            try:
                verdict()
            except BaseException as error:
                self._db.execute("ROLLBACK")
                self._verdict = functools.partial(_raise, error)   # and refuses every later one
                raise
            finally:
                self._depth -= 1
        self._db.execute("COMMIT")
        if self._checkpointer is not None and _log_bytes(self.location) > CHECKPOINT_LOG_BYTES:
            self._checkpointer.request()

    def commit_after(self, verdict: Callable[[], None]) -> None:
        # WAL: the walking process reads the chain as last committed, whatever this
        # connection writes meanwhile, and the write lock taken by the first BEGIN
        # IMMEDIATE keeps every other writer out until the verdict (docs/book.md).
        if self._journal_mode == "wal":
            self._verdict = verdict
        else:
            verdict()

    def commit_held(self) -> None:
        if self._held:
            self._commit()

    # ---- writing -------------------------------------------------------------------
    @contextmanager
    def appending(self) -> Iterator[Appending]:
        if self._checkpointer is None and self._journal_mode == "wal":
            self._checkpointer = _Checkpointer.start(self.location, self._db)
        with self._transaction(appends=True):
            if self._has_book and not self._has_ledgers:
                self._build_ledgers()     # before its first entry: every entry is listed
            head = self._db.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1")
            self._tail = _Tail(self._db, head.fetchone())
            try:
                yield self._tail
                self._tail.flush()
                if self._has_tree:
                    self._grow_tree(self._tail.seq, self._tail.leaves)
            finally:
                self._tail = None

    def _grow_tree(self, head: int, leaves: list[bytes]) -> None:
        self._db.executemany("INSERT INTO tlog_nodes VALUES (?, ?, ?)",
                             self.tree_rows(head, leaves))

    def _written(self) -> None:
        """Before a read inside a write transaction: the records it holds back, written."""
        if self._tail is not None:
            self._tail.flush()

    def open_batch(self, mode: str, engine_version: str, policy_key: str, started_at: str,
                   sources: Mapping[str, str]) -> Batch:
        with self._transaction():
            self._db.executemany("INSERT OR IGNORE INTO sources VALUES (?, ?)", sources.items())
            cursor = self._db.execute(
                "INSERT INTO batches (mode, engine_version, policy_key, started_at) "
                "VALUES (?, ?, ?, ?)", (mode, engine_version, policy_key, started_at))
            return Batch(cursor.lastrowid, mode, engine_version, policy_key, started_at)

    # ---- reading -------------------------------------------------------------------
    def latest_batch(self) -> Batch | None:
        row = self._db.execute("SELECT batch, mode, engine_version, policy_key, started_at "
                               "FROM batches ORDER BY batch DESC LIMIT 1").fetchone()
        return Batch(*row) if row else None

    def batches(self) -> Iterator[Batch]:
        for row in self._db.execute("SELECT batch, mode, engine_version, policy_key, started_at "
                                    "FROM batches ORDER BY batch").fetchall():
            yield Batch(*row)

    def records(self, batch: int | None = None, after: int = 0) -> Iterator[StoredRecord]:
        if batch is None:
            rows = self._db.execute(f"SELECT {_RECORD_COLUMNS} FROM records WHERE seq > ? "
                                    "ORDER BY seq", (after,))
        else:
            rows = self._db.execute(f"SELECT {_RECORD_COLUMNS} FROM records WHERE batch = ? "
                                    "AND seq > ? ORDER BY seq", (batch, after))
        for row in rows:
            yield StoredRecord(*row)

    def chain(self, after: int = 0) -> Iterator[RawRecord]:
        # The body's bytes as stored, not decoded (verify hashes and parses them): half
        # the cost of reading a row; a body that is not text is read as NULL.
        rows = self._db.execute("SELECT seq, hash, batch, position, claim_id, "
                                f"{_AS_BYTES.format('body')} FROM records WHERE seq > ? "
                                "ORDER BY seq", (after,))
        yield from map(RawRecord._make, rows)

    def walk_rows(self, after: int, limit: int) -> Iterator[list[tuple]] | None:
        if not (self._has_book and self._has_tree):
            return None     # a store written before the index or the tree: the three walks
        return self._walk_parts(after, limit)

    def _walk_parts(self, after: int, limit: int) -> Iterator[list[tuple]]:
        # One statement (each record's index row and leaf found by key) rather than three
        # cursors, and the text columns decoded by sqlite3 itself (``str``), not by the
        # connection's tolerant Python text factory (a call per column): a column that is
        # not UTF-8 raises, and verify walks the three cursors instead, which read it.
        yield from self._parts(self._db.execute(_WALK, (after, limit)), _WALK_PART)

    def _parts(self, rows: sqlite3.Cursor, size: int, text=str) -> Iterator[list[tuple]]:
        """``rows`` fetched ``size`` at a time, their text decoded by ``text`` (``str``: by
        sqlite3 itself), the factory swapped in only around each fetch, so that no other
        read sees it."""
        tolerant = self._db.text_factory
        while True:
            self._db.text_factory = text
            try:
                part = rows.fetchmany(size)
            finally:
                self._db.text_factory = tolerant
            if not part:
                return
            yield part

    def walk_extras(self, after: int, upto: int) -> tuple[int, int, bool]:
        rows = self._db.execute("SELECT count(*) FROM book_index WHERE seq > ? AND seq <= ?",
                                (after, upto)).fetchone()[0]
        leaves = self._db.execute("SELECT count(*) FROM tlog_nodes WHERE level = 0 "
                                  "AND idx >= ? AND idx < ?", (after, upto)).fetchone()[0]
        # As tree_leaves(after) reads them (text and blobs sort after every number).
        other = self._db.execute("SELECT count(*) FROM tlog_nodes WHERE level = 0 AND idx >= ? "
                                 "AND typeof(idx) != 'integer'", (after,)).fetchone()[0]
        return rows, leaves, not other

    def last_seq(self) -> int:
        return self._db.execute("SELECT coalesce(max(seq), 0) FROM records").fetchone()[0]

    def unlisted_entry(self, after: int, upto: int) -> int | None:
        # The index's rows in the range, LIST_PART at a time in seq order (memory bounded
        # however long the range), each part's person-years' rows of the table read by
        # key: a list's values within the part's span of seqs must be that person-year's
        # rows there, in order, once each.  A list naming a value in the range for a
        # person-year with no entry in that part is not seen here: a read refuses it
        # (_listed_rows).
        if not (self._has_book and self._has_ledgers):
            return None
        try:
            return self._unlisted_in(after, upto, str)
        except sqlite3.OperationalError:      # an id that is not UTF-8: read tolerantly
            return self._unlisted_in(after, upto, self._db.text_factory)

    def _unlisted_in(self, after: int, upto: int, text) -> int | None:
        # ``text``: the factory the ids are read with, swapped in around each fetch only
        # (str: decoded by sqlite3 itself, not a Python call a column, as _plain_rows)
        rows = self._db.execute("SELECT person_id, year, seq FROM book_index "
                                "WHERE seq > ? AND seq <= ? ORDER BY seq", (after, upto))
        first, low = None, after
        for part in self._parts(rows, LIST_PART, text):
            walked: dict[tuple[str, int], list[int]] = {}
            for person, year, seq in part:
                walked.setdefault((person, year), []).append(seq)
            high = part[-1][2]
            unlisted = self._unlisted_of(low, high, walked)
            if unlisted is not None:
                first = unlisted if first is None else min(first, unlisted)
            low = high
        return first

    def _unlisted_of(self, after: int, upto: int, walked: dict[tuple[str, int], list[int]]
                     ) -> int | None:
        lists = {(person, year): seqs for person, year, seqs in self._rows_in(
            "SELECT person_id, year, seqs FROM book_years WHERE person_id IN ({marks})",
            sorted({person for person, _ in walked}))}
        first = None
        for key, seqs in walked.items():
            try:
                # (values past ``upto``: the next part's, or entries another writer
                # appended since the walk began)
                listed = [value for value in orjson.loads(lists[key]) if after < value <= upto]
            except (KeyError, TypeError, ValueError):    # no row, not an array of numbers
                listed = []
            if listed != seqs:
                # where they part: the entry left out, or the value listed in its place
                at = next((i for i, pair in enumerate(zip(listed, seqs)) if pair[0] != pair[1]),
                          min(len(listed), len(seqs)))
                seq = seqs[at] if at < len(seqs) else listed[at]
                seq = seq if type(seq) is int else seqs[-1]
                first = seq if first is None else min(first, seq)
        return first

    def record_hash(self, seq: int) -> str | None:
        row = self._db.execute("SELECT hash FROM records WHERE seq = ?", (seq,)).fetchone()
        return row[0] if row else None

    def records_of_claim(self, claim_id: str) -> list[StoredRecord]:
        self._written()
        rows = self._db.execute(f"SELECT {_RECORD_COLUMNS} FROM records WHERE claim_id = ? "
                                "ORDER BY seq", (claim_id,))
        return [StoredRecord(*row) for row in rows]

    def book_records(self, person_id: str, year: int) -> list[BookEntry]:
        if not self._has_book:
            return []
        self._written()
        # (each record's body too: a lean entry leaves the claim, the chain and the ledger
        # in it, store.IN_BODY; BookEntry.data parses it only for such an entry)
        if not self._has_ledgers:
            rows = self._db.execute("SELECT b.seq, r.hash, b.entry, r.body FROM book_index b "
                                    "JOIN records r USING (seq) WHERE b.person_id = ? "
                                    "AND b.year = ? ORDER BY b.seq", (person_id, year))
            return [BookEntry(*row) for row in rows]
        rows = self._db.execute(_LISTED.format(fields="r.hash, b.entry, r.body", join=_RECORD,
                                               where="y.person_id = ? AND y.year = ?"),
                                (person_id, year))
        return [BookEntry(*row[2:]) for row in self._listed_rows(rows)]

    def book_records_of(self, keys: Iterable[tuple[str, int]]
                        ) -> dict[tuple[str, int], list[BookEntry]]:
        wanted = set(keys)
        found: dict[tuple[str, int], list[BookEntry]] = {key: [] for key in wanted}
        if not self._has_book or not wanted:
            return found
        self._written()
        # By person (the key's first column), the year sorted out here: a person has
        # entries in a year or two.  In chain order within each person-year (all
        # by_person_year needs): no sort of the rows by seq.
        people = sorted({person for person, _ in wanted})
        if not self._has_ledgers:
            rows = self._rows_in("SELECT b.person_id, b.year, b.seq, r.hash, b.entry, r.body "
                                 "FROM book_index b JOIN records r USING (seq) "
                                 "WHERE b.person_id IN ({marks}) "
                                 "ORDER BY b.person_id, b.year, b.seq", people)
        else:
            rows = self._listed_rows(self._rows_in(_LISTED.format(
                fields="r.hash, b.entry, r.body", join=_RECORD,
                where="y.person_id IN ({marks})"), people))
        return by_person_year(rows, found, BookEntry)

    def book_tails(self, keys: Iterable[tuple[str, int]]
                   ) -> dict[tuple[str, int], list[BookEntry]]:
        wanted = set(keys)
        found: dict[tuple[str, int], list[BookEntry]] = {}
        if not self._has_book or not wanted or not self._ledgers_ready():
            return found
        self._written()
        # Each person-year's entries from its latest ledger on (its row's ``ledger``): the
        # ledger's entry and what follows, by key.  None for a person-year whose row has
        # no ledger: it is read whole.
        # The entry as its UTF-8 bytes, undecoded (None if it is not text): the settler
        # searches and parses it as bytes (audit/settle.py _current_ledger), which saves
        # making a str of some 2 kB a row and orjson reading it back as UTF-8 (≈ 4 µs a row;
        # benchmarks/RESULTS.md, "The book's bytes").  Not UTF-8: it gives up on the
        # ledger and reads the person-year whole, with the tolerant text factory.
        rows = self._listed_rows(self._rows_in(_LISTED.format(
            fields=_AS_BYTES.format("b.entry"), join="",
            where="y.person_id IN ({marks}) AND j.value >= y.ledger"),
            sorted({person for person, _ in wanted})))
        # by_person_year, unrolled: a row a person-year here (its ledger's entry), 10^4 a run
        bodies = self._ledger_bodies(rows)
        for person, year, seq, entry in rows:
            key = (person, year)
            if key in wanted:
                found.setdefault(key, []).append(BookEntry(seq, None, entry, bodies.get(seq)))
        return found

    def _listed_rows(self, rows: Iterable[tuple]) -> list[tuple]:
        """The rows of a _LISTED query as (person, year, seq, *fields), once each row is
        found to be what its person-year's list says: a row of the index (not a number that
        names none), of that person-year, listed once.  The lists are derived from the
        index; an edited one that names another's entry (or one twice) would settle on a
        year to date that is not the person's, so it is refused (verify names a list that
        leaves one of its entries out)."""
        checked = []
        last_key, last_seq = None, 0
        for person, year, listed, seq, found_person, found_year, *fields in rows:
            key = (person, year)
            if (type(listed) is not int or seq != listed or (found_person, found_year) != key
                    or key == last_key and seq <= last_seq):
                raise AuditError(
                    f"{LIST_DISAGREES} {self.location}: the book's person-year table lists "
                    f"{listed!r} among the entries of {person} {year}, which the index does not "
                    "hold as one of theirs (or lists it twice)",
                    "yibao audit verify names what was changed; yibao audit reindex rebuilds "
                    "the table from the index")
            last_key, last_seq = key, seq
            checked.append((person, year, seq, *fields))
        return checked

    def _ledger_bodies(self, rows: list[tuple]) -> dict[int, bytes | None]:
        """The bodies of the lean ledger entries among ``rows`` (person, year, seq, entry
        bytes), by seq, as their UTF-8 bytes: one more statement, by key, for those whose
        entry leaves the ledger in the body (a copying one holds it).  Searched here, not
        by SQL's instr, which compares at every offset of a 2 kB copying entry."""
        lean = [seq for _, _, seq, entry in rows
                if entry is not None and IN_BODY_LEDGER_BYTES in entry]
        if not lean:
            return {}
        # (by key in seq order; only the ledger kept of each: ledger_part, what is read of
        # it, in the settling process or in the run's worker, which it is sent to)
        return {seq: body if body is None else ledger_part(body) for seq, body in self._rows_in(
            f"SELECT seq, {_AS_BYTES.format('body')} FROM records WHERE seq IN ({{marks}})",
            sorted(lean))}

    def prepare_ledgers(self) -> None:
        """Build the person-year table now, in its own transaction, rather than on the first
        settle (benchmarks/bench_book.py: the daily runs it times are not the first)."""
        if self._has_book and not self._has_ledgers:
            with self._transaction():
                self._build_ledgers()

    def _build_ledgers(self) -> None:
        """A book written before the person-year table gets it, built from the index (one
        pass over it), in place of the index by person-year and the ledgers' table; its
        format says so, and a yibao that would not keep the table no longer opens it.
        In a write transaction (the writers' lock held); not again if another
        connection's writer built it since this one looked (two settles on one book
        opened before its upgrade)."""
        self._listed_now()
        if self._has_ledgers:
            return
        for statement in YEARS_SCHEMA.strip().split(";\n"):
            self._db.execute(statement)
        self._db.execute(YEARS_FILL, (LEDGER_MARK,))
        self._db.execute(f"DROP INDEX IF EXISTS {LEGACY_BY_PERSON}")
        self._db.execute(f"DROP TABLE IF EXISTS {LEGACY_LEDGERS}")
        self._db.execute("UPDATE meta SET value = ? WHERE key = 'format'", (LISTED_FORMAT,))
        self._has_ledgers = True

    def _listed_now(self) -> None:
        self._has_ledgers = self._table_exists("book_years")

    def _rows_in(self, query: str, values: list) -> list[tuple]:
        """The rows of ``query`` over ``values``, its ``{marks}`` a list of them: one statement
        for up to SQLite's limit on a statement's parameters (32,766 by default), so a
        transaction's read-ahead is one statement a method, not one per 500 values.

        Text is decoded by sqlite3 itself (``str``) rather than by the connection's
        tolerant text factory, a Python call per column (10^4 rows a transaction, each
        with its entry); a column that is not UTF-8 makes it read the rows again with the
        tolerant one: what was read is then what it always was.
        """
        rows: list[tuple] = []
        for start in range(0, len(values), self._in_list):
            part = values[start:start + self._in_list]
            statement = query.format(marks=_marks(len(part)))
            try:
                rows.extend(self._plain_rows(statement, part))
            except sqlite3.OperationalError:
                rows.extend(self._db.execute(statement, part))   # e.g. not UTF-8: as before
        return rows

    def _plain_rows(self, statement: str, parameters: list) -> list[tuple]:
        tolerant = self._db.text_factory
        self._db.text_factory = str
        try:
            return self._db.execute(statement, parameters).fetchall()
        finally:
            self._db.text_factory = tolerant

    def claim_heads(self, claim_ids: Iterable[str]) -> dict[str, ClaimHead]:
        if not self._has_book:
            return super().claim_heads(claim_ids)
        ids = sorted(set(claim_ids))
        self._written()
        found: dict[str, ClaimHead] = {}
        rows = self._rows_in(self._claim_heads, ids)
        for claim_id, seq, digest, person, year in rows:
            booked = (person, year) if person is not None else None
            if booked is None and claim_id in found:
                booked = found[claim_id].person_year
            found[claim_id] = ClaimHead(seq, digest, booked)
        return found

    def person_claims(self, person_id: str) -> list[str]:
        if not self._has_book:
            return []
        self._written()
        if not self._has_ledgers:
            rows = self._db.execute("SELECT b.seq, r.claim_id FROM book_index b "
                                    "JOIN records r USING (seq) WHERE b.person_id = ? "
                                    "ORDER BY b.seq", (person_id,)).fetchall()
        else:
            # the person's rows of the table (its key's first column), then each entry's
            # record by its seq; in chain order across the person's years
            rows = sorted(row[2:] for row in self._listed_rows(self._db.execute(
                _LISTED.format(fields="r.claim_id", join=_RECORD, where="y.person_id = ?"),
                (person_id,))))
        return list(dict.fromkeys(claim_id for _, claim_id in rows))

    def book_index(self, after: int = 0) -> Iterator[tuple[int, str, int, str]]:
        if self._has_book:
            yield from self._db.execute("SELECT seq, person_id, year, entry FROM book_index "
                                        "WHERE seq > ? ORDER BY seq", (after,))

    def book_index_bytes(self, after: int = 0) -> Iterator[tuple[int, str, int, bytes | None]]:
        if self._has_book:
            yield from self._db.execute(f"SELECT seq, person_id, year, {_AS_BYTES.format('entry')} "
                                        "FROM book_index WHERE seq > ? ORDER BY seq", (after,))

    def rebuild_book_index(self, entries: Iterable[tuple[int, str, int, str]]) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM book_index")
            self._db.executemany("INSERT INTO book_index VALUES (?, ?, ?, ?)", entries)
            # derived from the index: rebuilt with it (a book without it gets it now)
            self._db.execute("DROP TABLE IF EXISTS book_years")
            self._build_ledgers()

    def verified_head(self) -> tuple[int, str] | None:
        if not self._has_book:
            return None
        row = self._db.execute("SELECT seq, hash FROM verified ORDER BY seq DESC LIMIT 1")
        return row.fetchone()

    def mark_verified(self, seq: int, head: str) -> None:
        if self._has_book and seq:
            with self._transaction():
                self._db.execute("INSERT OR REPLACE INTO verified VALUES (?, ?)", (seq, head))

    # ---- the transparency log ---------------------------------------------------------------
    def tree_nodes(self, keys: set[merkle.Key]) -> dict[merkle.Key, bytes]:
        found: dict[merkle.Key, bytes] = {}
        if not self._has_tree or not keys:
            return found
        keys = sorted(keys)
        for start in range(0, len(keys), 400):    # SQLite's limit on bound parameters
            part = keys[start:start + 400]
            where = " OR ".join(["(level = ? AND idx = ?)"] * len(part))
            for level, index, digest in self._db.execute(
                    f"SELECT level, idx, hash FROM tlog_nodes WHERE {where}",
                    [value for key in part for value in key]):
                found[(level, index)] = bytes(digest) if isinstance(digest, bytes) else digest
        return found

    def tree_size(self) -> int:
        if not self._has_tree:
            return 0
        row = self._db.execute("SELECT max(idx) FROM tlog_nodes WHERE level = 0 "
                               "AND typeof(idx) = 'integer'").fetchone()
        return 0 if row[0] is None else row[0] + 1

    def tree_leaves(self, after: int = 0) -> Iterator[tuple[int, bytes]]:
        if self._has_tree:
            yield from self._db.execute("SELECT idx, hash FROM tlog_nodes WHERE level = 0 "
                                        "AND idx >= ? ORDER BY idx", (after,))

    def log_id(self) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'log_id'").fetchone()
        return row[0] if row else None

    def add_checkpoint(self, size: int, checkpoint: str) -> None:
        with self._transaction():
            self._db.execute("INSERT INTO tlog_checkpoints VALUES (?, ?)", (size, checkpoint))

    def mark_batch(self, batch: int, mark: str, value: int | None, at: str) -> None:
        if self._has_tree:
            with self._transaction():
                self._db.execute("INSERT OR IGNORE INTO batch_marks VALUES (?, ?, ?, ?)",
                                 (batch, mark, value, at))

    def batch_marks(self) -> dict[int, dict[str, int | None]]:
        marks: dict[int, dict[str, int | None]] = {}
        if self._table_exists("batch_marks"):
            for batch, mark, value in self._db.execute(
                    "SELECT batch, mark, value FROM batch_marks"):
                marks.setdefault(batch, {})[mark] = value
        return marks

    def checkpoints(self) -> list[str]:
        if not self._table_exists("tlog_checkpoints"):
            return []
        return [row[0] for row in self._db.execute(
            "SELECT checkpoint FROM tlog_checkpoints ORDER BY rowid")]

    def source(self, sha256: str) -> str | None:
        row = self._db.execute("SELECT text FROM sources WHERE sha256 = ?", (sha256,)).fetchone()
        return row[0] if row else None

    def sources(self) -> Iterator[tuple[str, str]]:
        yield from self._db.execute("SELECT sha256, text FROM sources ORDER BY sha256")

    @property
    def wal(self) -> bool:
        """Whether the file is in write-ahead-log mode: then a reader on a connection of its
        own never waits for this one's write transaction (in the rollback journal's mode it
        may, until the transaction commits)."""
        return self._journal_mode == "wal"

    @contextmanager
    def snapshot(self) -> Iterator[tuple[int, str]]:
        """One read transaction, outside any write: what is read inside it is the book as
        of one commit (WAL: a reader never waits for the writer), whose chain head
        (seq, hash) it yields — (0, GENESIS) for an empty chain, as a writer's tail says."""
        self._db.execute("BEGIN")
        try:
            self._listed_now()    # a writer may have listed the book since the last one
            row = self._db.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1"
                                   ).fetchone()
            yield (row[0], row[1]) if row else (0, GENESIS)
        finally:
            self._db.execute("COMMIT")

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self._db.close()


# ``yibao audit repage``: a book made before 16 kB pages rewritten in them.
PAGE_SIZES = tuple(2 ** n for n in range(9, 17))   # what SQLite takes: 512 … 65536
CANNOT_REPAGE = "A436"   # not a SQLite file, or the new file's path is taken
IN_USE = "A437"          # another connection has the store open: repage needs it alone


def pragma_of(path: str, name: str):
    """The value of PRAGMA ``name`` (one of SQLite's, never a caller's text) of the file
    at ``path``, read on a connection of its own."""
    db = sqlite3.connect(path)
    try:
        return db.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        db.close()


def page_size_of(path: str) -> int:
    return pragma_of(path, "page_size")


def repage(path: str, page_size: int = PAGE_SIZE, target: str | None = None) -> int:
    """The SQLite store at ``path`` rewritten in pages of ``page_size`` bytes: in place,
    or into a new file ``target`` (``path`` left as it is); the page size it had.

    A page size holds only for a new file, and SQLite's default is 4 kB, which a 2–4 kB
    record fills alone: a book created before yibao chose 16 kB (PAGE_SIZE) writes and
    checkpoints twice the log a COMMIT (benchmarks/RESULTS.md, "The settlement book").
    ``VACUUM`` rewrites every table and index page by page, the rows and their bytes as
    they are, so the chain's hashes, the index and the tree do not change (the caller
    verifies before and after).  In place it needs the store alone: a write-ahead log
    can only be left (and the page size changed) by its only connection, so a store
    another process has open is refused (IN_USE) rather than waited for.  Into a new file
    (``VACUUM INTO``) it reads one consistent snapshot and others may go on reading.
    """
    if page_size not in PAGE_SIZES:
        raise AuditError(f"{CANNOT_REPAGE} {path}: a page size is a power of two from 512 to "
                         f"65536, not {page_size}")
    if target is not None and os.path.exists(target):
        raise AuditError(f"{CANNOT_REPAGE} {target}: the file exists",
                         "give a new file's path, or leave -o out to repage in place")
    before = page_size_of(path)
    db = sqlite3.connect(path, timeout=2, isolation_level=None)
    try:
        if target is not None:
            db.execute(f"PRAGMA page_size = {page_size}")   # VACUUM INTO's pages
            db.execute("VACUUM INTO ?", (target,))
            db.close()
            db = sqlite3.connect(target, isolation_level=None)
            db.execute("PRAGMA journal_mode = WAL")           # as the store would set it
            return before
        mode = db.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        if mode != "delete":
            raise sqlite3.OperationalError("database is locked")
        db.execute(f"PRAGMA page_size = {page_size}")
        db.execute("VACUUM")
        db.execute("PRAGMA journal_mode = WAL")
        return before
    except sqlite3.OperationalError as error:
        if "locked" not in str(error) and "busy" not in str(error):
            raise
        raise AuditError(f"{IN_USE} {path}: another process has the store open ({error})",
                         "let it finish (a settle, a desk, a verify), then repage") from None
    finally:
        db.close()


# The write-ahead log is copied into the database file once it passes this size (by
# _Checkpointer, beside the writer), not after every COMMIT: a transaction of 2,000
# claims rewrites most of the index leaves the one before wrote, so copying after each
# wrote the same pages again and again.  A daily run of 10^4 claims into the 10^6 book
# (≈ 210 MB of log) is copied once, when it closes the book: 1.92 s [1.86–2.02]
# against 1.98 [1.85–2.06] with a copy after each COMMIT, CPU 3.13 against 3.26 s
# (7 interleaved pairs, benchmarks/RESULTS.md, sixth pass).  A longer run (eval
# --record of 10^6 claims) is copied every 256 MB, so the log stays bounded; the log
# is truncated when SQLite starts it again after a copy (journal_size_limit), so its
# size is what was written since.
CHECKPOINT_LOG_BYTES = 256 << 20


def _log_bytes(path: str) -> int:
    try:
        return os.path.getsize(path + "-wal")
    except OSError:
        return 0


class _Checkpointer:
    """Copies the write-ahead log into the database file, in a thread with its own
    connection, while the writer goes on with its next transaction (asked once the log
    passes CHECKPOINT_LOG_BYTES).

    SQLite checkpoints in the committing call once the log passes 1,000 pages: a
    settle transaction of 2,000 claims writes some 3,500, so every COMMIT of a daily
    run also copied them all into the file and synced it (≈ 35 ms CPU and the I/O,
    benchmarks/RESULTS.md, "verify and store I/O").  A passive checkpoint never
    waits for readers or writers, and sqlite3 lets go of the interpreter lock while
    SQLite works, so here it takes the other core.  What it has not copied when the
    store closes, the writer's close copies, as SQLite always does.
    """

    def __init__(self, path: str):
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
        self._db.execute("PRAGMA synchronous = FULL")   # the file synced after copying
        self._wanted = threading.Condition()
        self._requested = self._done = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="yibao-checkpoint", daemon=True)

    @classmethod
    def start(cls, path: str, writer: sqlite3.Connection) -> _Checkpointer | None:
        try:
            checkpointer = cls(path)
            checkpointer._thread.start()
        except (sqlite3.Error, RuntimeError, OSError):
            return None             # the writer checkpoints in its commits, as before
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute("PRAGMA journal_size_limit = 0")   # the log's size: since its start
        return checkpointer

    def request(self) -> None:
        with self._wanted:
            self._requested += 1
            self._wanted.notify()

    def settled(self) -> None:
        """Wait until every checkpoint requested so far has run."""
        with self._wanted:
            self._wanted.wait_for(lambda: self._done >= self._requested or self._stopping)

    def _run(self) -> None:
        while True:
            with self._wanted:
                self._wanted.wait_for(lambda: self._requested > self._done or self._stopping)
                if self._stopping:
                    break
                target = self._requested
            try:
                self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error:
                pass                # e.g. busy: the next request, or the close, copies it
            with self._wanted:
                self._done = target
                self._wanted.notify_all()

    def stop(self) -> None:
        with self._wanted:
            self._stopping = True
            self._wanted.notify_all()
        self._thread.join()
        self._db.close()


def _raise(error: BaseException) -> None:
    raise error


def _parameters_allowed(db: sqlite3.Connection) -> int:
    """How many values one ``IN (…)`` binds: SQLite's limit on a statement's parameters
    (Python 3.11 reads it; 999 is the least any SQLite allows)."""
    try:
        return max(db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) - 8, 999)
    except (AttributeError, sqlite3.Error):
        return 999


def _marks(count: int) -> str:
    return ", ".join("?" * count)


class _Tail(Appending):
    """Records are held until the transaction ends (or a read needs them): then written
    with one ``executemany`` per table."""

    def __init__(self, db: sqlite3.Connection, head):
        self._db = db
        self.ledgers = True        # (LedgerTableStore._ledgers_ready: always kept here)
        self._years: dict[tuple[str, int], list[int]] = {}   # new entries a person-year
        self._ledgers: dict[tuple[str, int], int] = {}       # … the latest with a ledger
        self.seq, self.hash = head if head else (0, GENESIS)
        self.leaves: list[bytes] = []
        self._records: list[tuple] = []
        self._index: list[tuple] = []
        self._held: dict[str, StoredRecord] = {}   # claim id → its latest record held

    def add(self, record: StoredRecord, book: tuple[str, int, str | bytes] | None = None
            ) -> None:
        # A body (or entry) given as its UTF-8 bytes is written as they are (CAST … AS TEXT
        # in flush: no decoding here, no encoding again by sqlite3) and leaf-hashed as is.
        body = record.body
        self._records.append((record.seq, record.hash, record.batch, record.position,
                              record.claim_id, body))
        self.leaves.append(merkle.leaf_hash(body if type(body) is bytes
                                            else body.encode("utf-8")))
        if book is not None:
            self._index.append((record.seq, *book))
            key = (book[0], book[1])
            listed = self._years.get(key)
            if listed is None:
                self._years[key] = [record.seq]
            else:
                listed.append(record.seq)
            entry = book[2]
            if (LEDGER_MARK_BYTES if type(entry) is bytes else LEDGER_MARK) in entry:
                self._ledgers[key] = record.seq
        if record.claim_id is not None:
            self._held[record.claim_id] = record
        self.seq, self.hash = record.seq, record.hash

    def flush(self) -> None:
        if self._records:
            self._db.executemany(f"INSERT INTO records ({_RECORD_COLUMNS}) "
                                 "VALUES (?, ?, ?, ?, ?, CAST(? AS TEXT))", self._records)
            self._records = []
        if self._index:
            self._db.executemany("INSERT INTO book_index VALUES (?, ?, ?, CAST(? AS TEXT))",
                                 self._index)
            self._index = []
        if self._years:
            # In key order: each page of the table is then read and written once in the
            # transaction, not again whenever a later key falls on it after SQLite's
            # cache (2 MB) let it go (a quarter off the ledgers' table's updates).
            ledgers = self._ledgers
            self._db.executemany(YEARS_APPEND, [
                (person, year, f"[{','.join(map(str, seqs))}]", ledgers.get((person, year)))
                for (person, year), seqs in sorted(self._years.items())])
            self._years, self._ledgers = {}, {}
        self._held = {}

    def latest_of(self, claim_id: str) -> StoredRecord | None:
        if claim_id in self._held:
            return self._held[claim_id]
        row = self._db.execute(f"SELECT {_RECORD_COLUMNS} FROM records WHERE claim_id = ? "
                               "ORDER BY seq DESC LIMIT 1", (claim_id,)).fetchone()
        return StoredRecord(*row) if row else None
