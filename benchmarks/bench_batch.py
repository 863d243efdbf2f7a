"""Claims per second and peak memory: yibao's three paths and two peers (issue 9).

    .venv/bin/python -m benchmarks.bench_batch                 # 10^5 and 10^6 claims
    .venv/bin/python -m benchmarks.bench_batch --sizes 100000 --repeats 5
    .venv/bin/python -m benchmarks.bench_batch --sizes 100000 --kinds duckdb openfisca

For each size, Benxi 2023 synthetic claims (seed 2023, backends/synthetic.py)
are written once as date-sorted JSON Lines and as Parquet.  Each measurement
runs ``--repeats`` times (default 3), each in a fresh process
(benchmarks/measure.py) so that its peak memory is its own, in rounds of one
run of every path, and the median time is reported with the range and the
ratios between paths.  The paths:
yibao's scalar evaluator with and without trace (streamed), yibao's DuckDB
backend, and the same Benxi 基本救助/倾斜救助 rule in OpenFisca and in GoRules
ZEN.  Every path's payouts are compared with DuckDB's to the fen;
yibao's own paths must agree exactly, the peers' mismatches are reported.
Prints a Markdown table and the machine it ran on.  Needs ``pip install
-e '.[bench,batch]'``.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
KINDS = ("duckdb", "scalar", "scalar-2", "scalar-trace", "openfisca", "zen")
LABELS = {"duckdb": "yibao DuckDB (Parquet in, results in Arrow)",
          "scalar": "yibao scalar, no trace (streamed)",
          "scalar-2": "yibao scalar, no trace, 2 processes (streamed, JSON Lines out)",
          "scalar-trace": "yibao scalar, with trace (streamed)",
          "openfisca": "OpenFisca (openfisca-core, numpy)",
          "zen": "GoRules ZEN (zen-engine, JDM graph)"}


def claims_files(size: int, work: pathlib.Path) -> dict[str, pathlib.Path]:
    from yibao.api import load_engine
    from yibao.backends.formats import write_records
    from yibao.backends.synthetic import synthetic_claims

    paths = {fmt: work / f"benxi-{size}.{fmt}" for fmt in ("jsonl", "parquet")}
    if all(p.exists() for p in paths.values()):
        return paths
    engine = load_engine(ROOT / "policies" / "benxi-2023.policy")
    start = time.perf_counter()
    claims = list(synthetic_claims(engine.loaded, size, seed=2023))
    for fmt, path in paths.items():
        write_records(claims, str(path), fmt, engine.versions)
    print(f"# generated {size:,} claims in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return paths


def measure(kind: str, paths, work: pathlib.Path, size: int) -> dict:
    out = work / f"payouts-{kind}-{size}.npy"
    path = paths["jsonl" if kind.startswith("scalar") else "parquet"]
    command = [sys.executable, "-m", "benchmarks.measure", kind, str(path), str(out)]
    if kind in ("openfisca", "zen"):
        command.append(str(work / f"refused-{size}.npy"))
    print(f"# {kind} on {size:,} claims …", file=sys.stderr, flush=True)
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["payouts"] = np.load(out)
    return figures


def median_run(runs: list[dict]) -> dict:
    """The run with the median time, with every run's range of seconds."""
    runs = sorted(runs, key=lambda f: f["seconds"])
    figures = dict(runs[len(runs) // 2])
    figures["range"] = (runs[0]["seconds"], runs[-1]["seconds"])
    return figures


def measure_in_rounds(kinds: list[str], repeats: int, paths, work: pathlib.Path,
                      size: int) -> dict[str, dict]:
    """Each kind's median run.  The repeats go in rounds, every kind once a round, so a
    machine whose speed drifts (a shared one does, by half within minutes) slows every
    path alike instead of whichever ran during the slow spell.  DuckDB goes first: its
    refusals tell the peers which claims to leave out."""
    order = ["duckdb"] + [kind for kind in kinds if kind != "duckdb"]
    runs: dict[str, list[dict]] = {kind: [] for kind in order}
    for _ in range(max(1, repeats)):
        for kind in order:
            figures = measure(kind, paths, work, size)
            runs[kind].append(figures)
            if kind == "duckdb" and len(runs[kind]) == 1:
                np.save(work / f"refused-{size}.npy", figures["payouts"][:, 0] < 0)
    return {kind: median_run(kind_runs) for kind, kind_runs in runs.items()}


def ratios(rows) -> None:
    """Median time ratios at each size: how much faster the first path is."""
    seconds = {(kind, size): figures["seconds"] for kind, size, figures, _, _ in rows}
    pairs = [("duckdb", "openfisca"), ("duckdb", "scalar"), ("scalar-2", "scalar"),
             ("scalar", "scalar-trace"), ("scalar", "zen")]
    for size in sorted({size for _, size in seconds}):
        shown = [f"{LABELS[a].split(' (')[0]} / {LABELS[b].split(' (')[0]} "
                 f"{seconds[(b, size)] / seconds[(a, size)]:.2f}×"
                 for a, b in pairs if (a, size) in seconds and (b, size) in seconds]
        if shown:
            print(f"\nSpeed ratios at {size:,} claims (median times): " + "; ".join(shown))


def mismatches(reference: np.ndarray, payouts: np.ndarray) -> tuple[int, int]:
    settled = reference[:, 0] >= 0
    differs = (reference != payouts)[settled]
    return int(differs[:, 0].sum()), int(differs[:, 1].sum())


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = int(open("/proc/meminfo").readline().split()[1]) / 1024 / 1024
    except OSError:
        memory = 0
    import duckdb

    return (f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, DuckDB {duckdb.__version__}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--work", default="/tmp/yibao-bench")
    parser.add_argument("--repeats", type=int, default=3,
                        help="fresh processes per measurement; the median is reported")
    args = parser.parse_args(argv)
    work = pathlib.Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in args.sizes:
        paths = claims_files(size, work)
        medians = measure_in_rounds(args.kinds, args.repeats, paths, work, size)
        reference = medians["duckdb"]
        for kind in args.kinds:
            figures = medians[kind]
            basic, tilt = mismatches(reference["payouts"], figures["payouts"])
            rows.append((kind, size, figures, basic, tilt))
    print(f"Machine: {machine()}\n")
    print(f"Median of {args.repeats} fresh process(es) per row, run in rounds of every path; "
          "the range of the runs in brackets.\n")
    print("| path | claims | seconds | claims/s | peak memory (MiB) | "
          "≠ yibao 基本救助 | ≠ yibao 倾斜救助 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind, size, figures, basic, tilt in rows:
        rate = figures["claims"] / figures["seconds"]
        low, high = figures["range"]
        spread = f" [{low:.2f}–{high:.2f}]" if high > low else ""
        print(f"| {LABELS[kind]} | {size:,} | {figures['seconds']:.2f}{spread} | {rate:,.0f} | "
              f"{figures['peak_mib']:.0f} | {basic:,} | {tilt:,} |")
    ratios(rows)
    for kind, size, figures, _, _ in rows:
        if "write_seconds" in figures:
            total = figures["seconds"] + figures["write_seconds"]
            print(f"\nyibao DuckDB at {size:,} claims, results written to a Parquet file as "
                  f"`yibao eval -o results.parquet` does: + {figures['write_seconds']:.2f} s, "
                  f"{total:.2f} s in all ({figures['claims'] / total:,.0f} claims/s)")
    print(f"\nLoad average when done: {os.getloadavg()[0]:.2f} (other work on the machine "
          "slows the wall-clock figures; process CPU seconds, whole run: "
          + ", ".join(f"{k} {s:,} {f['cpu_seconds']:.1f}" for k, s, f, _, _ in rows) + ")")
    print("\n(claims yibao refuses — C311, the per-bed-day amount §(五) leaves open — are "
          "left out of the comparison; the peers settle the rest)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
