"""How a store is opened: which implementation a location names.

Apart from store.py, which both implementations import for the interface they
implement.  The PostgreSQL store is imported only for a database URL, so that
psycopg stays an optional dependency (the ``postgres`` extra).
"""

from __future__ import annotations

from yibao.audit.sqlite_store import SQLiteStore
from yibao.audit.store import AuditStore


def is_database_url(location: str) -> bool:
    """Whether ``location`` names a PostgreSQL database (else an SQLite file's path)."""
    return location.startswith(("postgresql:", "postgres:"))


def open_store(location: str, create: bool = False) -> AuditStore:
    """The store at ``location``: a file path (SQLite), or a database URL."""
    if is_database_url(location):
        from yibao.audit.postgres_store import PostgresStore

        return PostgresStore(location, create)
    return SQLiteStore(location, create)
