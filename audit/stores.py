"""How a store is opened: which implementation a location names.

Apart from store.py, which both implementations import for the interface they
implement.  The PostgreSQL store is imported only for a database URL, so that
psycopg stays an optional dependency (the ``postgres`` extra).
"""

from __future__ import annotations

from yibao.audit.sqlite_store import SQLiteStore
from yibao.audit.store import AuditStore


def open_store(location: str, create: bool = False) -> AuditStore:
    """The store at ``location``: a file path (SQLite), or a database URL."""
    if location.startswith(("postgresql:", "postgres:")):
        from yibao.audit.postgres_store import PostgresStore

        return PostgresStore(location, create)
    return SQLiteStore(location, create)
