"""A typed Arrow claims table settled with no SQL on the common path.

The stages of ``ColumnarRunner.settle_typed``:

read      the table as given (Parquet read by pyarrow, or a reader's typed table)
admit     masks over the typed columns (backends/columnar/admit.py): the rows they
          clear are admitted, the others go to the project's validator, which refuses
          them exactly as the scalar path does, or accepts them
validate  later copies of a claim id refused (C312), as the SQL's ``later_copies``
route     backends/prepare.py's columns over arrays (backends/columnar/prepare.py);
          a person-year is on the window path when it has one candidate, one version,
          one route and one threshold all year (prepare.window_person_years) and no
          claim that may need a value its notice leaves open (C311)
settle    the window path's claims over NumPy int64 fen (backends/columnar/engine.py),
          while the other person-years (≈ 10% of the synthetic claims) go, as a table of
          their own rows, through the DuckDB pipeline on the second core: its C311
          refusals, its routing and its walk are the exact path's own
results   the results table built from the settled arrays (the DuckDB results
          statement's columns and types) and the other person-years' results, in input
          order

A batch where int64 might not hold every figure (runner.fits_int64) is settled
through the DuckDB pipeline whole, which refuses an overflow rather than wrapping.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from yibao.backends.columnar.admit import admit
from yibao.backends.columnar.prepare import Prepared, window_rows
from yibao.backends.outcomes import BatchResults, Refusals
from yibao.backends.result_phase import output_columns


def settle_natively(runner, table: pa.Table, positions: np.ndarray, lines: np.ndarray,
                    refusals: dict, step: Callable[[str], None]) -> BatchResults | None:
    """The batch's outcomes, or None when int64 might not hold a figure of the window
    path (the caller then settles the batch through DuckDB)."""
    columns = runner.columns
    step("read")
    admitted = admit(runner.engine, columns, table, positions, lines)
    step("admit")
    claims = admitted.claims
    errors = dict(refusals)
    errors.update(admitted.errors)
    claims = _without_later_copies(claims, Refusals(runner.plan, errors))
    step("validate")
    arrays, visit_codes, visits = _arrays(claims, columns)
    schemes = claims.column("scheme").combine_chunks().dictionary_encode()
    prepared = Prepared(columns, runner.settlements, arrays, visit_codes,
                        visits, (schemes.indices.to_numpy(zero_copy_only=False),
                                 schemes.dictionary.to_pylist()))
    people = claims.column("person_id").combine_chunks().dictionary_encode().indices.to_numpy(
        zero_copy_only=False).astype(np.int64)
    py = people * 10_000 + arrays.pop("year")
    days = arrays.pop("days")
    order = np.lexsort((days << 32 | arrays["idx"], py))
    window = window_rows(prepared, py, order)
    fast = order[window[order]]
    fast = fast[np.argsort(prepared.route_key[fast], kind="stable")]
    step("route")
    arrays.update({"py": py, "route_key": prepared.route_key})
    for i, threshold in enumerate(prepared.thresholds):
        arrays[f"thr_{i}"] = np.where(threshold < 0, np.iinfo(np.int64).max, threshold)
    slow_idx = np.sort(arrays["idx"][~window])
    with ThreadPoolExecutor(1) as walker:
        walk = walker.submit(_exact_path, runner, table, positions, lines, slow_idx) if len(
            slow_idx) else None
        settled = runner.settle_sorted({name: values[fast] for name, values in arrays.items()},
                                       visit_codes[fast], visits)
        other = walk.result() if walk is not None else None
    if settled is None:
        return None
    step("settle")
    results = _results(columns, settled, claims.column("claim_id").take(pa.array(fast)), other)
    walked = 0
    if other is not None:
        errors.update(other.errors)
        walked = other.walked
    step("results")
    return BatchResults(columns, results, errors, len(table) + len(refusals), walked, "columnar")


def _without_later_copies(claims: pa.Table, refusals: Refusals) -> pa.Table:
    """The claims but for later copies of a claim id, which are refused (C312): the SQL's
    ``later_copies`` (the copy of least input position is settled)."""
    ids = claims.column("claim_id").combine_chunks()
    codes = ids.dictionary_encode().indices.to_numpy(zero_copy_only=False)
    copies = np.bincount(codes)[codes] > 1 if len(codes) else np.zeros(0, dtype=bool)
    if not copies.any():
        return claims
    rows = np.flatnonzero(copies)
    idx = claims.column("idx").to_numpy()[rows]
    rows = rows[np.lexsort((idx, codes[rows]))]
    later = rows[np.concatenate(([False], codes[rows][1:] == codes[rows][:-1]))]
    refusals.copies(zip(claims.column("idx").take(pa.array(later)).to_pylist(),
                        ids.take(pa.array(later)).to_pylist(),
                        claims.column("line_number").take(pa.array(later)).to_pylist()))
    keep = np.ones(len(claims), dtype=bool)
    keep[later] = False
    return claims.filter(pa.array(keep))


def _arrays(claims: pa.Table, columns):
    """The engine's columns (runner._numpy_columns' NULL handling) and what routing reads:
    ``year`` and ``days`` (the date), the visit dictionary-encoded."""
    arrays: dict[str, np.ndarray] = {}
    for name in claims.column_names:
        if name in ("claim_id", "person_id", "scheme", "visit", "line_number"):
            continue
        column = claims.column(name).combine_chunks()
        if name == "date":
            arrays["days"] = column.cast(pa.int32()).to_numpy(zero_copy_only=False).astype(
                np.int64)
            continue
        if column.null_count:
            column = pc.fill_null(column, False if column.type == pa.bool_() else 0)
        values = column.to_numpy(zero_copy_only=False)
        arrays[name] = values if values.dtype == bool else values.astype(np.int64, copy=False)
    arrays["version"] = arrays["version"].astype(np.int64)
    visit = claims.column("visit").combine_chunks().dictionary_encode()
    return (arrays, visit.indices.to_numpy(zero_copy_only=False),
            visit.dictionary.to_pylist())


def _exact_path(runner, table: pa.Table, positions: np.ndarray, lines: np.ndarray,
                idx: np.ndarray) -> BatchResults:
    """The claims at input positions ``idx`` (whole person-years) through the DuckDB
    pipeline: the SQL's C311 refusals, routing, window statement or engine, and walk."""
    rows = np.searchsorted(positions, idx)
    source = table.take(pa.array(rows)).add_column(0, "idx", pa.array(idx)).add_column(
        1, "line_number", pa.array(lines[rows]))
    return runner.settle_source(source)


def results_schema(columns) -> pa.Schema:
    """The DuckDB results statement's Arrow types (plan.results)."""
    def kind(name: str):
        if name == "idx":
            return pa.int64()
        if name == "version":
            return pa.int32()
        if name in ("claim_id", "cand"):
            return pa.string()
        return pa.bool_() if name.startswith(("alert_", "referral_")) else pa.int64()

    return pa.schema([(name, kind(name)) for name in output_columns(columns)])


def _results(columns, settled: pa.Table, claim_ids, other: BatchResults | None) -> pa.Table:
    schema = results_schema(columns)
    fast = settled.add_column(1, "claim_id", claim_ids).select(schema.names).cast(schema)
    if other is None or len(other.results) == 0:
        parts = fast
    else:
        parts = pa.concat_tables([fast, other.results.select(schema.names).cast(schema)])
    order = np.argsort(parts.column("idx").to_numpy(), kind="stable")
    return parts.take(pa.array(order)).combine_chunks()
