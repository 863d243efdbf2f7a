"""The DuckDB runner's own mechanics, apart from what it settles.

The window statement and the walk are built at the same time on two
connections of one in-memory database (backends/duckdb_runner.py); what they
settle is checked against the scalar path by the differential tests.  Its
memory limit scales with the machine (half the usable memory unless told).
"""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest

from helpers import EXAMPLES, POLICIES
from yibao.backends.duckdb_runner import (MEMORY_VARIABLE, DuckDBRunner, resolve_memory_limit,
                                          usable_memory)
from yibao.cli.main import main


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


# ---- the memory limit (issue 21: DuckDB's own default is 80% of physical memory) --------

GIB = 2 ** 30


@pytest.fixture
def no_memory_variable(monkeypatch):
    monkeypatch.delenv(MEMORY_VARIABLE, raising=False)


def _setting(con) -> str:
    return con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]


def test_the_memory_limit_is_set_on_the_connection(benxi_engine):
    con = DuckDBRunner(benxi_engine, memory_limit="512MiB").connect()
    assert _setting(con) == "512.0 MiB"


def test_duckdbs_progress_bar_never_writes_into_the_results():
    """DuckDB prints its progress bar on standard output for a statement over 2 s, in
    the middle of `yibao eval`'s JSON Lines there: the runner's connections, and the
    cursors the settlement statements run on (_tables_at_once), have it off.  Asked in
    a process of its own: under pytest's capture DuckDB leaves the bar off anyway."""
    script = ("from yibao.api import load_engine\n"
              "from yibao.backends.duckdb_runner import DuckDBRunner\n"
              f"con = DuckDBRunner(load_engine({str(POLICIES / 'benxi-2023.policy')!r})).connect()\n"
              "ask = \"SELECT current_setting('enable_progress_bar')\"\n"
              "print(con.execute(ask).fetchall(), con.cursor().execute(ask).fetchall())\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300, check=True)
    assert run.stdout.split("\n")[-2] == "[(False,)] [(False,)]"


def test_by_default_half_the_usable_memory(benxi_engine, no_memory_variable):
    assert resolve_memory_limit(available=8 * GIB) == "4096MiB"
    assert resolve_memory_limit(available=3 * GIB + 5) == "1536MiB"
    half = resolve_memory_limit()
    assert half == f"{usable_memory() // 2 // 2 ** 20}MiB"
    expected = duckdb.connect()
    expected.execute(f"SET memory_limit = '{half}'")
    assert _setting(DuckDBRunner(benxi_engine).connect()) == _setting(expected)
    assert 0 < usable_memory() <= os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def test_a_share_or_a_size_from_the_variable_or_the_argument(monkeypatch):
    monkeypatch.setenv(MEMORY_VARIABLE, "25%")
    assert resolve_memory_limit(available=8 * GIB) == "2048MiB"
    assert resolve_memory_limit("2GB", available=8 * GIB) == "2GB"   # the argument wins
    monkeypatch.setenv(MEMORY_VARIABLE, "1.5GiB")
    assert resolve_memory_limit() == "1.5GiB"


@pytest.mark.parametrize("text", ["lots", "50", "0%", "101%", "4 G", "1GB; SET threads=1", "-1GB"])
def test_other_forms_are_refused(text):
    with pytest.raises(ValueError, match="memory limit"):
        resolve_memory_limit(text, available=8 * GIB)


def test_the_command_passes_its_limit_to_duckdb(monkeypatch, capsys, no_memory_variable):
    seen = []
    connect = DuckDBRunner.connect

    def watched(self):
        con = connect(self)
        seen.append(_setting(con))
        return con

    monkeypatch.setattr(DuckDBRunner, "connect", watched)
    argv = ["eval", str(POLICIES / "benxi-2023.policy"), str(EXAMPLES / "benxi-2023.jsonl"),
            "--backend", "duckdb"]
    assert main([*argv, "--memory-limit", "300MiB"]) == 1   # bx-0013: C307
    assert len(capsys.readouterr().out.splitlines()) == 13 and seen == ["300.0 MiB"]
    monkeypatch.setenv(MEMORY_VARIABLE, "lots")
    assert main(argv) == 2
    assert "memory limit 'lots'" in capsys.readouterr().err
    assert main([*argv[:-2], "--memory-limit", "1GB"]) == 2
    assert "--memory-limit is DuckDB's" in capsys.readouterr().err
