"""The batch backends' front door: settle a claims file, or claim records, by name.

    >>> from yibao.backends.run import settle_records
    >>> settle_records(engine, claims, "duckdb")      # docs/claims.md outcomes, in order
"""

from __future__ import annotations

import pathlib
import tempfile
from typing import Callable, Iterable

from yibao.backends.outcomes import BatchResults

COLUMNAR = ("columnar", "duckdb", "spark")


def run_backend(engine, path: str, fmt: str, backend: str, spark=None,
                progress: Callable[[str], None] | None = None,
                memory_limit: str | None = None, read=None) -> BatchResults:
    """``memory_limit``: DuckDB's (backends/duckdb_runner.py), a share or a size.
    ``read``: for the columnar engine on Parquet, the file's read started already
    (backends/parquet_claims.py's ``ParquetRead`` of ``path``), taken instead of reading."""
    if backend == "columnar":
        from yibao.backends.columnar.runner import ColumnarRunner

        runner = ColumnarRunner(engine, memory_limit=memory_limit)
        if read is not None and fmt == "parquet":
            return runner.settle_parquet([read.table()], progress)
        if fmt in ("jsonl", "csv"):   # typed by Arrow, judged and settled without SQL
            if fmt == "jsonl":
                from yibao.backends.jsonl_claims import read_typed_claims
            else:
                from yibao.backends.csv_claims import read_typed_claims

            claims = read_typed_claims(engine, runner.columns, str(path))
            return runner.settle_typed(claims.table, claims.lines, claims.refusals, progress)
        return runner.run(str(path), fmt, progress)
    if backend == "duckdb":
        from yibao.backends.duckdb_runner import DuckDBRunner

        return DuckDBRunner(engine, memory_limit=memory_limit).run(str(path), fmt, progress)
    if backend == "spark":
        from yibao.backends.spark_runner import SparkRunner

        return SparkRunner(engine, spark).run(str(path), fmt, progress)
    raise ValueError(f"unknown backend {backend}; one of {', '.join(COLUMNAR)}")


def settle_records(engine, records: Iterable, backend: str, fmt: str = "jsonl",
                   spark=None) -> list[dict]:
    """Claim records (dicts, or JSON text) through a backend via a temporary file."""
    from yibao.backends.formats import write_records

    with tempfile.TemporaryDirectory(prefix="yibao-") as directory:
        path = pathlib.Path(directory) / f"claims.{fmt}"
        write_records(records, str(path), fmt, engine.versions)
        return list(run_backend(engine, str(path), fmt, backend, spark).exchange())
