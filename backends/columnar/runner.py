"""``--backend columnar``: DuckDB reads, admits, validates and routes; NumPy settles.

The DuckDB runner's statements up to routing run unchanged (backends/duckdb_runner.py
``routed``), so every refusal is the DuckDB path's, which is the scalar path's.
Then two things happen at once:

* the person-years the walk must settle (take highest, changes within the year:
  backends/prepare.py) are walked in DuckDB, on a connection of their own;
* the others — one candidate and one version all year, 90% of the synthetic
  claims — are fetched as Arrow columns sorted by (route, person-year, claim order),
  and settled over int64 fen by backends/columnar/engine.py, one block of claims
  per route (version × candidate), split into chunks at person-year boundaries
  that the threads share (NumPy releases the GIL in its kernels).

Both results are joined to the claim ids by the DuckDB path's results statement,
so a run's results are the DuckDB path's, column for column.

Before it settles anything, the engine proves that no figure can leave int64
(:func:`fits_int64`); a batch where one might (amounts near the 10^12-yuan bound,
many of them in one file) is settled by DuckDB's window statement instead, which
refuses an overflow rather than wrapping.
"""

from __future__ import annotations

import os

import attrs
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np

from yibao.backends.columnar.engine import ArraySettlement, ClaimArrays, largest_factor
from yibao.backends.columnar.freed import give_back, keep_freed, map_ahead
from yibao.backends.duckdb_runner import DuckDBRunner
from yibao.backends.outcomes import BatchResults
from yibao.backends.parquet_claims import parquet_rows, read_parquet
from yibao.backends.prepare import ROUTE_STRIDE, candidates
from yibao.backends.result_phase import settled_columns
from yibao.compiler.lower import lower_policy
from yibao.runtime.claims import ClaimError

CHUNK = 1 << 16           # claims a thread settles at a time, cut at a person-year's end
# ... when one thread settles them all: a block's NumPy calls cost the same at any size,
# and its running sums permute it within the cache, but its values are all held until
# it ends.  At 10^6 claims, window path's CPU (median of 9) 0.22-0.24 s a run with
# 256k, 0.24-0.26 with 64k, about the same with whole routes; the run's peak 539 MiB
# against 517 (64k) and 561 (whole routes).
ONE_WORKER_CHUNK = 1 << 18
# ... and up to this many window-path claims, a block's columns are gathered in the
# sorted order itself, with no layout (block_layout) in input order: a column of them
# is at most 1 MiB, which the caches hold, so the sorted order's jumps cost little,
# and neither the layout's sort nor each running sum's two permutations (ClaimArrays
# ``order``) is made.  At 10^5 synthetic Benxi claims (≈ 97,000 in the window path,
# in-process, 15 interleaved runs): the settle stage 46.7 → 37.0 ms.
SORTED_GATHER_UP_TO = 1 << 17
INT64_ROOM = 1 << 62      # a bound with a factor of 2 to spare below 2^63


def fits_int64(largest_amount: int, claims: int, factor: int) -> bool:
    """Can every figure of the engine be held in int64?  A cumulative base is at most
    the sum of ``claims`` amounts of at most ``largest_amount`` fen, and a formula
    multiplies it by at most ``factor`` (engine.largest_factor) before dividing."""
    return max(largest_amount, 1) * max(claims, 1) * factor < INT64_ROOM


class ColumnarRunner(DuckDBRunner):
    name = "columnar"

    def __init__(self, engine, threads: int | None = None, memory_limit: str | None = None):
        super().__init__(engine, threads, memory_limit)
        self.columns = self.plan.columns
        graphs = [lower_policy(policy) for policy in self.columns.versions]
        self.settlements = [ArraySettlement(graph, self.columns) for graph in graphs]
        self.factor = max(largest_factor(graph) for graph in graphs)
        self.workers = threads or min(2, os.cpu_count() or 1)
        self.fallback = False   # the last run settled by DuckDB's window statement
        # the typed path walks over NumPy (backends/columnar/walk.py); False keeps DuckDB's
        # walk statement, which the tests compare it with
        self.numpy_walk = True
        # walked person-years settled on the window path under a presumed winner, then
        # checked (backends/columnar/presumed.py), while the window path holds at most
        # one worker's block (presumed.presumed_and_walked); False walks them, as the
        # tests compare
        self.presume = True
        self.presume_up_to = ONE_WORKER_CHUNK

    def fits_int64(self, largest_amount: int, claims: int) -> bool:
        """:func:`fits_int64` with this policy's largest factor (the walk asks it too)."""
        return fits_int64(largest_amount, claims, self.factor)

    def run(self, path: str, fmt: str,
            progress: Callable[[str], None] | None = None) -> BatchResults:
        step = progress or (lambda stage: None)
        if fmt == "parquet":   # typed columns: admitted and routed without SQL
            map_ahead(parquet_rows(path))   # the run's heap mapped while the file is read
            return self.settle_parquet([read_parquet(path)], progress)
        return self._settle_routed(*self.routed(path, fmt, step), step)

    def settle_parquet(self, held: list, progress: Callable[[str], None] | None = None
                       ) -> BatchResults:
        """Settle a Parquet claims file's table as ``read_parquet`` reads it (a row a
        claim, its row number its line), the one item of ``held``: ``run``'s Parquet
        path, for a caller that has read the file already (cli/batch_io.py reads it on a
        thread while the policy loads).  The table must be held by ``held`` alone, so
        that the engine can let its columns go."""
        keep_freed()   # the run's arrays reuse the pages it frees (freed.py)
        return self._settle_held(held, np.arange(1, len(held[0]) + 1), {}, progress)

    def settle_typed(self, table, lines, refusals: dict[int, ClaimError],
                     progress: Callable[[str], None] | None = None) -> BatchResults:
        """Settle a typed Arrow claims table: the one entry point of the columnar engine
        for a reader that has typed its claims already.

        ``table``: one row a claim, in input order, in the flat layout of
        backends/formats.py as backends/synthetic.py writes Parquet (strings, ``date``
        date32, ``identities`` list<string>, money decimal128(18,2), bool, int64 counts;
        ``paid.<line>`` one column per upstream line).  A row is read, where it must be
        judged claim by claim, as a Parquet row is (formats.flat_to_record).
        ``lines``: each row's source line number (a sequence or array of ints, as long as
        ``table``).
        ``refusals``: input position → ClaimError for the records the reader refused
        already; they are not in ``table``.  The table's rows take the other positions,
        in order, so the batch holds ``len(table) + len(refusals)`` records.

        Returns the batch's outcomes, in input order, as ``run`` does."""
        keep_freed()
        return self._settle_held([table], lines, refusals, progress)

    def _settle_held(self, held: list, lines, refusals: dict[int, ClaimError],
                     progress: Callable[[str], None] | None = None) -> BatchResults:
        """settle_typed for the table ``held[0]``.  Once the engine is sure to settle the
        batch itself, it replaces ``held[0]`` with the claim ids alone (all the results
        still read): when no one else holds the table, its other columns are let go."""
        import pyarrow as pa

        from yibao.backends.columnar.typed import settle_natively

        step = progress or (lambda stage: None)
        positions = typed_positions(len(held[0]), refusals)
        lines = np.asarray(lines, dtype=np.int64)
        if len(lines) != len(held[0]):
            raise ValueError(f"{len(lines)} line numbers for {len(held[0])} claims")
        self.fallback = False
        settled = settle_natively(self, held, positions, lines, refusals, step)
        if settled is not None:
            # What the run freed after settling (the input's arrays, the results' makings)
            # is given back before the caller writes the results (freed.py): the heap
            # keeps it otherwise, and a results file's buffers came on top of it.
            del positions, lines
            give_back()   # not joined: it runs beside the caller's next work
            pa.default_memory_pool().release_unused()
            return settled
        # past the int64 bound: the DuckDB pipeline settles the whole batch
        table = held[0]
        source = table.add_column(0, "idx", pa.array(positions)).add_column(
            1, "line_number", pa.array(lines))
        batch = self.settle_source(source, step)
        batch.errors.update(refusals)
        return attrs.evolve(batch, count=batch.count + len(refusals))

    def settle_source(self, source, step: Callable[[str], None] | None = None) -> BatchResults:
        """A flat Arrow table of claims with ``idx`` and ``line_number`` through DuckDB's
        admission, C311 refusals and routing, then the engine and DuckDB's walk."""
        step = step or (lambda stage: None)
        source = _wide_decimals(source)
        return self._settle_routed(*self.routed("", "parquet", step, typed=source), step)

    def _settle_routed(self, con, count: int, refusals, walked: int,
                       step: Callable[[str], None]) -> BatchResults:
        plan, columns = self.plan, self.columns
        with ThreadPoolExecutor(1) as walker:
            walk = walker.submit(self._walk, con) if walked else None
            settled = self._settle_fast(con)
            if settled is None:
                self.fallback = True
                self._table(con, "fast_settled", plan.sql("window"))
            else:
                self.fallback = False
                con.register("fast_arrow", settled)
                self._view(con, "fast_settled", "SELECT * FROM fast_arrow")
            if walk is not None:
                walk.result()   # re-raises the walk's error here
        parts = ["fast_settled"] + (["walk_settled"] if walked else [])
        self._view(con, "settled", " UNION ALL ".join(f"SELECT * FROM {name}" for name in parts))
        step("settle")
        results = con.sql(plan.sql("results")).to_arrow_table()
        step("results")
        # "columnar (DuckDB's window statement)": past the int64 bound (fits_int64)
        by = "columnar (DuckDB's window statement)" if self.fallback else "columnar"
        return BatchResults(columns, results, refusals.errors, count, walked, by)

    def _walk(self, con) -> None:
        with con.cursor() as own:
            self._table(own, "walk_settled", self.plan.sql("walk"))

    # ---- the window path's claims over arrays ----------------------------------------------
    def _settle_fast(self, con):
        """The fast claims' settled rows as an Arrow table, or None when int64 might not
        hold every figure."""
        with con.cursor() as own:
            available = [row[0] for row in own.execute("DESCRIBE fast_claims").fetchall()]
            wanted = [name for name in available if _read_by_engine(name)]
            table = own.sql(f"SELECT {', '.join(wanted)} FROM fast_claims "
                            "ORDER BY route_key, py, ord").to_arrow_table()
            types = {row[0]: row[1] for row in own.execute("DESCRIBE claims").fetchall()}
        import pyarrow as pa

        arrays, visit_codes, visits = _numpy_columns(table, self.columns)
        settled = self.settle_sorted(arrays, visit_codes, visits)
        if settled is None:
            return None
        settled = settled.set_column(2, "cand", settled.column("cand").cast(pa.string()))
        return settled.set_column(0, "idx", settled.column("idx").cast(
            _arrow_type(types["idx"]))).set_column(1, "version", settled.column("version").cast(
                _arrow_type(types["version"])))

    def fits(self, arrays: dict[str, np.ndarray], where: np.ndarray | None = None) -> bool:
        """Can int64 hold every figure of settling these claims' columns (fits_int64)?
        ``where``: the rows of ``arrays`` to settle (all when None), asked without
        gathering them."""
        money = [arrays[name] for name in arrays
                 if arrays[name].dtype == np.int64 and name not in _KEYS
                 and not name.startswith("thr_")]
        if where is None:
            # the largest magnitude from the two ends, without np.abs's copy of each array
            largest = max((max(int(a.max()), -int(a.min())) for a in money if len(a)), default=0)
            return fits_int64(largest, len(arrays["idx"]), self.factor)
        claims = int(np.count_nonzero(where))
        # every row's largest first (a masked reduction costs some 40 times a plain one):
        # at least the settled rows' largest, so what fits with it fits
        largest = max((max(int(a.max()), -int(a.min())) for a in money if len(a)), default=0)
        if fits_int64(largest, claims, self.factor):
            return True
        largest = max((max(int(a.max(where=where, initial=0)), -int(a.min(where=where, initial=0)))
                       for a in money), default=0)
        return fits_int64(largest, claims, self.factor)

    def settle_sorted(self, arrays: dict[str, np.ndarray], visit_codes: np.ndarray,
                      visits: list[str]):
        """Claims sorted by (route, person-year, claim order), as columns (the engine's,
        NULLs filled: _numpy_columns) → their settled rows as an Arrow table in
        result_phase.settled_columns (``idx`` int64, ``version`` int32, ``cand``
        dictionary-encoded strings), or None when
        int64 might not hold every figure."""
        import pyarrow as pa

        count = len(arrays["idx"])
        if not self.fits(arrays):
            self.fallback = True
            return None
        out = self.outputs(count)
        candidate_index = np.zeros(count, dtype=np.int32)

        def claims_at(lo: int, hi: int) -> ClaimArrays:
            return ClaimArrays({name: a[lo:hi] for name, a in arrays.items()},
                               visit_codes[lo:hi], visits, arrays["py"][lo:hi])

        def write(lo: int, hi: int, settled: dict, code: int) -> None:
            for name, value in settled.items():
                out[name][lo:hi] = value
            candidate_index[lo:hi] = code

        names = self._settle_blocks(arrays["route_key"], arrays["py"], claims_at, write)
        cand = pa.DictionaryArray.from_arrays(pa.array(candidate_index),
                                              pa.array(names, pa.string()))
        columns = {"idx": pa.array(arrays["idx"]).cast(pa.int64()),
                   "version": pa.array(arrays["version"]).cast(pa.int32()),
                   "cand": cand}
        columns.update({name: pa.array(values) for name, values in out.items()})
        return pa.table([columns[name] for name in settled_columns(self.columns)],
                        names=settled_columns(self.columns))

    def settle_rows(self, arrays: dict[str, np.ndarray], rows: np.ndarray, py: np.ndarray,
                    visit_codes: np.ndarray, visits: list[str], out: dict[str, np.ndarray],
                    cand: np.ndarray, places: np.ndarray | None,
                    workers: int | None = None, names: list | None = None,
                    extras: list[dict[str, str]] | None = None) -> list:
        """The claims at ``rows`` of the row-aligned ``arrays`` (the engine's columns, NULLs
        filled), ``rows`` in (route, person-year, claim order) order and ``py`` their
        person-year codes in that order, settled with no gathered copy of the columns:
        each block gathers the rows it reads on its worker, in input order
        (:func:`block_layout`: forwards through memory, where the sorted order jumps about
        it, ≈ 3× slower a column) past SORTED_GATHER_UP_TO claims, in the sorted order
        up to it, and writes its outputs at the claims' places in
        ``out`` (output column → array) and its candidate's code at those of ``cand``;
        ``places``: each row's place (indexed by row; None: the row itself).  Gathers and
        writes are NumPy kernels, which release the interpreter lock, so they run beside
        the walk.  Returns the candidates' names (what the codes index: ``names``, extended,
        when given).  The caller has asked ``fits``; ``workers``: the threads to settle
        on (``self.workers`` when None); ``extras``: by version, nodes' values written as
        outputs too (ArraySettlement.settle's ``extra``; ``out`` holds their keys)."""
        routes = arrays["route_key"][rows]
        one = (workers or self.workers) <= 1
        blocks = _blocks(routes, py, ONE_WORKER_CHUNK if one else CHUNK)
        if len(rows) <= SORTED_GATHER_UP_TO:   # gathered in the sorted order: no layout
            layout, order = rows, None
        else:
            layout, order = block_layout(rows, blocks, len(arrays["route_key"]))

        def claims_at(lo: int, hi: int) -> ClaimArrays:
            at = layout[lo:hi]
            return ClaimArrays(_Gathered(arrays, at), visit_codes[at], visits, py[lo:hi],
                               None if order is None else order[lo:hi] - lo)

        def write(lo: int, hi: int, settled: dict, code: int) -> None:
            at = layout[lo:hi] if places is None else places[layout[lo:hi]]
            for name, value in settled.items():
                if isinstance(value, np.ndarray) or value:   # ``out`` starts at 0 and False
                    out[name][at] = value
            cand[at] = code

        return self._settle_blocks(routes, py, claims_at, write, workers, blocks, names,
                                   extras)

    def outputs(self, count: int) -> dict[str, np.ndarray]:
        """The settled output columns (result_phase.settled_columns but ``idx``,
        ``version`` and ``cand``) for ``count`` claims, to be written."""
        return {name: np.zeros(count, dtype=bool if name.startswith(("alert_", "referral_"))
                               else np.int64)
                for name in settled_columns(self.columns)
                if name not in ("idx", "version", "cand")}

    def _settle_blocks(self, routes: np.ndarray, py: np.ndarray,
                       claims_at: Callable[[int, int], ClaimArrays],
                       write: Callable[[int, int, dict, int], None],
                       workers: int | None = None,
                       edges: list[tuple[int, int]] | None = None,
                       names: list | None = None,
                       extras: list[dict[str, str]] | None = None) -> list:
        """Settle the sorted claims block by block (``edges``, _blocks when None) on the
        workers: a block's claims from ``claims_at(lo, hi)``, its outputs and candidate
        code to ``write``.  Returns the candidates' names, in the order of their codes
        (``names`` extended, when given: codes written by an earlier call stay valid)."""
        names = [] if names is None else names
        blocks = []
        for lo, hi in (_blocks(routes, py) if edges is None else edges):
            version, k = divmod(int(routes[lo]), ROUTE_STRIDE)
            candidate = candidates(self.columns.versions[version])[k]
            if candidate not in names:
                names.append(candidate)
            blocks.append((lo, hi, version, candidate, names.index(candidate)))

        def settle(lo: int, hi: int, version: int, candidate, code: int) -> None:
            write(lo, hi, self.settlements[version].settle(
                claims_at(lo, hi), candidate, extras[version] if extras else None), code)

        threads = min(workers or self.workers, len(blocks))
        if threads <= 1:   # one worker (beside the walk) is this thread: no hand-over
            for block in blocks:
                settle(*block)
            return names
        with ThreadPoolExecutor(threads) as pool:
            for done in [pool.submit(settle, *block) for block in blocks]:
                done.result()
        return names


class _Gathered(dict):
    """A block's claim columns, each gathered from the row-aligned ``arrays`` at ``rows``
    when an op first reads it (a block reads about half of them)."""

    def __init__(self, arrays: dict[str, np.ndarray], rows: np.ndarray):
        super().__init__()
        self._arrays, self._rows = arrays, rows

    def __missing__(self, name: str) -> np.ndarray:
        # np.take: a quarter faster than indexing with the rows, which are ascending
        values = self[name] = np.take(self._arrays[name], self._rows)
        return values

    def __contains__(self, name) -> bool:
        return name in self._arrays


def _wide_decimals(table):
    """read_parquet's decimal64 money columns as decimal128, the type every other reader
    gives DuckDB's pipeline (the same values)."""
    import pyarrow as pa

    for i, field in enumerate(table.schema):
        if pa.types.is_decimal64(field.type):
            wide = pa.decimal128(field.type.precision, field.type.scale)
            table = table.set_column(i, field.name, table.column(i).cast(wide))
    return table


_KEYS = ("idx", "py", "route_key", "version")   # not money: left out of the int64 bound


def typed_positions(rows: int, refusals: dict) -> np.ndarray:
    """The input positions of a typed table's ``rows``: those ``refusals`` leaves free, in
    order, among ``rows + len(refusals)``."""
    count = rows + len(refusals)
    refused = np.fromiter(refusals, dtype=np.int64, count=len(refusals))
    if len(refused) and (refused.min() < 0 or refused.max() >= count):
        raise ValueError(f"a refusal's position is outside the batch of {count} records")
    return np.delete(np.arange(count, dtype=np.int64), refused)


def _read_by_engine(name: str) -> bool:
    """The columns the engine reads; ``ord`` only sorts (in the fetch's ORDER BY)."""
    return (name in ("idx", "py", "route_key", "version", "visit", "in_scope_fen", "total_fen")
            or name.startswith(("up_", "fld_", "has_", "thr_")))


def _numpy_columns(table, columns):
    """Column → NumPy array with the SQL's NULL handling done once: a declared field's
    missing value is false or 0 (the lowering's COALESCE), a missing threshold is never
    reached; the visit as dictionary codes."""
    import pyarrow.compute as pc

    arrays: dict[str, np.ndarray] = {}
    visit_codes, visits = np.zeros(len(table), dtype=np.int32), []
    for name in table.column_names:
        column = table.column(name)
        if name == "visit":
            encoded = column.combine_chunks().dictionary_encode()
            visit_codes = encoded.indices.to_numpy(zero_copy_only=False)
            visits = encoded.dictionary.to_pylist()
            continue
        if name.startswith("thr_"):
            column = pc.fill_null(column, np.iinfo(np.int64).max)
        elif column.null_count:
            column = pc.fill_null(column, False if column.type == "bool" else 0)
        values = column.to_numpy()
        arrays[name] = values if values.dtype == bool else values.astype(np.int64, copy=False)
    return arrays, visit_codes, visits


def _blocks(routes: np.ndarray, py: np.ndarray, chunk: int = CHUNK) -> list[tuple[int, int]]:
    """[lo, hi) ranges of one route each, of about ``chunk`` claims, never splitting a
    person-year (the rows are sorted by route, then person-year): a block begins where
    the route changes, or at the first person-year to begin in the next ``chunk`` rows."""
    count = len(routes)
    if count == 0:
        return []
    new_route = np.concatenate(([True], routes[1:] != routes[:-1]))
    starts = np.flatnonzero(new_route | np.concatenate(([True], py[1:] != py[:-1])))
    window = starts // chunk
    cut = new_route[starts] | np.concatenate(([True], window[1:] != window[:-1]))
    edges = starts[cut].tolist() + [count]
    return list(zip(edges[:-1], edges[1:]))


def block_layout(rows: np.ndarray, blocks: list[tuple[int, int]], size: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Where the window path's blocks lie (``rows``, indices into arrays of ``size``
    rows, in (route, person-year, claim order) order; ``blocks``, their [lo, hi) ranges):
    ``layout``, the same rows with each block's in ascending order, a block taking the
    same [lo, hi) of it, and ``order``, each sorted claim's position in ``layout``.
    Gathering a block's columns at ``layout[lo:hi]`` reads forwards through memory;
    ``order[lo:hi] - lo`` puts the gathered values in (person-year, claim order) order
    for the running sums (ClaimArrays ``order``).

    Each claim's block, row and sorted position packed in one unsigned 64-bit number
    (in that order, from the top), sorted as values (as typed.stable_order does): the
    sorted numbers read ``layout`` (their rows) and ``order`` (one scatter of their
    positions), where a block id for every one of the ``size`` rows, a stable 16-bit
    sort by it and two permutations through ``size``-long arrays cost ≈ 27 against
    ≈ 23 ms of CPU at 10^6 claims.  Too many bits to pack: :func:`_block_layout_by_id`."""
    count = len(rows)
    row_bits = max(size - 1, 1).bit_length()
    at_bits = max(count - 1, 1).bit_length()
    if len(blocks) > 1 << max(64 - row_bits - at_bits, 0):
        return _block_layout_by_id(rows, blocks, size)
    key = np.repeat(np.arange(len(blocks), dtype=np.uint64), [hi - lo for lo, hi in blocks])
    key <<= np.uint64(row_bits)
    key |= rows.astype(np.uint64)
    key <<= np.uint64(at_bits)
    key |= np.arange(count, dtype=np.uint64)
    key.sort()
    order = np.empty(count, dtype=np.int64)
    order[(key & np.uint64((1 << at_bits) - 1)).view(np.int64)] = np.arange(count,
                                                                            dtype=np.int64)
    key >>= np.uint64(at_bits)   # the rows: below them, the block ids shifted in
    key &= np.uint64((1 << row_bits) - 1)
    return key.view(np.int64), order


def _block_layout_by_id(rows: np.ndarray, blocks: list[tuple[int, int]], size: int
                        ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`block_layout` for any number of blocks: a block id for each row, one stable
    sort by it (NumPy sorts 16-bit keys by radix) and two permutations of the rows."""
    lengths = [hi - lo for lo, hi in blocks]
    by_row = np.full(size, -1, dtype=np.int32)
    by_row[rows] = np.repeat(np.arange(len(blocks), dtype=np.int32), lengths)
    ascending = np.flatnonzero(by_row >= 0)
    key = by_row[ascending]
    key = key.astype(np.uint16) if len(blocks) <= 1 << 16 else key
    layout = ascending[np.argsort(key, kind="stable")]
    where = np.empty(size, dtype=np.int64)
    where[layout] = np.arange(len(layout), dtype=np.int64)
    return layout, where[rows]


def _arrow_type(sql_type: str):
    import pyarrow as pa

    return {"BIGINT": pa.int64(), "INTEGER": pa.int32(), "HUGEINT": pa.int64()}.get(
        sql_type, pa.int64())
