"""The shared audit store: PostgreSQL (psycopg 3), for several settlement desks at once.

Same records, same bodies, same hashes as the SQLite store (bodies are built
by :mod:`yibao.audit.chain`); the tables are the same too.  What differs is
concurrency.  A write transaction (``appending``) first takes
``LOCK TABLE records IN EXCLUSIVE MODE``: writers queue on the chain's head,
which every append must extend anyway (seq has no gaps), while readers go on.
Everything a settle transaction reads, it reads after taking the lock (the
person-years it touches, audit/settle.py), so two desks settling the same
person at the same moment are serialised: the second sees the first's
entries, and nothing is lost or settled twice.  Triggers refuse UPDATE and
DELETE on records and sources, as in SQLite.

Location: a ``postgresql://`` (or ``postgres://``) URL, e.g.
``postgresql://yibao@/yibao?host=/run/postgresql``.
"""

from __future__ import annotations

import secrets
from contextlib import contextmanager
from typing import Iterable, Iterator, Mapping

from yibao.audit.chain import BOOK_FORMAT, GENESIS, STORE_FORMATS
from yibao.audit import merkle
from yibao.audit.store import (IN_BODY_LEDGER, LEDGER_MARK, NOT_A_STORE,
                               OTHER_FORMAT, UNREADABLE, Appending,
                               AuditError, AuditStore, Batch, BookEntry, ClaimHead,
                               LedgerTableStore, StoredRecord, by_person_year)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (sha256 TEXT PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    batch BIGSERIAL PRIMARY KEY, mode TEXT NOT NULL, engine_version TEXT NOT NULL,
    policy_key TEXT NOT NULL, started_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    seq BIGINT PRIMARY KEY, hash TEXT NOT NULL, batch BIGINT NOT NULL,
    position BIGINT NOT NULL, claim_id TEXT, body TEXT NOT NULL,
    UNIQUE (batch, position));
CREATE INDEX IF NOT EXISTS records_by_claim ON records (claim_id, seq);
CREATE TABLE IF NOT EXISTS book_index (
    seq BIGINT PRIMARY KEY, person_id TEXT NOT NULL, year INTEGER NOT NULL, entry TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS book_by_person_year ON book_index (person_id, year, seq);
CREATE TABLE IF NOT EXISTS verified (seq BIGINT PRIMARY KEY, hash TEXT NOT NULL);
CREATE OR REPLACE FUNCTION yibao_append_only() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION 'the audit store is append-only'; END $$ LANGUAGE plpgsql;
CREATE OR REPLACE TRIGGER records_append_only BEFORE UPDATE OR DELETE ON records
    FOR EACH ROW EXECUTE FUNCTION yibao_append_only();
CREATE OR REPLACE TRIGGER sources_append_only BEFORE UPDATE OR DELETE ON sources
    FOR EACH ROW EXECUTE FUNCTION yibao_append_only()
"""
# The transparency log (audit/merkle.py): new tables, created in an older store too.
TREE_SCHEMA = """
CREATE TABLE IF NOT EXISTS tlog_nodes (
    level INTEGER NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL, PRIMARY KEY (level, idx));
CREATE TABLE IF NOT EXISTS tlog_checkpoints (
    id BIGSERIAL PRIMARY KEY, size BIGINT NOT NULL, checkpoint TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batch_marks (
    batch BIGINT NOT NULL, mark TEXT NOT NULL, value BIGINT, at TEXT NOT NULL,
    PRIMARY KEY (batch, mark));
CREATE OR REPLACE FUNCTION yibao_append_only() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION 'the audit store is append-only'; END $$ LANGUAGE plpgsql;
CREATE OR REPLACE TRIGGER tlog_nodes_append_only BEFORE UPDATE OR DELETE ON tlog_nodes
    FOR EACH ROW EXECUTE FUNCTION yibao_append_only()
"""
_RECORD_COLUMNS = "seq, hash, batch, position, claim_id, body"
_PAGE = 2_000      # records read per query when walking the chain (memory stays flat)
# The ledger table (docs/book.md), as on SQLite (audit/sqlite_store.py LEDGER_SCHEMA):
# where each person-year's latest ``ledger_after`` is; a pointer into the index.
LEDGER_SCHEMA = """
CREATE TABLE IF NOT EXISTS book_ledgers (
    person_id TEXT NOT NULL, year INTEGER NOT NULL, seq BIGINT NOT NULL,
    PRIMARY KEY (person_id, year));
"""
LEDGER_FILL = ("INSERT INTO book_ledgers SELECT person_id, year, max(seq) FROM book_index "
               "WHERE strpos(entry, %s) > 0 GROUP BY person_id, year "
               "ON CONFLICT (person_id, year) DO UPDATE SET seq = EXCLUDED.seq")
_SCHEMA_LOCK = 7_201_022   # an advisory lock: two processes creating the schema at once
# As on SQLite (audit/sqlite_store.py): a person-year read whole takes each entry's record
# body too (a lean entry leaves the claim, the chain and the ledger in it: store.IN_BODY);
# one read from its ledger on only the ledger's record's body, where the entry marks it.
_LEDGER_BODY = (f"CASE WHEN strpos(b.entry, '{IN_BODY_LEDGER}') > 0 THEN "
                "(SELECT r.body FROM records r WHERE r.seq = b.seq) END")


def is_postgres(location: str) -> bool:
    return location.startswith(("postgresql:", "postgres:"))


class PostgresStore(LedgerTableStore):
    def __init__(self, url: str, create: bool = False):
        try:
            import psycopg
        except ImportError:
            raise AuditError(f"{url}: psycopg is not installed",
                             "pip install 'psycopg[binary]' (yibao's [postgres] extra)") from None
        self.location = url
        self._psycopg = psycopg
        try:
            self._db = psycopg.connect(url, autocommit=True)
            self._tail: _Tail | None = None   # the open write transaction's, if any
            self._prepare(create)
        except psycopg.Error as error:
            raise AuditError(f"{UNREADABLE} {url}: cannot open the store ({str(error).strip()})",
                             "check the URL and that the server is running") from None

    def _prepare(self, create: bool) -> None:
        with self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            found = self._db.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone()[0]
            if not found and not create:
                raise AuditError(f"{NOT_A_STORE} {self.location}: no audit store there",
                                 "record one first: yibao settle POLICY CLAIMS --book URL")
            if not found:
                for statement in SCHEMA.strip().split(";\n"):
                    self._db.execute(statement)
                self._db.execute(LEDGER_SCHEMA)
                self._db.execute("INSERT INTO meta VALUES ('format', %s) ON CONFLICT DO NOTHING",
                                 (BOOK_FORMAT,))
            if create:
                self._create_tree_schema()
        version = self._db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        if version is None or version[0] not in STORE_FORMATS:
            raise AuditError(f"{OTHER_FORMAT} {self.location}: store format "
                             f"{version and version[0]}, "
                             f"this yibao reads {' and '.join(STORE_FORMATS)}")

        self._has_tree = self._db.execute(
            "SELECT to_regclass('tlog_nodes') IS NOT NULL").fetchone()[0]
        self._has_ledgers = self._db.execute(
            "SELECT to_regclass('book_ledgers') IS NOT NULL").fetchone()[0]

    def _create_tree_schema(self) -> None:
        if self._db.execute("SELECT to_regclass('tlog_nodes') IS NULL").fetchone()[0]:
            for statement in TREE_SCHEMA.strip().split(";\n"):
                self._db.execute(statement)
            self._db.execute("INSERT INTO meta VALUES ('log_id', %s) ON CONFLICT DO NOTHING",
                             (secrets.token_hex(16),))

    def adopt_log_id(self, log_id: str | None) -> None:
        """A migrated log keeps its origin: its checkpoints name it."""
        if log_id is not None:
            self._db.execute("UPDATE meta SET value = %s WHERE key = 'log_id'", (log_id,))

    def prepare_tree(self) -> None:
        with self._transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            self._create_tree_schema()
            self._has_tree = True
            self._db.execute("LOCK TABLE records IN EXCLUSIVE MODE")
            head = self._db.execute("SELECT coalesce(max(seq), 0) FROM records").fetchone()[0]
            self._grow_tree(head, [])

    @contextmanager
    def _transaction(self):
        with self._db.transaction():
            yield

    # ---- writing -------------------------------------------------------------------
    @contextmanager
    def appending(self) -> Iterator[Appending]:
        with self._transaction():
            self._db.execute("LOCK TABLE records IN EXCLUSIVE MODE")
            head = self._db.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1")
            self._tail = _Tail(self._db, head.fetchone(), self._has_ledgers)
            try:
                yield self._tail
                self._tail.flush()
                self._grow_tree(self._tail.seq, self._tail.leaves)
            finally:
                self._tail = None

    def _grow_tree(self, head: int, leaves: list[bytes]) -> None:
        rows = self.tree_rows(head, leaves)
        if rows:
            with self._db.cursor() as cursor:
                cursor.executemany("INSERT INTO tlog_nodes VALUES (%s, %s, %s)", rows)

    def _written(self) -> None:
        """Before a read inside a write transaction: the records it holds back, written."""
        if self._tail is not None:
            self._tail.flush()

    def open_batch(self, mode: str, engine_version: str, policy_key: str, started_at: str,
                   sources: Mapping[str, str]) -> Batch:
        with self._transaction():
            with self._db.cursor() as cursor:
                cursor.executemany("INSERT INTO sources VALUES (%s, %s) ON CONFLICT DO NOTHING",
                                   list(sources.items()))
            row = self._db.execute(
                "INSERT INTO batches (mode, engine_version, policy_key, started_at) "
                "VALUES (%s, %s, %s, %s) RETURNING batch",
                (mode, engine_version, policy_key, started_at)).fetchone()
            return Batch(row[0], mode, engine_version, policy_key, started_at)

    def rebuild_book_index(self, entries: Iterable[tuple[int, str, int, str]]) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM book_index")
            with self._db.cursor() as cursor:
                cursor.executemany("INSERT INTO book_index VALUES (%s, %s, %s, %s)",
                                   list(entries))
            if self._has_ledgers:    # derived from the index: rebuilt with it
                self._db.execute("DELETE FROM book_ledgers")
                self._db.execute(LEDGER_FILL, (LEDGER_MARK,))

    def verified_head(self) -> tuple[int, str] | None:
        return self._db.execute("SELECT seq, hash FROM verified ORDER BY seq DESC "
                                "LIMIT 1").fetchone()

    def mark_verified(self, seq: int, head: str) -> None:
        if seq:
            self._db.execute("INSERT INTO verified VALUES (%s, %s) ON CONFLICT DO NOTHING",
                             (seq, head))

    def copy_from(self, source: AuditStore) -> int:
        """Copy a whole store (e.g. SQLite) into this empty one, bodies and hashes as they are."""
        with self._transaction():
            self._db.execute("LOCK TABLE records IN EXCLUSIVE MODE")
            if self._db.execute("SELECT 1 FROM records LIMIT 1").fetchone():
                raise AuditError(f"{self.location} already holds records",
                                 "migrate into an empty database")
            with self._db.cursor() as cursor:
                cursor.executemany("INSERT INTO sources VALUES (%s, %s) ON CONFLICT DO NOTHING",
                                   list(source.sources()))
                cursor.executemany(
                    "INSERT INTO batches VALUES (%s, %s, %s, %s, %s)",
                    [(b.batch, b.mode, b.engine_version, b.policy_key, b.started_at)
                     for b in source.batches()])
                self._db.execute("SELECT setval(pg_get_serial_sequence('batches', 'batch'), "
                                 "(SELECT coalesce(max(batch), 0) + 1 FROM batches), false)")
                count = 0
                page: list[tuple] = []
                for record in source.records():
                    page.append((record.seq, record.hash, record.batch, record.position,
                                 record.claim_id, record.body))
                    if len(page) >= _PAGE:
                        cursor.executemany(f"INSERT INTO records ({_RECORD_COLUMNS}) VALUES "
                                           "(%s, %s, %s, %s, %s, %s)", page)
                        count += len(page)
                        page = []
                cursor.executemany(f"INSERT INTO records ({_RECORD_COLUMNS}) VALUES "
                                   "(%s, %s, %s, %s, %s, %s)", page)
                count += len(page)
                cursor.executemany("INSERT INTO book_index VALUES (%s, %s, %s, %s)",
                                   list(source.book_index()))
            if self._has_ledgers:
                self._db.execute(LEDGER_FILL, (LEDGER_MARK,))
            self._grow_tree(count, [])
            self.adopt_log_id(source.log_id())
        return count

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
        last = after
        while True:
            if batch is None:
                rows = self._db.execute(f"SELECT {_RECORD_COLUMNS} FROM records WHERE seq > %s "
                                        "ORDER BY seq LIMIT %s", (last, _PAGE)).fetchall()
            else:
                rows = self._db.execute(f"SELECT {_RECORD_COLUMNS} FROM records WHERE batch = %s "
                                        "AND seq > %s ORDER BY seq LIMIT %s",
                                        (batch, last, _PAGE)).fetchall()
            for row in rows:
                yield StoredRecord(*row)
            if len(rows) < _PAGE:
                return
            last = rows[-1][0]

    def walk_rows(self, after: int, limit: int) -> Iterator[list[tuple]] | None:
        if not self._has_tree:
            return None     # a store written before the tree: the three walks
        return self._walk_pages(after, limit)

    def _walk_pages(self, after: int, limit: int) -> Iterator[list[tuple]]:
        # Each record with its index row and its leaf, by key, a page at a time (memory
        # stays flat); the texts as their UTF-8 bytes, as verify hashes and parses them.
        last = after
        while last < limit:
            rows = self._db.execute(
                "SELECT r.seq, r.hash, r.batch, r.position, r.claim_id, "
                "convert_to(r.body, 'UTF8'), b.seq, b.person_id, b.year, "
                "convert_to(b.entry, 'UTF8'), t.hash FROM records r "
                "LEFT JOIN book_index b ON b.seq = r.seq "
                "LEFT JOIN tlog_nodes t ON t.level = 0 AND t.idx = r.seq - 1 "
                "WHERE r.seq > %s AND r.seq <= %s ORDER BY r.seq LIMIT %s",
                (last, limit, _PAGE)).fetchall()
            if not rows:
                return
            yield [(*row[:5], bytes(row[5]), *row[6:9],
                    None if row[9] is None else bytes(row[9]),
                    None if row[10] is None else bytes(row[10])) for row in rows]
            last = rows[-1][0]

    def walk_extras(self, after: int, upto: int) -> tuple[int, int, bool]:
        rows = self._db.execute("SELECT count(*) FROM book_index WHERE seq > %s AND seq <= %s",
                                (after, upto)).fetchone()[0]
        leaves = self._db.execute("SELECT count(*) FROM tlog_nodes WHERE level = 0 "
                                  "AND idx >= %s AND idx < %s", (after, upto)).fetchone()[0]
        return rows, leaves, True      # idx is a BIGINT: a whole number by its type

    def last_seq(self) -> int:
        return self._db.execute("SELECT coalesce(max(seq), 0) FROM records").fetchone()[0]

    def record_hash(self, seq: int) -> str | None:
        row = self._db.execute("SELECT hash FROM records WHERE seq = %s", (seq,)).fetchone()
        return row[0] if row else None

    def records_of_claim(self, claim_id: str) -> list[StoredRecord]:
        self._written()
        rows = self._db.execute(f"SELECT {_RECORD_COLUMNS} FROM records WHERE claim_id = %s "
                                "ORDER BY seq", (claim_id,)).fetchall()
        return [StoredRecord(*row) for row in rows]

    def person_claims(self, person_id: str) -> list[str]:
        self._written()
        rows = self._db.execute("SELECT r.claim_id FROM book_index b JOIN records r USING (seq) "
                                "WHERE b.person_id = %s ORDER BY b.seq", (person_id,)).fetchall()
        return list(dict.fromkeys(row[0] for row in rows))

    def book_records(self, person_id: str, year: int) -> list[BookEntry]:
        self._written()
        rows = self._db.execute("SELECT b.seq, r.hash, b.entry, r.body FROM book_index b "
                                "JOIN records r USING (seq) WHERE b.person_id = %s AND b.year = %s "
                                "ORDER BY b.seq", (person_id, year)).fetchall()
        return [BookEntry(*row) for row in rows]

    def book_records_of(self, keys: Iterable[tuple[str, int]]
                        ) -> dict[tuple[str, int], list[BookEntry]]:
        wanted = set(keys)
        found: dict[tuple[str, int], list[BookEntry]] = {key: [] for key in wanted}
        if not wanted:
            return found
        self._written()
        # One query, the people as one array parameter (a prepared statement, reused).
        rows = self._db.execute(
            "SELECT b.person_id, b.year, b.seq, r.hash, b.entry, r.body FROM book_index b "
            "JOIN records r USING (seq) WHERE b.person_id = ANY(%s) ORDER BY b.seq",
            (sorted({person for person, _ in wanted}),)).fetchall()
        return by_person_year(rows, found, BookEntry)

    def book_tails(self, keys: Iterable[tuple[str, int]]
                   ) -> dict[tuple[str, int], list[BookEntry]]:
        wanted = set(keys)
        found: dict[tuple[str, int], list[BookEntry]] = {}
        if not wanted or not self._ledgers_ready():
            return found
        self._written()
        rows = self._db.execute(
            f"SELECT b.person_id, b.year, b.seq, b.entry, {_LEDGER_BODY} FROM book_ledgers l "
            "JOIN book_index b ON b.person_id = l.person_id AND b.year = l.year "
            "AND b.seq >= l.seq WHERE l.person_id = ANY(%s) ORDER BY b.seq",
            (sorted({person for person, _ in wanted}),)).fetchall()
        return by_person_year(rows, found,
                              lambda seq, entry, body: BookEntry(seq, None, entry, body), wanted)

    def prepare_ledgers(self) -> None:
        if not self._has_ledgers:
            with self._transaction():
                self._db.execute("LOCK TABLE records IN EXCLUSIVE MODE")
                self._build_ledgers()

    def _build_ledgers(self) -> None:
        self._db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        for statement in LEDGER_SCHEMA.strip().split(";\n"):
            self._db.execute(statement)
        self._db.execute(LEDGER_FILL, (LEDGER_MARK,))
        self._has_ledgers = True

    def claim_heads(self, claim_ids: Iterable[str]) -> dict[str, ClaimHead]:
        self._written()
        found: dict[str, ClaimHead] = {}
        rows = self._db.execute(
            "SELECT r.claim_id, r.seq, r.hash, b.person_id, b.year FROM records r "
            "LEFT JOIN book_index b USING (seq) WHERE r.claim_id = ANY(%s) ORDER BY r.seq",
            (sorted(set(claim_ids)),)).fetchall()
        for claim_id, seq, digest, person, year in rows:
            booked = (person, year) if person is not None else None
            if booked is None and claim_id in found:
                booked = found[claim_id].person_year
            found[claim_id] = ClaimHead(seq, digest, booked)
        return found

    def book_index(self, after: int = 0) -> Iterator[tuple[int, str, int, str]]:
        last = after
        while True:
            rows = self._db.execute("SELECT seq, person_id, year, entry FROM book_index "
                                    "WHERE seq > %s ORDER BY seq LIMIT %s",
                                    (last, _PAGE)).fetchall()
            yield from rows
            if len(rows) < _PAGE:
                return
            last = rows[-1][0]

    # ---- the transparency log ---------------------------------------------------------------
    def tree_nodes(self, keys: set[merkle.Key]) -> dict[merkle.Key, bytes]:
        if not self._has_tree or not keys:
            return {}
        levels, indexes = zip(*sorted(keys))
        rows = self._db.execute("SELECT n.level, n.idx, n.hash FROM tlog_nodes n JOIN "
                                "unnest(%s::int[], %s::bigint[]) AS k(level, idx) "
                                "USING (level, idx)", (list(levels), list(indexes))).fetchall()
        return {(level, index): bytes(digest) for level, index, digest in rows}

    def tree_size(self) -> int:
        if not self._has_tree:
            return 0
        row = self._db.execute("SELECT max(idx) FROM tlog_nodes WHERE level = 0").fetchone()
        return 0 if row[0] is None else row[0] + 1

    def tree_leaves(self, after: int = 0) -> Iterator[tuple[int, bytes]]:
        last = after - 1
        while self._has_tree:
            rows = self._db.execute("SELECT idx, hash FROM tlog_nodes WHERE level = 0 AND "
                                    "idx > %s ORDER BY idx LIMIT %s", (last, _PAGE)).fetchall()
            for index, digest in rows:
                yield index, bytes(digest)
            if len(rows) < _PAGE:
                return
            last = rows[-1][0]

    def log_id(self) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'log_id'").fetchone()
        return row[0] if row else None

    def add_checkpoint(self, size: int, checkpoint: str) -> None:
        self._db.execute("INSERT INTO tlog_checkpoints (size, checkpoint) VALUES (%s, %s)",
                         (size, checkpoint))

    def mark_batch(self, batch: int, mark: str, value: int | None, at: str) -> None:
        if self._has_tree:
            self._db.execute("INSERT INTO batch_marks VALUES (%s, %s, %s, %s) "
                             "ON CONFLICT DO NOTHING", (batch, mark, value, at))

    def batch_marks(self) -> dict[int, dict[str, int | None]]:
        marks: dict[int, dict[str, int | None]] = {}
        if self._has_tree:
            for batch, mark, value in self._db.execute(
                    "SELECT batch, mark, value FROM batch_marks").fetchall():
                marks.setdefault(batch, {})[mark] = value
        return marks

    def checkpoints(self) -> list[str]:
        if not self._has_tree:
            return []
        return [row[0] for row in self._db.execute(
            "SELECT checkpoint FROM tlog_checkpoints ORDER BY id").fetchall()]

    def source(self, sha256: str) -> str | None:
        row = self._db.execute("SELECT text FROM sources WHERE sha256 = %s", (sha256,)).fetchone()
        return row[0] if row else None

    def sources(self) -> Iterator[tuple[str, str]]:
        yield from self._db.execute("SELECT sha256, text FROM sources ORDER BY sha256").fetchall()

    def close(self) -> None:
        self._db.close()


class _Tail(Appending):
    """Records are held until the transaction ends (or a read needs them): then written
    by COPY, one round trip per table rather than one per row."""

    def __init__(self, db, head, ledgers: bool = False):
        self._db = db
        self.ledgers = ledgers     # the store keeps book_ledgers: point it at new ledgers
        self._ledgers: dict[tuple[str, int], int] = {}
        self.seq, self.hash = head if head else (0, GENESIS)
        self.leaves: list[bytes] = []
        self._records: list[tuple] = []
        self._index: list[tuple] = []
        self._held: dict[str, StoredRecord] = {}   # claim id → its latest record held

    def add(self, record: StoredRecord, book: tuple[str, int, str | bytes] | None = None
            ) -> None:
        # Given as UTF-8 bytes, a body or entry is text once decoded (COPY writes text).
        body = record.body
        if type(body) is bytes:
            self.leaves.append(merkle.leaf_hash(body))
            body = body.decode("utf-8")
        else:
            self.leaves.append(merkle.record_leaf(body))
        self._records.append((record.seq, record.hash, record.batch, record.position,
                              record.claim_id, body))
        if book is not None:
            if type(book[2]) is bytes:
                book = (book[0], book[1], book[2].decode("utf-8"))
            self._index.append((record.seq, *book))
            if LEDGER_MARK in book[2]:
                self._ledgers[book[0], book[1]] = record.seq
        if record.claim_id is not None:
            self._held[record.claim_id] = record
        self.seq, self.hash = record.seq, record.hash

    def flush(self) -> None:
        with self._db.cursor() as cursor:
            if self._records:
                with cursor.copy(f"COPY records ({_RECORD_COLUMNS}) FROM STDIN") as copy:
                    for row in self._records:
                        copy.write_row(row)
                self._records = []
            if self._index:
                with cursor.copy("COPY book_index (seq, person_id, year, entry) "
                                 "FROM STDIN") as copy:
                    for row in self._index:
                        copy.write_row(row)
                self._index = []
            if self._ledgers:
                if self.ledgers:
                    cursor.executemany(
                        "INSERT INTO book_ledgers VALUES (%s, %s, %s) ON CONFLICT (person_id, "
                        "year) DO UPDATE SET seq = EXCLUDED.seq",
                        [(*key, seq) for key, seq in self._ledgers.items()])
                self._ledgers = {}
        self._held = {}

    def latest_of(self, claim_id: str) -> StoredRecord | None:
        if claim_id in self._held:
            return self._held[claim_id]
        row = self._db.execute(f"SELECT {_RECORD_COLUMNS} FROM records WHERE claim_id = %s "
                               "ORDER BY seq DESC LIMIT 1", (claim_id,)).fetchone()
        return StoredRecord(*row) if row else None
