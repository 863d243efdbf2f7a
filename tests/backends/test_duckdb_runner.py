"""The DuckDB runner's own mechanics, apart from what it settles.

The window statement and the walk are built at the same time on two
connections of one in-memory database (backends/duckdb_runner.py); what they
settle is checked against the scalar path by the differential tests.
"""

from __future__ import annotations

import duckdb
import pytest

from yibao.backends.duckdb_runner import DuckDBRunner


def test_tables_built_at_once_are_seen_by_the_connection_that_asked():
    con = duckdb.connect()
    con.execute("CREATE TABLE numbers AS SELECT range AS n FROM range(10)")
    DuckDBRunner._tables_at_once(con, {"evens": "SELECT n FROM numbers WHERE n % 2 = 0",
                                       "odds": "SELECT n FROM numbers WHERE n % 2 = 1"})
    assert con.execute("SELECT sum(n) FROM evens").fetchone() == (20,)
    assert con.execute("SELECT sum(n) FROM odds").fetchone() == (25,)


def test_an_error_in_one_table_reaches_the_caller_after_the_other_is_built():
    con = duckdb.connect()
    with pytest.raises(duckdb.CatalogException, match="no_such_table"):
        DuckDBRunner._tables_at_once(con, {"built": "SELECT 42 AS answer",
                                           "broken": "SELECT * FROM no_such_table"})
    assert con.execute("SELECT answer FROM built").fetchone() == (42,)
