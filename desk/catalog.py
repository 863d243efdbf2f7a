"""The search index: one row per claim id of the book, for the searches the store's own
indexes cannot answer (date range, identity, line, alert, adjustment, version).

Derived from the chain alone, never written into the book (the desk is
read-only): each record appended is folded into its claim's row
(desk/claim_rows.py), and the index is brought up to the head before each
search by reading only the records appended since (``store.records(after=…)``),
so settlements written by another process while the desk runs are found.

Kept in memory, or in a SQLite file of its own (``yibao serve --index FILE``)
so that a restart reads only what was appended since the last run: the first
build reads every record once (about 11 minutes for 10^6 claims).  The file
remembers the seq and hash of the last record it read and the hash of the
first; when the book no longer holds that record with that hash (another
book, or one restored or rewritten) the index is built again from the start.
Records are applied in transactions of ``CHUNK`` (``BEGIN IMMEDIATE``, the
head re-read inside), so two desks sharing the file never apply one twice,
and searches can go on between two transactions of a long build.

An SQLite database, because the searches are indexed look-ups and range scans
(person, date, identity, line, version) over up to 10^6 rows.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from itertools import islice

import attrs

from yibao.audit.book import SETTLEMENT
from yibao.desk.claim_rows import Query, Row, fold_row

__all__ = ["Catalog", "Query", "Results", "Row"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS catalog_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS claims (
    claim_id TEXT PRIMARY KEY, person_id TEXT NOT NULL, year INTEGER NOT NULL,
    date TEXT NOT NULL, identity TEXT NOT NULL, policy_id TEXT NOT NULL,
    live INTEGER NOT NULL, alerts TEXT NOT NULL, alerted INTEGER NOT NULL,
    adjustments INTEGER NOT NULL, seq INTEGER NOT NULL, net TEXT NOT NULL);
-- each in the results' order (date, seq) after its filter: a page of 50 is read off the
-- index and stops, where an index on the date alone sorted a whole day's or identity's rows
CREATE INDEX IF NOT EXISTS claims_by_person ON claims (person_id, year, date);
CREATE INDEX IF NOT EXISTS claims_by_date ON claims (date, seq);
CREATE INDEX IF NOT EXISTS claims_by_identity ON claims (identity, date, seq);
CREATE INDEX IF NOT EXISTS claims_by_policy ON claims (policy_id, date, seq);
CREATE INDEX IF NOT EXISTS claims_by_alert ON claims (alerted, date, seq);
CREATE INDEX IF NOT EXISTS claims_by_adjusted ON claims ((adjustments > 0), date, seq);
-- a claim's lines are replaced by claim id (each adjustment), searched by line
CREATE TABLE IF NOT EXISTS claim_lines (claim_id TEXT NOT NULL, line TEXT NOT NULL,
                                        PRIMARY KEY (claim_id, line)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS claim_lines_by_line ON claim_lines (line, claim_id);
CREATE TABLE IF NOT EXISTS batch_kinds (
    batch INTEGER NOT NULL, kind TEXT NOT NULL, records INTEGER NOT NULL,
    first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, PRIMARY KEY (batch, kind));
-- the form's lists, kept as records are read: a DISTINCT over 10^5 rows on every search
-- cost 60 ms (a line stays listed after its last payment is adjusted away)
CREATE TABLE IF NOT EXISTS choices (field TEXT NOT NULL, value TEXT NOT NULL,
                                    PRIMARY KEY (field, value)) WITHOUT ROWID;
"""
TABLES = ("claims", "claim_lines", "batch_kinds", "choices", "catalog_meta")
# The layout of the file: another one (an older yibao's) is built again, not read.
CATALOG_FORMAT = "yibao-desk-index/1"
PAGE_SIZE = 50
# Results are counted up to here: counting the 10^6 rows of a version or the 6×10^5 of
# "alert raised" cost 170–300 ms a search; past 10,000 a search is narrowed, not paged.
COUNT_CAP = 10_000
CHUNK = 2000
_COLUMNS = ("claim_id, person_id, year, date, identity, policy_id, live, alerts, alerted, "
            "adjustments, seq, net")


UNUSABLE_INDEX = "D107"   # --index names a file the desk cannot keep its index in


class IndexUnusable(Exception):
    """The file given for the index is not an SQLite database the desk can write."""

    def __init__(self, path: str, error: Exception):
        super().__init__(f"{UNUSABLE_INDEX} {path}: cannot keep the desk's search index "
                         f"there ({error})")
        self.hint = ("name a new file in a folder the desk can write (the index is built "
                     "there), or one an earlier yibao serve --index wrote")


@attrs.frozen
class Results:
    rows: tuple[Row, ...]
    total: int               # at most COUNT_CAP + 1: "more than COUNT_CAP"
    page: int
    pages: int

    @property
    def more(self) -> bool:
        """More results than were counted: the search should be narrowed."""
        return self.total > COUNT_CAP


class Catalog:
    def __init__(self, path: str = ":memory:"):
        self.path = path
        self._lock = threading.Lock()
        self.page_size = PAGE_SIZE
        self.building = False   # a build or long catch-up runs (desk/context.py's warm-up)
        try:
            self._db = sqlite3.connect(path, timeout=60, isolation_level=None,
                                       check_same_thread=False)
            tables = {row[0] for row in self._db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if tables and "catalog_meta" not in tables:
                # another database (the book itself, given by mistake): not even its
                # journal mode is changed
                raise sqlite3.DatabaseError("a database of something else: it has tables "
                                            "and none of them is the index's")
            # Derived data, rebuilt from the chain at will: write-ahead log without a sync
            # at each commit (a crash may lose the last chunks, never mix one up, as the
            # head read is written in the same transaction as the rows).
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._prepare()
        except sqlite3.Error as error:
            raise IndexUnusable(path, error) from None
        self.seq = self._head()[0]   # the last record read
        self._read_choices()

    def _prepare(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if self._meta("format") not in (None, CATALOG_FORMAT):
                for table in TABLES:
                    self._db.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in SCHEMA.strip().split(";\n"):
                self._db.execute(statement)
            self._db.execute("INSERT OR IGNORE INTO catalog_meta VALUES ('format', ?)",
                             (CATALOG_FORMAT,))
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    # ---- keeping up with the chain ---------------------------------------------------
    def _meta(self, key: str) -> str | None:
        try:
            row = self._db.execute("SELECT value FROM catalog_meta WHERE key = ?",
                                   (key,)).fetchone()
        except sqlite3.OperationalError:   # no such table: a new file
            return None
        return row[0] if row else None

    def _head(self) -> tuple[int, str, str]:
        """(seq, hash) of the last record read, and the hash of the book's first record."""
        return (int(self._meta("seq") or 0), self._meta("hash") or "",
                self._meta("first") or "")

    def update(self, store) -> None:
        """Read what the chain holds after the last record read, ``CHUNK`` at a time."""
        while self._update_chunk(store):
            pass

    def _update_chunk(self, store) -> bool:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                seq, last_hash, first = self._head()
                reset = bool(seq) and not (store.record_hash(seq) == last_hash
                                           and store.record_hash(1) == first)
                if reset:
                    # the book no longer holds what the index read: another book, or
                    # one rewritten; built again from its first record
                    for table in TABLES[:-1]:
                        self._db.execute(f"DELETE FROM {table}")
                    seq = 0
                read = 0
                chunk = _Chunk()
                walk = store.records(after=seq)
                try:
                    for record in islice(walk, CHUNK):
                        self._apply(record, chunk)
                        if record.seq == 1:
                            self._set("first", record.hash)
                        seq, last_hash, read = record.seq, record.hash, read + 1
                finally:
                    walk.close()
                self._db.executemany(
                    "INSERT INTO batch_kinds VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE "
                    "SET records = records + excluded.records, last_seq = excluded.last_seq",
                    [(*key, *counts) for key, counts in chunk.kinds.items()])
                self._db.executemany("INSERT OR IGNORE INTO choices VALUES (?, ?)",
                                     sorted(chunk.choices))
                if read or reset:
                    self._set("seq", str(seq))
                    self._set("hash", last_hash)
                    self._db.execute("COMMIT")
                else:   # up to date: nothing written (a commit is a sync of the file)
                    self._db.execute("ROLLBACK")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self.seq = seq
            self._read_choices()   # a few dozen rows; another desk may have added some
            return read == CHUNK

    def _set(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO catalog_meta VALUES (?, ?)", (key, value))

    def _apply(self, record, chunk: "_Chunk") -> None:
        data = json.loads(record.body)
        kind = data.get("kind")
        # yibao eval --record's records (format yibao-audit/1) have no kind
        chunk.count(record.batch, kind or "record", record.seq)
        if kind is None or "claim_id" not in data:
            return
        # a settlement is a claim id's first record (settle refuses a second, B101)
        before = None if kind == SETTLEMENT else self._row(data["claim_id"])
        after = fold_row(before, record.seq, data)
        if after is None or after == before:
            return
        self._db.execute(
            f"INSERT OR REPLACE INTO claims ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (after.claim_id, after.person_id, after.year, after.date, after.identity,
             after.policy_id, int(after.live), json.dumps(list(after.alerts), ensure_ascii=False),
             int(bool(after.alerts)), after.adjustments, after.seq,
             json.dumps(after.net, ensure_ascii=False)))
        if before is None or before.net != after.net:   # its lines replaced
            self._db.execute("DELETE FROM claim_lines WHERE claim_id = ?", (after.claim_id,))
            self._db.executemany("INSERT INTO claim_lines VALUES (?, ?)",
                                 [(after.claim_id, line) for line in after.lines])
        chunk.choices.update([("identity", after.identity), ("policy_id", after.policy_id),
                              *(("line", line) for line in after.lines)])

    def _row(self, claim_id: str) -> Row | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM claims WHERE claim_id = ?",
                               (claim_id,)).fetchone()
        return _row(row) if row else None

    # ---- searching ------------------------------------------------------------------
    def search(self, query: Query) -> Results:
        where, values = _conditions(query)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._lock:
            if query.line and attrs.evolve(query, line="", page=1) == Query():
                # a line alone is counted on its own index, not probed claim by claim
                counted, values_counted = " FROM claim_lines WHERE line = ?", [query.line]
            else:
                counted, values_counted = f" FROM claims{clause}", values
            total = self._db.execute(f"SELECT count(*) FROM (SELECT 1{counted} LIMIT ?)",
                                     [*values_counted, COUNT_CAP + 1]).fetchone()[0]
            size = self.page_size
            pages = max(1, -(-min(total, COUNT_CAP) // size))
            page = min(max(1, query.page), pages)
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM claims{clause} ORDER BY date, seq LIMIT ? OFFSET ?",
                [*values, min(size, COUNT_CAP - (page - 1) * size), (page - 1) * size]
            ).fetchall()
        return Results(tuple(_row(r) for r in rows), total, page, pages)

    def claim(self, claim_id: str) -> Row | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM claims WHERE claim_id = ?",
                                   (claim_id,)).fetchone()
        return _row(row) if row else None

    def choices(self) -> dict[str, list[str]]:
        """The identities, lines and versions the book holds, for the form's lists (read
        without the lock: a search by person does not wait for a chunk of the build)."""
        return self._choices

    def _read_choices(self) -> None:
        found: dict[str, list[str]] = {"identity": [], "line": [], "policy_id": []}
        for field, value in self._db.execute("SELECT field, value FROM choices "
                                             "ORDER BY field, value"):
            found[field].append(value)
        self._choices = found

    def batch_counts(self) -> dict[int, list[tuple[str, int, int, int]]]:
        """batch → [(kind, records, first seq, last seq)], for the chain page."""
        out: dict[int, list] = {}
        with self._lock:
            for batch, kind, records, first, last in self._db.execute(
                    "SELECT batch, kind, records, first_seq, last_seq FROM batch_kinds "
                    "ORDER BY batch, first_seq"):
                out.setdefault(batch, []).append((kind, records, first, last))
        return out


class _Chunk:
    """What a chunk's records add to the per-batch counts and the form's lists, written
    once at its end (one statement each, not one a record)."""

    def __init__(self):
        self.kinds: dict[tuple[int, str], list[int]] = {}   # → [records, first, last seq]
        self.choices: set[tuple[str, str]] = set()

    def count(self, batch: int, kind: str, seq: int) -> None:
        counts = self.kinds.setdefault((batch, kind), [0, seq, seq])
        counts[0] += 1
        counts[2] = seq


def _conditions(query: Query) -> tuple[list[str], list]:
    where, values = [], []
    if query.claim_id:
        where.append("claim_id = ?")
        values.append(query.claim_id)
    if query.person_id:
        where.append("person_id = ?")
        values.append(query.person_id)
    if query.date_from:
        where.append("date >= ?")
        values.append(query.date_from)
    if query.date_to:
        where.append("date <= ?")
        values.append(query.date_to)
    for column in ("identity", "policy_id"):
        if getattr(query, column):
            where.append(f"{column} = ?")
            values.append(getattr(query, column))
    if query.line:
        # probed per claim in the results' order (the lines' primary key), not a list of
        # every claim paid on the line built first (4 s for 4×10^5 claims)
        where.append("EXISTS (SELECT 1 FROM claim_lines WHERE claim_lines.claim_id = "
                     "claims.claim_id AND line = ?)")
        values.append(query.line)
    if query.alert in ("yes", "no"):
        where.append("alerted = ?")
        values.append(int(query.alert == "yes"))
    if query.adjusted in ("yes", "no"):
        where.append("(adjustments > 0) = ?")   # claims_by_adjusted's expression
        values.append(int(query.adjusted == "yes"))
    return where, values


def _row(row) -> Row:
    (claim_id, person_id, year, date, identity, policy_id, live, alerts, _, adjustments, seq,
     net) = row
    return Row(claim_id, person_id, year, date, identity, policy_id, bool(live),
               tuple(json.loads(alerts)), adjustments, seq, json.loads(net))
