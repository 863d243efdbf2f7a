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
          claim that may need a value its notice leaves open (C311); in a batch whose
          window path is one worker's block, so is a person-year that would be one
          with each claim's first declared candidate alone (backends/columnar/presumed.py)
settle    the window path's claims over NumPy int64 fen (backends/columnar/engine.py),
          while the other person-years (≈ 10% of the synthetic claims, ≈ 3% when
          presumed winners take most of them) are walked over NumPy on another thread
          (backends/columnar/walk.py), which then checks the presumed winners, or,
          where that cannot be exact, by DuckDB's walk statement; a policy whose C311
          needs are not found
          here sends them, as a table of their own rows, through the DuckDB pipeline:
          its C311 refusals, its routing and its walk are the exact path's own
results   the results table built from the settled arrays (the DuckDB results
          statement's columns and types) and the other person-years' results, in input
          order; a presumed person-year whose check failed is walked and put in place

Everything is kept as arrays aligned with the table's rows, so that a stage marks
rows rather than copying columns; only the window path's claims are gathered, once,
into the (route, person-year, date, position) order the engine reads.

A batch where int64 might not hold every figure (runner.fits_int64) is settled
through the DuckDB pipeline whole, which refuses an overflow rather than wrapping.
"""

from __future__ import annotations

import contextlib
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator

import numpy as np
import numpy.ma  # noqa: F401  pyarrow imports it at its first conversion of a NumPy array
import pyarrow as pa
import pyarrow.compute as pc

from yibao.backends.columnar.admit import admit, start_checks, take_rows
from yibao.backends.columnar.freed import give_back
from yibao.backends.columnar.prepare import Prepared, window_claims
from yibao.backends.columnar.presumed import patched, presumed_and_walked, walked_again
from yibao.backends.outcomes import BatchResults, Refusals
from yibao.backends.result_phase import output_columns
from yibao.backends.typed_dates import string_offsets
from yibao.dsl.model import SCHEMES, VISITS


# How long a thread may hold the interpreter while another waits for it (Python's
# default: 5 ms).  This engine's threads take turns: the walk's Python (walk.py) beside
# this thread's NumPy calls, each of which lets go of the interpreter and must then wait
# for it again — up to the whole interval, at each of some hundreds of calls.  0.5 ms
# measured at 10^6 claims (interleaved in-process runs, load ≈ 4.5): routing 0.39 →
# 0.25 s, settling 0.73 → 0.59 s.  The process's own setting is restored at the end.
SWITCH_INTERVAL = 0.0005


@contextlib.contextmanager
def _taking_turns() -> Iterator[None]:
    """The interpreter's switch interval at SWITCH_INTERVAL, for the run (no longer)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, SWITCH_INTERVAL))
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def settle_natively(runner, held: list, positions: np.ndarray, lines: np.ndarray,
                    refusals: dict, step: Callable[[str], None]) -> BatchResults | None:
    """The batch's outcomes, or None when int64 might not hold a figure of the window
    path (the caller then settles the batch through DuckDB, from ``held[0]``, the whole
    table).  Once the window path is sure to fit, ``held[0]`` becomes the claim ids alone
    (all the results read of the table): no copy of the table outlives routing."""
    with _taking_turns(), contextlib.ExitStack() as threads:
        return _settle(runner, held, positions, lines, refusals, step, threads)


def _settle(runner, held: list, positions: np.ndarray, lines: np.ndarray,
            refusals: dict, step: Callable[[str], None],
            threads: contextlib.ExitStack) -> BatchResults | None:
    columns = runner.columns
    table = held[0]
    step("read")
    with ThreadPoolExecutor(1) as side:
        # Admission's longest kernels run on the other core, Arrow's and NumPy's, which let
        # go of the interpreter, while this thread admits, validates and makes the
        # refusals' errors (Python objects): the identities' lists (admit's, first: the
        # masks need them), the claim ids' copies (hashing them, unless they ascend, as a
        # claims system numbers them), the person ids' codes (needed at routing)
        checks = start_checks(columns, table, side)
        claim_codes = side.submit(_claim_codes, table)
        person_codes = side.submit(_codes, table, "person_id")
        admitted = admit(runner.engine, columns, table, positions, lines, checks)
        del checks
        step("admit")
        claim_codes = claim_codes.result()
        errors = dict(refusals)
        errors.update(admitted.errors)
        settleable = admitted.admitted
        later = (np.zeros(0, dtype=np.int64) if claim_codes is None
                 else _later_copies(claim_codes, settleable))
        if len(later):
            ids = table.column("claim_id").take(pa.array(later)).to_pylist()
            Refusals(runner.plan, errors).copies(zip(positions[later].tolist(), ids,
                                                     lines[later].tolist()))
            settleable[later] = False
        step("validate")
        arrays = admitted.arrays
        prepared = Prepared(columns, runner.settlements, arrays, admitted.visit, list(VISITS),
                            (admitted.scheme, list(SCHEMES)), runner.plan.unspecified)
        # C311: the claims leave the settleable rows now; their errors (Python objects) are
        # made on the walk's thread once the walk ends, beside the window path's NumPy
        unspecified = (_unspecified(prepared.c311, settleable) if prepared.c311 is not None
                       else None)
        person_codes = person_codes.result()
    # every row settleable (the usual batch): the rows' arrays are the batch's, not copies
    rows = slice(None) if settleable.all() else np.flatnonzero(settleable)
    py, count = _person_years(person_codes[rows], arrays["year"][rows])
    window = window_claims(prepared, rows, py, count)
    walked = ~window
    if isinstance(rows, slice):
        fast, slow = np.flatnonzero(window), np.flatnonzero(walked)
    else:
        fast, slow = rows[window], rows[walked]
    fast_py, slow_py = py[window], py[walked]
    del walked
    walk_table = walked_by_numpy = presumption = None
    if len(slow) and prepared.c311 is not None:
        if runner.numpy_walk:   # gathers the walked claims' arrays now, before they go
            presumption, slow, slow_py, walked_by_numpy = presumed_and_walked(
                runner, prepared, arrays, admitted.visit, positions, slow, slow_py, count,
                runner.presume_up_to - len(fast))
        if walked_by_numpy is None and len(slow):   # where NumPy cannot be exact: DuckDB's walk
            walk_table = _walk_claims(runner, prepared, arrays, admitted.visit, positions,
                                      slow, slow_py)
    # the other person-years' rows are all the walk or the exact path may read of the table
    slow_table = take_rows(table, slow) if walked_by_numpy is None else None
    slow_rows = np.arange(len(slow))
    # The window path's order first, then the walk: sorting beside the walk's Python, the
    # sort's NumPy calls waited for the interpreter, and the whole took 2-3 times its own
    # time (≈ 35 ms at 10^6); the walk started later still ends before the window path
    # (at 10^6 under load, interleaved in-process runs, medians of 10-20: route's end
    # 1.00 → 0.91 s, the run 1.75 → 1.64 s)
    if presumption is not None:   # settled with the window path's, under the presumed winner
        fast = np.concatenate((fast, presumption.rows))
        fast_py = np.concatenate((fast_py, presumption.py))
        fast, fast_py = _window_order(prepared.presumed_signature(fast), fast, fast_py, count,
                                      arrays["days"])
    else:
        fast, fast_py = _window_order(prepared.signature[fast], fast, fast_py, count,
                                      arrays["days"])
    # With presumed winners (presumed.py) the walk's thread goes on to their check: begun
    # after the walk, finished once the window path's figures are in, beside the results
    # (made as if every presumed winner won): past this block, which then does not wait
    # for the thread (the run's ExitStack does)
    walker = ThreadPoolExecutor(1)
    check = None
    with (walker if presumption is None
          else contextlib.nullcontext(threads.enter_context(walker))) as pool:
        # the engine's columns are made beside the walk
        if walked_by_numpy is not None:
            walk = pool.submit(walked_by_numpy.settle)
        elif walk_table is not None:
            walk = pool.submit(_walk, runner, walk_table, slow_table, positions[slow],
                               lines[slow], slow_rows)
        else:
            walk = pool.submit(_exact_path, runner, slow_table, positions[slow], lines[slow],
                               slow_rows) if len(slow) else None
        if presumption is not None:   # after the walk, beside the window path
            pool.submit(presumption.begin_check)
        del slow_table
        del py, window, rows, person_codes, slow_py
        step("route")
        # The window path's claims are settled where they lie: each block of them gathers
        # the rows it reads and writes its outputs back at those rows, in input order, on
        # the workers (ColumnarRunner.settle_rows); the walk's rows are written after it.
        engine = {"idx": positions, "route_key": prepared.route_key}
        engine.update((name, values) for name, values in arrays.items()
                      if name not in ("year", "days"))
        # no threshold: never reached
        for i, threshold in enumerate(prepared.thresholds_at(none=np.iinfo(np.int64).max)):
            engine[f"thr_{i}"] = threshold
        del prepared, arrays
        in_window = np.zeros(len(positions), dtype=bool)
        in_window[fast] = True
        if not runner.fits(engine, in_window):
            return None
        table = held[0] = table.select(["claim_id"])
        pa.default_memory_pool().release_unused()
        # The C311 errors (Python objects, ≈ 25 ms at 10^6) are made on the walk's thread
        # once the walk ends, beside the window path's NumPy, which is the longer: made
        # after it, they were on the run's path
        refused = (pool.submit(_refuse_unspecified, runner, table, positions, lines,
                               *unspecified, errors) if unspecified is not None else None)
        version = engine["version"]
        # Where each claim's results go: when the NumPy walk settles every other claim,
        # the settled rows are known now and each is written at its place in the results;
        # otherwise (DuckDB's walk or the exact path may refuse a claim) at its row, and
        # the refused rows are left out at the end.
        settled_rows = in_window.copy()
        places = None
        if walked_by_numpy is not None or not len(slow):
            settled_rows[slow] = True
            places = np.cumsum(settled_rows, dtype=np.int64)
            places -= 1
        size = int(places[-1]) + 1 if places is not None and len(places) else len(positions)
        out = runner.outputs(size)
        cand = np.empty(size, dtype=np.int32)
        # the walk takes a core of its own: one worker fewer beside it (measured at 10^6
        # under load: 1.35 s against 1.67 s with both, the threads contending for the
        # interpreter lock and the cores)
        workers = max(1, runner.workers - 1) if walk is not None else None
        window_out = out if presumption is None else presumption.outputs(out, size)
        names = runner.settle_rows(engine, fast, fast_py, admitted.visit, list(VISITS),
                                   window_out, cand, places, workers,
                                   extras=presumption and presumption.extras())
        if presumption is not None:
            check = pool.submit(presumption.failed, window_out, places)
        del engine, fast_py, in_window
        other = walk.result() if walk is not None else None
        if refused is not None:
            refused.result()
    step("settle")
    trimming = give_back()   # the workers' freed memory, beside the results (freed.py)
    walked = 0
    if isinstance(other, BatchResults):
        errors.update(other.errors)
        walked, other = other.walked, other.results
    elif other is not None:
        walked = len(other)
    # the walk's results' rows: its claims are the rows ``slow``, in its step order
    other_rows = slow[walked_by_numpy.order] if walked_by_numpy is not None else None
    # the results as if every presumed winner won (the check runs beside), then the
    # person-years whose check failed, walked, put in their places
    results = _results(columns, table, positions, version, settled_rows, places, out, cand,
                       names, _columns(other), other_rows)
    presumed = 0
    if check is not None:
        rewalked = walked_again(presumption, check.result())
        presumed = len(presumption.rows)
        if rewalked is not None:
            again, again_rows = rewalked
            results = patched(results, places[again_rows], again)
            walked += len(again)
            presumed -= len(again)
    if trimming is not None:
        trimming.join()
    step("results")
    return BatchResults(columns, results, errors, len(table) + len(refusals), walked, "columnar",
                        "numpy" if walked_by_numpy is not None or presumption is not None
                        else "duckdb", presumed)


def _window_order(signature: np.ndarray, fast: np.ndarray, fast_py: np.ndarray, count: int,
                  days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The window path's rows ``fast`` and their person-years ``fast_py`` in the
    engine's order: by route, then person-year (``signature``, the rows' prepare.Prepared
    one, numbers the routes in order, in 32 bits, and is one a window person-year),
    then date and input position."""
    key = signature.astype(np.int64)
    key *= count
    key += fast_py
    order = _claim_order(key, days[fast])
    del key
    return fast[order], fast_py[order]


def _claim_codes(table: pa.Table) -> np.ndarray | None:
    """The claim ids' codes (_codes) for finding copies; None when the ids ascend, so
    that no id repeats (no hashing)."""
    return None if _ascending(table.column("claim_id")) else _codes(table, "claim_id")


def _codes(table: pa.Table, name: str) -> np.ndarray:
    """A column's values as integer codes (equal values, equal codes; NULL -1)."""
    column = table.column(name)
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return np.full(len(table), -1, dtype=np.int64)   # no row of it is admitted
    if len(column) == 0:
        return np.zeros(0, dtype=np.int64)
    keys = _fixed_keys(column)
    if keys is not None:   # Arrow hashes 8-byte integers in half the time of strings
        return np.asarray(pc.dictionary_encode(pa.array(keys)).indices).astype(np.int64)
    # Arrow encodes a chunked array with one hash table: every chunk then holds the one
    # dictionary, and the chunks need no concatenation first (a copy of the column)
    chunks = column.dictionary_encode().chunks
    if not all(chunk.dictionary.equals(chunks[0].dictionary) for chunk in chunks[1:]):
        chunks = [column.combine_chunks().dictionary_encode()]
    return np.concatenate([np.asarray(chunk.indices.fill_null(-1)).astype(np.int64)
                           for chunk in chunks])


def _fixed_keys(column) -> np.ndarray | None:
    """Ids all present and of one length of at most 8 bytes (a claims system's ids
    usually have one width) as uint64 keys, each its id's bytes: equal keys, equal ids,
    so their codes are the ids' own.  None for any other column."""
    width, parts = None, []
    for chunk in column.chunks:
        offsets = string_offsets(chunk)
        if offsets is None:
            return None
        if len(chunk) == 0:
            continue
        first, span = int(offsets[0]), int(offsets[-1] - offsets[0])
        if span % len(chunk) or (width is not None and span // len(chunk) != width):
            return None
        width = span // len(chunk)
        if not 1 <= width <= 8 or not bool(np.all(np.diff(offsets) == width)):
            return None
        data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)[first:first + span]
        if width < 8:
            wide = np.zeros((len(chunk), 8), dtype=np.uint8)
            wide[:, :width] = data.reshape(-1, width)
            data = wide.reshape(-1)
        parts.append(data.view("<u8"))
    return np.concatenate(parts) if parts else None


def _ascending(ids) -> bool:
    """Is every claim id present, text, and greater than the one before it (so that no
    id repeats)?  One comparison of neighbours, where finding copies hashes every id."""
    if ids.null_count or not (pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type)):
        return False
    if len(ids) < 2:
        return True
    return pc.all(pc.less(ids.slice(0, len(ids) - 1), ids.slice(1))).as_py() is True


def _later_copies(codes: np.ndarray, settleable: np.ndarray) -> np.ndarray:
    """Rows holding a later copy of a claim id among the settleable ones: the SQL's
    ``later_copies`` (the copy of least input position, which is the table's order, is
    settled)."""
    rows = np.flatnonzero(settleable)
    kept = codes[rows]
    copies = np.bincount(kept)[kept] > 1 if len(kept) else np.zeros(0, dtype=bool)
    if not copies.any():
        return np.zeros(0, dtype=np.int64)
    rows = rows[copies]
    rows = rows[np.argsort(codes[rows], kind="stable")]
    return np.sort(rows[np.concatenate(([False], codes[rows][1:] == codes[rows][:-1]))])


def _person_years(people: np.ndarray, years: np.ndarray) -> tuple[np.ndarray, int]:
    """Dense person-year codes, and how many codes there can be."""
    if len(people) == 0:
        return np.zeros(0, dtype=np.int64), 0
    first, span = int(years.min()), int(years.max() - years.min()) + 1
    return people * span + (years - first), (int(people.max()) + 1) * span


def _claim_order(key: np.ndarray, days: np.ndarray) -> np.ndarray:
    """The order by (route and person-year ``key``, date, input position): a claims
    file is usually in date order already, and then a stable sort by the key is it.
    Otherwise the date is packed below the key (the days since the file's first, a year
    in 9 bits) and the two sorted as one by :func:`stable_order`, which packs the input
    position below them: np.lexsort's merge sorts of the two took 14.6 ms at 10^5 and
    247 ms at 10^6 random claims, the packed sort 2.6 and 26 ms (one process, quiet)."""
    if len(days) < 2 or bool(np.all(days[1:] >= days[:-1])):
        return stable_order(key)
    day = days.astype(np.int64)
    day -= int(day.min())
    bits = max(int(day.max()), 1).bit_length()
    if key.min() < 0 or int(key.max()) >= 1 << (62 - bits):
        return np.lexsort((days, key))
    packed = key << bits
    packed |= day
    return stable_order(packed)


def stable_order(key: np.ndarray) -> np.ndarray:
    """np.argsort(key, kind="stable") for non-negative keys: each key and its position
    packed in one unsigned 64-bit number (the key above, the position below), sorted as
    values — NumPy sorts 64-bit numbers with the CPU's vector instructions, where its
    stable argsort of wider-than-16-bit keys is a merge sort, and two 16-bit radix
    passes cost two sorts and two gathers (≈ 45 against ≈ 22 ms at 10^6 when quiet) —
    and the positions read back; equal keys keep their order, as their positions do.
    Keys too wide to pack beside the positions are sorted by np.argsort."""
    count = len(key)
    bits = max(count - 1, 1).bit_length()
    if count == 0 or key.min() < 0 or int(key.max()) >= 1 << (64 - bits):
        return np.argsort(key, kind="stable")
    packed = key.astype(np.uint64)
    packed <<= np.uint64(bits)
    packed |= np.arange(count, dtype=np.uint64)
    packed.sort()
    packed &= np.uint64((1 << bits) - 1)
    return packed.view(np.int64)


def _unspecified(c311: np.ndarray, settleable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The settleable claims that need a value their notice leaves open (C311), as the
    SQL's ``unspecified_claims``, taken out of ``settleable`` (they never touch the
    year-to-date figures): their rows, and the index of the need each is refused for."""
    rows = np.flatnonzero(settleable & (c311 >= 0))
    settleable[rows] = False
    return rows, c311[rows]


def _refuse_unspecified(runner, table, positions, lines, rows: np.ndarray, needs: np.ndarray,
                        errors) -> None:
    """The C311 errors of the claims at ``rows`` (:func:`_unspecified`), by input position."""
    if not len(rows):
        return
    ids = table.column("claim_id").take(pa.array(rows)).to_pylist()
    Refusals(runner.plan, errors).unspecified(zip(positions[rows].tolist(), ids,
                                                  needs.tolist(), lines[rows].tolist()))


def _walk_claims(runner, prepared, arrays, visit, positions, rows, py) -> pa.Table:
    """The SQL's ``walk_claims`` for the claims at ``rows`` (whole person-years, their
    ``py``), built from the arrays: the prepared columns the walk may read, NULL where
    the SQL's are, and ``seq``, each claim's rank in its person-year by (date, input
    position)."""
    columns = runner.columns
    order = np.lexsort((positions[rows], arrays["days"][rows], py))
    rows, py = rows[order], py[order]
    starts = np.flatnonzero(np.concatenate(([True], py[1:] != py[:-1])))
    seq = np.arange(len(rows)) - np.repeat(starts, np.diff(np.append(starts, len(rows)))) + 1
    version = arrays["version"][rows]
    data = {}
    # every column the walk may read (the statement names those it does: plan._walked_columns)
    names = ["idx", "version", "visit", "total_fen", "in_scope_fen", "py"]
    names += [f"up_{i}" for i in range(len(columns.upstream))]
    names += [f"fld_{i}" for i in range(len(columns.fields))]
    names += [f"thr_{i}" for i in range(len(columns.alerts))]
    names += [f"has_{i}" for i in range(len(columns.identities))]
    names += [f"held_{v}_{k}" for v, k in prepared.held]
    held, thresholds = prepared.held_at(rows), prepared.thresholds_at(rows)
    for name in names:
        if name == "idx":
            data[name] = pa.array(positions[rows])
        elif name == "version":
            data[name] = pa.array(version.astype(np.int32))
        elif name == "py":
            data[name] = pa.array(py)
        elif name == "visit":
            data[name] = pa.DictionaryArray.from_arrays(
                pa.array(visit[rows].astype(np.int32)), pa.array(VISITS)).cast(pa.string())
        elif name.startswith("up_"):
            line = columns.upstream[int(name[3:])]
            lacking = [v for v, policy in enumerate(columns.versions)
                       if line not in {up.name for up in policy.upstream_lines}]
            data[name] = pa.array(arrays[name][rows], mask=np.isin(version, lacking))
        elif name.startswith("thr_"):
            threshold = thresholds[int(name[4:])]
            data[name] = pa.array(threshold, mask=threshold < 0)
        elif name.startswith("held_"):
            v, k = (int(part) for part in name[5:].split("_"))
            data[name] = pa.array(held[v, k])
        else:
            data[name] = pa.array(arrays[name][rows])
    data["seq"] = pa.array(seq)
    return pa.table(data)


def _walk(runner, walk_claims: pa.Table, table, positions, lines, rows):
    """DuckDB's walk statement over ``walk_claims``, on a connection of its own; if the
    statement reads a column not made here, the claims at ``rows`` take the exact path."""
    import duckdb

    con = runner.connect()
    try:
        # a table of DuckDB's own: the walk's recursion joins it at every step, and a
        # registered Arrow table would be scanned anew each time
        con.register("walk_arrow", walk_claims)
        con.execute("CREATE TABLE walk_claims AS SELECT * FROM walk_arrow")
        con.unregister("walk_arrow")
        return con.sql(runner.plan.sql("walk")).to_arrow_table()
    except duckdb.BinderException:
        return _exact_path(runner, table, positions, lines, rows)
    finally:
        con.close()


def _exact_path(runner, table: pa.Table, positions: np.ndarray, lines: np.ndarray,
                rows: np.ndarray) -> BatchResults:
    """The claims at ``rows`` (whole person-years) through the DuckDB pipeline: the SQL's
    C311 refusals, routing, window path and walk."""
    source = table.take(pa.array(rows)).add_column(0, "idx", pa.array(positions[rows])).add_column(
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


def _results(columns, table: pa.Table, positions: np.ndarray, version: np.ndarray,
             settled_rows: np.ndarray, places: np.ndarray | None, out: dict,
             cand: np.ndarray, names: list, other: dict | None,
             other_rows: np.ndarray | None = None) -> pa.Table:
    """The results table in input order from the outputs ``out`` and candidate codes
    ``cand`` (into ``names``) of the window path, and the other person-years' results
    by column (``other``), put in place.  With ``places`` (each row's place in the
    results; ``settled_rows`` the rows settled) ``out`` holds the results' rows already;
    without, ``out`` is row-aligned, the other person-years' rows are added to
    ``settled_rows`` and the rows settled by neither (refused) are left out at the end,
    one compress a column (none when every row is settled).  ``other_rows``: the rows of
    ``other``'s results when known (else found from their ``idx``)."""
    schema = results_schema(columns)
    if other is not None:
        slow = other_rows if other_rows is not None else np.searchsorted(
            positions, other["idx"].to_numpy())
        other.pop("idx")
        if places is None:
            settled_rows[slow] = True
        else:
            slow = places[slow]
        for name in out:
            out[name][slow] = other.pop(name).to_numpy()
        _candidates(cand, names, other.pop("cand"), slow)
    every = bool(settled_rows.all())

    def kept(values: np.ndarray, row_aligned: bool = places is None) -> np.ndarray:
        return values if every or not row_aligned else values[settled_rows]

    codes = kept(cand)
    data: dict[str, pa.Array] = {
        "idx": pa.array(kept(positions, True)),
        "claim_id": table.column("claim_id") if every
        else table.column("claim_id").filter(pa.array(settled_rows)),
        "version": pa.array(kept(version, True)),
        "cand": _names_at(codes, names)}
    for name in list(out):
        data[name] = pa.array(kept(out.pop(name)))
    return pa.table([data[name].cast(schema.field(name).type) for name in schema.names],
                    schema=schema)


def _names_at(codes: np.ndarray, names: list) -> pa.Array:
    """The candidates' names at their ``codes`` (into ``names``; -1 NULL) as a string
    column: Arrow's take of the names, where casting the codes as a dictionary array
    to strings cost ≈ 1.5 times as much (≈ 11 against ≈ 7.5 ms of CPU at 10^6), and a
    validity mask is made only when a code is -1."""
    mask = codes < 0 if len(codes) and codes.min() < 0 else None
    return pa.array(names, pa.string()).take(pa.array(codes, mask=mask))


def _columns(table: pa.Table | None) -> dict | None:
    """A table's columns by name, for _results to let each go once it is used."""
    return None if table is None else dict(zip(table.column_names, table.columns))


def _candidates(cand: np.ndarray, names: list, other, rows: np.ndarray) -> None:
    """The other person-years' chosen identities (strings, ``other``) written at their
    ``rows`` of ``cand`` as codes into ``names``, which gains the names it lacks; no
    identity (NULL) is -1, a NULL in the results."""
    if not len(rows):
        return
    encoded = other.combine_chunks().dictionary_encode()
    mapped = []
    for name in encoded.dictionary.to_pylist():
        if name not in names:
            names.append(name)
        mapped.append(names.index(name))
    mapped.append(-1)   # NULL: the code after the last
    cand[rows] = np.asarray(mapped, dtype=np.int32)[
        np.asarray(encoded.indices.fill_null(len(mapped) - 1))]
