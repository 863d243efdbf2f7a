"""The search index: one row per claim id of the book, kept in memory.

Derived from the chain alone (never written to the store: the desk is
read-only), and brought up to the head before each search by reading only the
records appended since (``store.records(after=…)``).  A claim's row follows its
history: a ``correction`` replaces its text, a ``revision`` its version, a
``withdrawal`` makes it not live, and each ``adjustment`` moves its net on a line
(docs/book.md: the net is the settlement's ``payable`` plus every adjustment).

An in-memory SQLite database, because the searches are indexed look-ups and
range scans (person, date, identity, line, version) over up to 10^6 rows.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from decimal import Decimal

import attrs

from yibao.audit.book import (ADJUSTMENT, CORRECTION, REVISION, SETTLEMENT, WITHDRAWAL,
                              claim_object)
from yibao.core.money import format_money

SCHEMA = """
CREATE TABLE claims (
    claim_id TEXT PRIMARY KEY, person_id TEXT NOT NULL, year INTEGER NOT NULL,
    date TEXT NOT NULL, identity TEXT NOT NULL, policy_id TEXT NOT NULL,
    live INTEGER NOT NULL, alerts TEXT NOT NULL, alerted INTEGER NOT NULL,
    adjustments INTEGER NOT NULL, seq INTEGER NOT NULL, net TEXT NOT NULL);
CREATE INDEX claims_by_person ON claims (person_id, year, date);
CREATE INDEX claims_by_date ON claims (date);
CREATE INDEX claims_by_identity ON claims (identity, date);
CREATE INDEX claims_by_policy ON claims (policy_id, date);
-- a claim's lines are replaced by claim id (each adjustment), searched by line
CREATE TABLE claim_lines (claim_id TEXT NOT NULL, line TEXT NOT NULL,
                          PRIMARY KEY (claim_id, line)) WITHOUT ROWID;
CREATE INDEX claim_lines_by_line ON claim_lines (line, claim_id);
CREATE TABLE batch_kinds (batch INTEGER NOT NULL, kind TEXT NOT NULL, records INTEGER NOT NULL,
                          first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL,
                          PRIMARY KEY (batch, kind));
"""
PAGE_SIZE = 50
_COLUMNS = ("claim_id, person_id, year, date, identity, policy_id, live, alerts, alerted, "
            "adjustments, seq, net")


@attrs.frozen
class Query:
    """A search as the form gives it; empty fields do not filter."""

    claim_id: str = ""
    person_id: str = ""
    date_from: str = ""      # ISO dates, inclusive
    date_to: str = ""
    identity: str = ""
    line: str = ""           # claims paid something on this line
    alert: str = ""          # "yes": an alert was raised; "no": none
    adjusted: str = ""       # "yes": at least one adjustment; "no": none
    policy_id: str = ""
    page: int = 1


@attrs.frozen
class Row:
    claim_id: str
    person_id: str
    year: int
    date: str
    identity: str
    policy_id: str
    live: bool
    alerts: tuple[str, ...]
    adjustments: int
    seq: int
    net: dict[str, str]      # line → net paid, formatted

    @property
    def total(self) -> str:
        return format_money(sum((Decimal(v) for v in self.net.values()), Decimal(0)))


@attrs.frozen
class Results:
    rows: tuple[Row, ...]
    total: int
    page: int
    pages: int


class Catalog:
    def __init__(self):
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()
        self.seq = 0   # the last record read
        self.page_size = PAGE_SIZE
        # The form's lists, kept as records are read: a DISTINCT over 10^5 rows on every
        # search cost 60 ms (a line stays listed after its last payment is adjusted away).
        self._choices: dict[str, set[str]] = {"identity": set(), "line": set(),
                                              "policy_id": set()}

    # ---- keeping up with the chain ---------------------------------------------------
    def update(self, store) -> None:
        with self._lock:
            for record in store.records(after=self.seq):
                self._apply(record)
                self.seq = record.seq
            self._db.commit()

    def _apply(self, record) -> None:
        data = json.loads(record.body)
        kind = data.get("kind")
        # yibao eval --record's records (format yibao-audit/1) have no kind
        self._db.execute("INSERT INTO batch_kinds VALUES (?, ?, 1, ?, ?) ON CONFLICT DO UPDATE "
                         "SET records = records + 1, last_seq = excluded.last_seq",
                         (record.batch, kind or "record", record.seq, record.seq))
        if kind == SETTLEMENT or kind == CORRECTION:
            text = claim_object(data["claim"])[0]
            outcome = data.get("outcome") or {}
            alerts = outcome.get("alerts", []) if isinstance(outcome, dict) else []
            identity = (outcome.get("identity") if isinstance(outcome, dict) else None) \
                or ",".join(text.get("identities", []))
            # A correction moves no money itself: the net is what was paid so far, and
            # the adjustments after it move it (audit/book.py fold).
            known = None if kind == SETTLEMENT else self._net(data["claim_id"])
            net = data["payable"] if known is None else known
            adjustments = 0 if kind == SETTLEMENT else self._adjustments(data["claim_id"])
            self._db.execute(
                f"INSERT OR REPLACE INTO claims ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (data["claim_id"], data["person_id"], data["year"], text["date"], identity,
                 data["policy_id"], 1, json.dumps(alerts, ensure_ascii=False), int(bool(alerts)),
                 adjustments, record.seq, json.dumps(net, ensure_ascii=False)))
            self._lines(data["claim_id"], net)
            self._choices["identity"].add(identity)
            self._choices["policy_id"].add(data["policy_id"])
        elif kind == REVISION:
            outcome = data.get("outcome") or {}
            alerts = outcome.get("alerts", []) if isinstance(outcome, dict) else []
            self._db.execute("UPDATE claims SET policy_id = ?, seq = ?, alerts = ?, alerted = ? "
                             "WHERE claim_id = ?",
                             (data["policy_id"], record.seq, json.dumps(alerts, ensure_ascii=False),
                              int(bool(alerts)), data["claim_id"]))
            self._choices["policy_id"].add(data["policy_id"])
        elif kind == WITHDRAWAL:
            self._db.execute("UPDATE claims SET live = 0 WHERE claim_id = ?", (data["claim_id"],))
        elif kind == ADJUSTMENT:
            net = self._net(data["claim_id"]) or {}
            net[data["line"]] = data["net"]
            self._db.execute("UPDATE claims SET net = ?, adjustments = adjustments + 1 "
                             "WHERE claim_id = ?",
                             (json.dumps(net, ensure_ascii=False), data["claim_id"]))
            self._lines(data["claim_id"], net)

    def _net(self, claim_id: str) -> dict | None:
        row = self._db.execute("SELECT net FROM claims WHERE claim_id = ?", (claim_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def _adjustments(self, claim_id: str) -> int:
        row = self._db.execute("SELECT adjustments FROM claims WHERE claim_id = ?",
                               (claim_id,)).fetchone()
        return row[0] if row else 0

    def _lines(self, claim_id: str, net: dict) -> None:
        self._db.execute("DELETE FROM claim_lines WHERE claim_id = ?", (claim_id,))
        paid = [line for line, amount in net.items() if Decimal(amount) != 0]
        self._db.executemany("INSERT INTO claim_lines VALUES (?, ?)",
                             [(claim_id, line) for line in paid])
        self._choices["line"].update(paid)

    # ---- searching ------------------------------------------------------------------
    def search(self, query: Query) -> Results:
        where, values = _conditions(query)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._lock:
            total = self._db.execute(f"SELECT count(*) FROM claims{clause}", values).fetchone()[0]
            size = self.page_size
            pages = max(1, -(-total // size))
            page = min(max(1, query.page), pages)
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM claims{clause} ORDER BY date, seq LIMIT ? OFFSET ?",
                [*values, size, (page - 1) * size]).fetchall()
        return Results(tuple(_row(r) for r in rows), total, page, pages)

    def claim(self, claim_id: str) -> Row | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM claims WHERE claim_id = ?",
                                   (claim_id,)).fetchone()
        return _row(row) if row else None

    def choices(self) -> dict[str, list[str]]:
        """The identities, lines and versions the book holds, for the form's lists."""
        with self._lock:
            return {name: sorted(values) for name, values in self._choices.items()}

    def batch_counts(self) -> dict[int, list[tuple[str, int, int, int]]]:
        """batch → [(kind, records, first seq, last seq)], for the chain page."""
        out: dict[int, list] = {}
        with self._lock:
            for batch, kind, records, first, last in self._db.execute(
                    "SELECT batch, kind, records, first_seq, last_seq FROM batch_kinds "
                    "ORDER BY batch, first_seq"):
                out.setdefault(batch, []).append((kind, records, first, last))
        return out


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
        where.append("claim_id IN (SELECT claim_id FROM claim_lines WHERE line = ?)")
        values.append(query.line)
    if query.alert in ("yes", "no"):
        where.append("alerted = ?")
        values.append(int(query.alert == "yes"))
    if query.adjusted in ("yes", "no"):
        where.append("adjustments > 0" if query.adjusted == "yes" else "adjustments = 0")
    return where, values


def _row(row) -> Row:
    (claim_id, person_id, year, date, identity, policy_id, live, alerts, _, adjustments, seq,
     net) = row
    return Row(claim_id, person_id, year, date, identity, policy_id, bool(live),
               tuple(json.loads(alerts)), adjustments, seq, json.loads(net))
