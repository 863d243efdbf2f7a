"""One measurement in a fresh process: ``python -m benchmarks.measure KIND CLAIMS OUT``.

Prints one JSON line: seconds (settlement only, after the policy is loaded and
the path's libraries imported, as the peers' are when their modules load),
claims, peak RSS of the process (MiB), and writes each claim's 基本救助 and
倾斜救助 in fen to OUT (.npy, -1 for a refused claim) for the comparison.

KIND: scalar-trace, scalar (both ``Engine.stream_records`` on the date-sorted
JSON Lines: memory stays flat), scalar-2 (``yibao eval --stream --jobs 2``'s
settlement: two worker processes writing JSON Lines text, runtime/parallel.py),
scalar-2-sorted (``yibao eval --jobs 2``, no ``--stream``: the sorted batch,
each worker's claims settled in date order at the end), duckdb (the Parquet
file), columnar (the same file, ``--backend columnar``), openfisca, openfisca-enum
(OpenFisca as its documentation teaches), zen.  The peak memory of the whole process
tree (workers included) is measured from outside by benchmarks/bench_batch.py.
"""

from __future__ import annotations

import json
import resource
import struct
import sys
import tempfile
import time
from decimal import Decimal

import numpy as np

POLICY = "policies/benxi-2023.policy"
CPU_START = time.process_time()
LINES = ("基本救助", "倾斜救助")
EXTRA: dict = {}   # figures a path reports beside its time


def scalar(path: str, trace: bool):
    from yibao.api import load_engine
    from yibao.backends.formats import read_records
    from yibao.runtime.claims import ClaimError

    engine = load_engine(POLICY)
    # Payouts go to a file as they come, so the process holds one claim at a time.
    # The bookkeeping is kept cheap (it is timed with the settlement): a version's
    # payouts come in one order, so the two lines are found by position, in fen.
    spool = tempfile.TemporaryFile()
    pack, refused = struct.Struct("<qq").pack, struct.pack("<qq", -1, -1)
    positions: dict[str, tuple[int, int]] = {}
    count = 0
    start = time.perf_counter()
    for outcome in engine.stream_records(read_records(path, "jsonl"), trace):
        if isinstance(outcome, ClaimError):
            spool.write(refused)
        else:
            payouts = outcome.payouts
            where = positions.get(outcome.policy)
            if where is None:
                names = [name for name, _ in payouts]
                where = positions[outcome.policy] = tuple(names.index(line) for line in LINES)
            spool.write(pack(int(payouts[where[0]][1].scaleb(2)),
                             int(payouts[where[1]][1].scaleb(2))))
        count += 1
    seconds = time.perf_counter() - start
    peak = peak_mib()   # before the payouts are read back for the comparison
    spool.seek(0)
    return seconds, count, np.frombuffer(spool.read(), dtype="<i8").reshape(-1, 2), peak


def scalar_processes(path: str, jobs: int, stream: bool = True):
    from yibao.api import load_engine
    from yibao.core.jsonl import read_lines
    from yibao.runtime.parallel import settle_in_processes

    engine = load_engine(POLICY)
    spool = tempfile.TemporaryFile("w+", encoding="utf-8")
    count = 0
    start = time.perf_counter()
    for text, _ in settle_in_processes(engine, read_lines(path), jobs, stream=stream):
        spool.write(text)
        spool.write("\n")
        count += 1
    seconds = time.perf_counter() - start
    # This process's peak and the largest worker's (the workers have exited by now).
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    EXTRA["worker_peak_mib"] = workers
    peak = peak_mib() + jobs * workers   # an upper bound on what the run held at once
    spool.seek(0)
    payouts = np.full((count, 2), -1, dtype=np.int64)
    for row, line in enumerate(spool):
        result = json.loads(line)
        if "payouts" in result:
            payouts[row] = [int(Decimal(result["payouts"][name]).scaleb(2)) for name in LINES]
    return seconds, count, payouts, peak


def duckdb(path: str, columnar: bool = False):
    """``columnar``: the columnar engine (backends/columnar/runner.py) in DuckDB's place."""
    from yibao.api import load_engine
    from yibao.backends.columnar.runner import ColumnarRunner
    from yibao.backends.duckdb_runner import DuckDBRunner
    from yibao.backends.results_columns import write_parquet

    import duckdb  # noqa: F401  imported by the run itself; outside the timer, as
    import pyarrow  # noqa: F401  openfisca_core's and numpy's imports are for the peers
    import pyarrow.parquet  # noqa: F401  (and pyarrow.parquet and .compute: peers/claims.py)

    if columnar:   # the engine's own modules, as the peers' model modules are loaded
        import yibao.backends.parquet_decimals  # noqa: F401
        import yibao.backends.columnar.typed  # noqa: F401

    # As the yibao command runs (cli/lean.py): pyarrow's probe for pandas, at its first
    # conversion of NumPy arrays (the columnar engine's results), answered "not there".
    from yibao.cli.lean import keep_out_probed

    keep_out_probed(None)
    runner = (ColumnarRunner if columnar else DuckDBRunner)(load_engine(POLICY))
    phases: dict[str, float] = {}

    def step(stage: str) -> None:   # the seconds since the run began, at each stage's end
        phases[stage] = round(time.perf_counter() - start, 3)

    start = time.perf_counter()
    batch = runner.run(path, "parquet", step)
    seconds = time.perf_counter() - start
    EXTRA["phases"] = phases
    peak = peak_mib()
    # What `yibao eval --backend duckdb -o results.parquet` adds: the results file.
    with tempfile.TemporaryDirectory() as directory:
        start = time.perf_counter()
        write_parquet(batch, f"{directory}/results.parquet")
        EXTRA["write_seconds"] = time.perf_counter() - start
    table = batch.results
    columns = [table.column(batch.columns.settled("fin", line)).to_numpy() for line in LINES]
    payouts = np.full((batch.count, 2), -1, dtype=np.int64)
    index = table.column("idx").to_numpy()
    payouts[index, 0], payouts[index, 1] = columns
    return seconds, batch.count, payouts, peak


def peer(kind: str, path: str, refused_path: str):
    from benchmarks.peers import claims as peer_claims

    refused = np.load(refused_path)
    if kind == "openfisca":
        from benchmarks.peers import openfisca_benxi as model

        system = model.tax_benefit_system()
        run = lambda arrays: model.settle(system, arrays)   # noqa: E731
    elif kind == "openfisca-enum":
        from benchmarks.peers import openfisca_enum_benxi as model

        system = model.tax_benefit_system()
        run = lambda arrays: model.settle(system, arrays)   # noqa: E731
    else:
        from benchmarks.peers import zen_benxi as model

        run = model.settle
    # pyarrow imports pandas, when it is installed, at its first conversion (≈ 0.3 s):
    # made here, before the timer, as DuckDB's run makes none.
    import pyarrow as pa
    pa.array([0]).to_numpy()
    start = time.perf_counter()
    arrays = peer_claims.load(path, refused)
    basic, tilt = run(arrays)
    seconds = time.perf_counter() - start
    peak = peak_mib()
    payouts = np.full((len(refused), 2), -1, dtype=np.int64)
    for column, values in enumerate((basic, tilt)):
        payouts[arrays.index, column] = [int(Decimal(repr(float(v))).quantize(Decimal("0.01"))
                                             * 100) for v in values]
    return seconds, len(arrays.index), payouts, peak


def peak_mib() -> float:
    """The process's peak resident memory.  VmHWM, not ru_maxrss: the latter survives
    exec, so it would count the benchmark parent's memory at fork time."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(kind: str, path: str, out: str, refused: str | None = None) -> None:
    if kind.startswith("scalar"):
        from yibao.cli.main import tune_gc

        tune_gc()   # as the yibao command runs (forked workers inherit it)
    if kind in ("scalar", "scalar-trace"):
        seconds, count, payouts, peak = scalar(path, kind == "scalar-trace")
    elif kind == "scalar-2":
        seconds, count, payouts, peak = scalar_processes(path, 2)
    elif kind == "scalar-2-sorted":
        seconds, count, payouts, peak = scalar_processes(path, 2, stream=False)
    elif kind in ("duckdb", "columnar"):
        seconds, count, payouts, peak = duckdb(path, kind == "columnar")
    else:
        seconds, count, payouts, peak = peer(kind, path, refused)
    np.save(out, payouts)
    cpu = time.process_time() - CPU_START
    print(json.dumps({"kind": kind, "seconds": seconds, "claims": count, "peak_mib": peak,
                      "cpu_seconds": cpu, **EXTRA}))


if __name__ == "__main__":
    main(*sys.argv[1:])
