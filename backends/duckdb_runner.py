"""``--backend duckdb``: a whole claims file settled inside an embedded DuckDB.

The stages of backends/plan.py become tables of an in-memory database, so DuckDB streams
and spills as it needs (``memory_limit``, ``temp_directory``); the per-person
walk only ever joins the claims that need it.

DuckDB's memory limit scales with the machine: by default half the memory this
process may use (physical memory, or the container's cgroup limit when lower),
not DuckDB's own 80%, since the results and refusals are held in Python beside
DuckDB's buffers.  ``yibao eval --memory-limit`` or ``YIBAO_DUCKDB_MEMORY_LIMIT``
sets it: a share ("30%") or a size ("4GB", "512MiB").  Past it DuckDB spills to
the temporary directory.
"""

from __future__ import annotations

import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from yibao.backends.duckdb_io import (fetch_records, load_source, raw_select, register_typed,
                                      release_source)
from yibao.backends.outcomes import (BatchResults, Refusals, arrow_typed_schema,
                                     validate_suspects)
from yibao.backends.plan_cache import rendered_plan

DIALECT = "duckdb"
STAGES = ("read", "admit", "validate", "route", "settle", "results")
MEMORY_VARIABLE = "YIBAO_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_SHARE = "50%"
_MEMORY = re.compile(r"(\d+(?:\.\d+)?)\s*(%|[KMGT]i?B)", re.IGNORECASE)
MEMORY_FORM = 'a share of memory ("50%") or a size ("4GB", "512MiB")'


def resolve_memory_limit(setting: str | None = None, available: int | None = None) -> str:
    """DuckDB's ``memory_limit`` for ``setting`` (else $YIBAO_DUCKDB_MEMORY_LIMIT, else
    half): a share of ``available`` bytes (default: :func:`usable_memory`) in MiB, or
    a size as given.  ValueError for anything else."""
    text = (setting or os.environ.get(MEMORY_VARIABLE) or DEFAULT_MEMORY_SHARE).strip()
    found = _MEMORY.fullmatch(text)
    if found is None:
        raise ValueError(f"memory limit {text!r}: give {MEMORY_FORM}")
    number, unit = found.groups()
    if unit != "%":
        return f"{number}{unit}"
    share = float(number)
    if not 0 < share <= 100:
        raise ValueError(f"memory limit {text!r}: a share is more than 0% and at most 100%")
    total = available if available is not None else usable_memory()
    return f"{max(1, int(total * share / 100) // 2 ** 20)}MiB"


def usable_memory() -> int:
    """Physical memory in bytes, or the cgroup's limit (a container's) when lower."""
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as limit:
            text = limit.read().strip()
    except OSError:
        return physical
    return min(physical, int(text)) if text.isdigit() else physical


class DuckDBRunner:
    def __init__(self, engine, threads: int | None = None, memory_limit: str | None = None):
        self.engine = engine
        self.threads = threads
        self.memory_limit = resolve_memory_limit(memory_limit)
        # The statements depend on the policy alone: rendered once per policy text and
        # yibao version, and kept on disk (backends/plan_cache.py; the walk's alone is
        # ~60 KB of SQL).
        self.plan = rendered_plan(engine.loaded, DIALECT)

    def connect(self):
        import duckdb

        con = duckdb.connect(config={"preserve_insertion_order": False})
        # DuckDB's own progress bar prints to standard output, where `yibao eval` writes
        # its JSON Lines, for any statement over 2 s (10^6 claims): `--progress` is ours.
        # A session setting, which the cursors of _tables_at_once inherit.
        con.execute("SET enable_progress_bar = false")
        if self.threads:
            con.execute(f"SET threads = {int(self.threads)}")
        con.execute(f"SET memory_limit = '{self.memory_limit}'")   # a checked form only
        con.execute(f"SET temp_directory = '{tempfile.gettempdir()}/yibao-duckdb'")
        return con

    def run(self, path: str, fmt: str,
            progress: Callable[[str], None] | None = None) -> BatchResults:
        step = progress or (lambda stage: None)
        con, count, refusals, walked = self.routed(path, fmt, step)
        plan, columns = self.plan, self.plan.columns
        settlements = {"window_settled": plan.sql("window")}
        if walked:
            settlements["walk_settled"] = plan.sql("walk")
        self._tables_at_once(con, settlements)
        self._view(con, "settled", " UNION ALL ".join(f"SELECT * FROM {name}"
                                                      for name in settlements))
        step("settle")
        results = con.sql(plan.sql("results")).to_arrow_table()
        step("results")
        return BatchResults(columns, results, refusals.errors, count, walked)

    def routed(self, path: str, fmt: str, step: Callable[[str], None], typed=None):
        """Read, admit, validate and route: (connection, records read, refusals, claims
        the walk settles).  The settleable claims are ``fast_claims`` (window path) and
        ``walk_claims``; backends/columnar/runner.py settles the first its own way.

        ``typed``: instead of reading ``path``, a flat Arrow table of claims with their
        ``idx`` and ``line_number`` (duckdb_io.register_typed), read as Parquet is."""
        con = self.connect()
        plan, columns = self.plan, self.plan.columns
        undecodable: dict[int, bytes] = {}
        if typed is None:
            types = load_source(con, path, fmt, undecodable, columns)
        else:
            fmt, types = "parquet", register_typed(con, typed)
        con.execute(f"CREATE OR REPLACE TEMP VIEW raw_claims AS {raw_select(columns, fmt, types)}")
        step("read")
        self._table(con, "claims", plan.sql("claims"))
        count = con.execute("SELECT count(*) FROM claims").fetchone()[0]
        step("admit")
        refusals = self._validate(con, fmt, undecodable)
        release_source(con)
        step("validate")
        walked = self._route(con, refusals)
        step("route")
        return con, count, refusals, walked

    def _validate(self, con, fmt: str, undecodable) -> Refusals:
        plan, columns = self.plan, self.plan.columns
        suspects = [r[0] for r in con.execute(
            "SELECT idx FROM claims WHERE suspect ORDER BY idx").fetchall()]
        accepted, errors = validate_suspects(
            self.engine, columns, fetch_records(con, fmt, suspects, undecodable))
        if suspects:
            con.execute("DELETE FROM claims WHERE suspect")
        if accepted:
            import pyarrow as pa

            con.register("accepted", pa.Table.from_pylist(accepted, arrow_typed_schema(columns)))
            con.execute("INSERT INTO claims " + plan.sql("accepted"))
        if con.execute(plan.sql("collisions")).fetchone()[0]:
            self._table(con, "claims", plan.sql("dense_keys"))
        refusals = Refusals(plan, errors)
        duplicated = con.execute(plan.sql("duplicate_ids")).fetchall()
        settleable = "settleable"
        if duplicated:
            self._table(con, "duplicated", plan.sql("duplicate_ids"))
            self._table(con, "copies", plan.sql("later_copies"))
            refusals.copies(con.execute("SELECT * FROM copies").fetchall())
            settleable = "settleable_without_copies"
        self._view(con, "settleable", plan.sql(settleable))
        refusals.unspecified(con.execute(plan.sql("unspecified_claims")).fetchall())
        return refusals

    def _route(self, con, refusals) -> int:
        plan = self.plan
        self._table(con, "slow_py", plan.sql("slow_person_years"))
        self._view(con, "fast_claims", plan.sql("fast_claims"))
        self._table(con, "walk_claims", plan.sql("walk_claims"))
        # fetchall: a result left open would keep the connection from registering an
        # Arrow table afterwards (backends/columnar/runner.py does)
        return con.execute("SELECT count(*) FROM walk_claims").fetchall()[0][0]

    @staticmethod
    def _view(con, name: str, query: str) -> None:
        """A stage read once or cheaply: DuckDB pipelines it into its reader."""
        con.execute(f"CREATE OR REPLACE VIEW {name} AS {query}")

    @staticmethod
    def _table(con, name: str, query: str) -> None:
        con.execute(f"CREATE OR REPLACE TABLE {name} AS {query}")

    @classmethod
    def _tables_at_once(cls, con, statements: dict[str, str]) -> None:
        """Independent tables, each built on its own connection at the same time.  The
        walk's recursion runs on one thread whatever DuckDB's setting: beside the
        window statement it uses the core the window's sorts leave idle between their
        phases, and each statement is planned while the other runs (settlement 0.87 →
        0.82 s at 10^6 claims, 0.10 → 0.07 s at 1,000).  The stages are plain tables
        of this in-memory database, not temporary ones, so that a second connection
        sees them."""
        def build(name: str, query: str) -> None:
            with con.cursor() as own:
                cls._table(own, name, query)

        with ThreadPoolExecutor(len(statements)) as pool:
            built = [pool.submit(build, name, query) for name, query in statements.items()]
            for table in built:
                table.result()   # re-raises a statement's error here
