"""Fixtures for the audit trail: a store, the docs/specification.md §6 claims, tampering by hand.

The three claims are docs/specification.md §6's worked example (Benxi 2023 §(五),
低保边缘家庭成员): in-scope burdens after 基本医保 and 大病保险 of 15,000,
10,000 and 20,000.  By hand: 基本救助 (deductible 2,000, 60%, cap 20,000)
pays 7,800, 6,000 and 6,200; 倾斜救助 (deductible 3,000, 60%, no cap) on what
基本救助 left (7,200; 4,000; 13,800 — year to date 7,200, 11,200, 25,000)
pays (7,200 − 3,000) × 60% = 2,520, then 4,920 − 2,520 = 2,400, then
13,200 − 4,920 = 8,280.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from helpers import claim
from yibao.audit.record import Recorder, record_batch
from yibao.audit.sqlite_store import SQLiteStore
from yibao.audit.store import SORTED

FIXED_TIME = "2024-01-02T03:04:05.000000+00:00"
UPSTREAM = {"基本医保": "10000.00", "大病保险": "0.00"}


def _domain_claims() -> list[dict]:
    return [
        claim("a", "p", "2023-01-10", ["低保边缘家庭成员"], "25000.00", UPSTREAM),
        claim("b", "p", "2023-02-10", ["低保边缘家庭成员"], "20000.00", UPSTREAM),
        claim("c", "p", "2023-03-10", ["低保边缘家庭成员"], "30000.00", UPSTREAM),
    ]


def _as_lines(claims) -> list[tuple[int, str]]:
    """Claims as an input file's numbered lines, exactly as they would be received."""
    return [(number, json.dumps(record, ensure_ascii=False)) for number, record in
            enumerate(claims, 1)]


def _record(store, engine, lines, mode=SORTED, resume=False, every=500):
    """Record a batch in-process; (recorder, outcomes in input order)."""
    recorder = Recorder(store, engine, mode, resume, clock=lambda: FIXED_TIME)
    outcomes = []
    for chunk in record_batch(recorder, engine, lines, every):
        outcomes.extend(chunk.outcomes)
    return recorder, outcomes


def _tamper(path, *statements, parameters=()):
    """Edit a store behind yibao's back: drop the append-only triggers, then change it."""
    db = sqlite3.connect(path)
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f"DROP TRIGGER {name}")
    for statement in statements:
        db.execute(statement, parameters)
    db.commit()
    db.close()


@pytest.fixture
def store_path(tmp_path):
    return str(tmp_path / "audit.db")


@pytest.fixture
def store(store_path):
    opened = SQLiteStore(store_path, create=True)
    yield opened
    opened.close()


@pytest.fixture
def domain_store(store, benxi_engine):
    """The store holding docs/specification.md §6's three claims, recorded one per transaction."""
    _record(store, benxi_engine, _as_lines(_domain_claims()), every=1)
    return store


# The helpers, as fixtures: test modules cannot import this conftest by name.
@pytest.fixture
def domain_claims():
    return _domain_claims()


@pytest.fixture
def as_lines():
    return _as_lines


@pytest.fixture
def record():
    return _record


@pytest.fixture
def tamper():
    return _tamper


@pytest.fixture(scope="session")
def postgres_server():
    from pg_server import Server

    server = Server()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server, request):
    """A fresh, empty database on the session's PostgreSQL server."""
    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name)[:50].lower()
    return postgres_server.new_database(name)
