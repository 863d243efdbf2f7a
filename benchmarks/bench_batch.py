"""Claims per second and peak memory: yibao's paths and three peers (issues 9 and 28).

    .venv/bin/python -m benchmarks.bench_batch                 # 10^5 and 10^6 claims
    .venv/bin/python -m benchmarks.bench_batch --sizes 100000 --repeats 5
    .venv/bin/python -m benchmarks.bench_batch --sizes 100000 --kinds duckdb openfisca
    .venv/bin/python -m benchmarks.bench_batch --kinds columnar duckdb openfisca --repeats 5
    .venv/bin/python -m benchmarks.bench_batch --sizes 100000 1000000 3000000 \
        --kinds duckdb scalar-2 scalar-2-sorted       # issue 21: memory as the batch grows

For each size, Benxi 2023 synthetic claims (seed 2023, backends/synthetic.py)
are written once as date-sorted JSON Lines and as Parquet.  Each measurement
runs ``--repeats`` times (default 3), each in a fresh process
(benchmarks/measure.py) so that its peak memory is its own, in rounds of one
run of every path, and the median time is reported with the range and the
ratios between paths.  Peak memory is measured twice: the measuring process's own
high-water mark (VmHWM; for the 2-process paths, an upper bound adding the
workers'), and the process tree's, sampled from outside every 20 ms: the sum
of the resident memory of the process and all its workers at the worst
moment (issue 21's "summed over processes").  The paths:
yibao's scalar evaluator with and without trace (streamed), yibao's DuckDB
backend, the columnar engine (issue 28), and the same Benxi 基本救助/倾斜救助 rule in
OpenFisca (twice: the project's model, and one written as OpenFisca's documentation
teaches) and in GoRules
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
KINDS = ("duckdb", "columnar", "scalar", "scalar-2", "scalar-2-sorted", "scalar-trace",
         "openfisca", "openfisca-enum", "zen")
PEERS = ("openfisca", "openfisca-enum", "zen")
LABELS = {"duckdb": "yibao DuckDB (Parquet in, results in Arrow)",
          "columnar": "yibao columnar (Parquet in, results in Arrow; NumPy int64 window path)",
          "scalar": "yibao scalar, no trace (streamed)",
          "scalar-2": "yibao scalar, no trace, 2 processes (streamed, JSON Lines out)",
          "scalar-2-sorted": "yibao scalar, no trace, 2 processes, sorted batch (`--jobs 2` "
                             "without `--stream`, JSON Lines out)",
          "scalar-trace": "yibao scalar, with trace (streamed)",
          "openfisca": "OpenFisca (openfisca-core, numpy)",
          "openfisca-enum": "OpenFisca as its documentation teaches (Enum, fancy-indexed "
                            "parameters)",
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
    for fmt, path in paths.items():
        # Drawn again for each format (the same claims: deterministic by seed) rather
        # than held in a list: 3×10^6 claims' dicts are gigabytes.
        write_records(synthetic_claims(engine.loaded, size, seed=2023), str(path), fmt,
                      engine.versions)
    print(f"# generated {size:,} claims in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return paths


def measure(kind: str, paths, work: pathlib.Path, size: int, sampled: bool = False) -> dict:
    """One fresh process of ``kind``: its own figures (time, its peak, stages), and with
    ``sampled`` the process tree's peak, sampled from outside while it runs (its time
    then not counted: see :func:`measure_in_rounds`)."""
    out = work / f"payouts-{kind}-{size}.npy"
    path = paths["jsonl" if kind.startswith("scalar") else "parquet"]
    command = [sys.executable, "-m", "benchmarks.measure", kind, str(path), str(out)]
    if kind in PEERS:
        command.append(str(work / f"refused-{size}.npy"))
    print(f"# {kind} on {size:,} claims{' (memory)' if sampled else ''} …", file=sys.stderr,
          flush=True)
    if sampled:
        stdout, tree_peak = run_sampled(command)
    else:
        stdout = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout
    figures = json.loads(stdout.strip().splitlines()[-1])
    if sampled:
        figures["tree_peak_mib"] = tree_peak / 2 ** 20
    figures["payouts"] = np.load(out)
    return figures


def run_sampled(command, interval: float = 0.02) -> tuple[str, int]:
    """Run ``command``; its standard output, and the peak of the summed resident memory
    of it and its descendants (bytes), sampled every ``interval`` seconds."""
    import tempfile

    with tempfile.TemporaryFile("w+", encoding="utf-8") as out, \
            tempfile.TemporaryFile("w+", encoding="utf-8") as err:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err, text=True)
        peak = 0
        while process.poll() is None:
            peak = max(peak, tree_rss(process.pid))
            time.sleep(interval)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise subprocess.CalledProcessError(process.returncode, command, out.read(),
                                                err.read())
        return out.read(), peak


def tree_rss(root: int) -> int:
    """The resident memory (bytes) of ``root`` and every process descended from it.

    Walked down from ``root`` by each thread's ``children`` file, not by scanning every
    process in /proc: a scan took 2 ms of CPU, every 20 ms, on one of the two cores the
    columnar engine's threads were using (10% of a core; the engine's medians at 10^6
    were 0.7–1.0 s sampled this way, 0.62–0.78 s unsampled, 2026-12-07)."""
    page = os.sysconf("SC_PAGE_SIZE")
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
                total += int(statm.read().split()[1]) * page     # resident pages
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as children:
                    pending.extend(int(child) for child in children.read().split())
        except (OSError, ValueError):   # the process or thread ended meanwhile
            continue
    return total


def median_run(runs: list[dict], sampled: list[dict]) -> dict:
    """The run with the median time, with every run's range of seconds; the median of
    the process tree's peaks of the ``sampled`` runs (a figure of its own: the run with
    the median time need not hold the median memory), with their range."""
    runs = sorted(runs, key=lambda f: f["seconds"])
    figures = dict(runs[len(runs) // 2])
    figures["range"] = (runs[0]["seconds"], runs[-1]["seconds"])
    peaks = sorted(f["tree_peak_mib"] for f in sampled)
    figures["tree_peak_mib"] = peaks[len(peaks) // 2]
    figures["tree_range"] = (peaks[0], peaks[-1])
    return figures


def measure_in_rounds(kinds: list[str], repeats: int, paths, work: pathlib.Path,
                      size: int) -> dict[str, dict]:
    """Each kind's median run, and DuckDB's (the reference every payout is compared with).

    DuckDB runs first, once, whatever the kinds: its refusals tell the peers which claims
    to leave out.  It is timed in the rounds only when it is one of ``kinds``.  The
    repeats go in rounds, every kind once a round, so a machine whose speed drifts (a
    shared one does, by half within minutes) slows every path alike instead of whichever
    ran during the slow spell; each round starts one kind further on, so that no kind
    always follows the same one.  A run right after DuckDB's (which frees ≈ 1.5 GB)
    was the slow one: columnar at 10^6 took 0.86 and 0.90 s after DuckDB against 0.68
    and 0.71 after the OpenFisca peer, and 0.98 s [0.68–1.18] as the median of five
    rounds that always ran it after DuckDB, 0.657 s [0.638–0.713] in ten pairs with the
    peer alone (2026-12-07).

    The timed rounds run unwatched; as many rounds again, after them, sample the process
    tree's memory, and their times are not counted.  Watching a run (a wake-up every 20
    ms on one of the two cores) slowed the columnar engine, whose threads use both:
    its medians at 10^6 were 0.85 s watched and 0.75 unwatched, interleaved, 2026-12-07;
    the peers' single thread did not feel it."""
    reference = measure("duckdb", paths, work, size)
    np.save(work / f"refused-{size}.npy", reference["payouts"][:, 0] < 0)
    runs: dict[str, list[dict]] = {kind: [] for kind in kinds}
    watched: dict[str, list[dict]] = {kind: [] for kind in kinds}
    for sampled, found in ((False, runs), (True, watched)):
        for round_number in range(max(1, repeats)):
            turn = round_number % len(kinds)
            for kind in kinds[turn:] + kinds[:turn]:
                found[kind].append(measure(kind, paths, work, size, sampled))
    medians = {kind: median_run(runs[kind], watched[kind]) for kind in kinds}
    medians.setdefault("duckdb", reference)
    return medians


def ratios(rows) -> None:
    """Median time ratios at each size: how much faster the first path is."""
    seconds = {(kind, size): figures["seconds"] for kind, size, figures, _, _ in rows}
    pairs = [("columnar", "openfisca"), ("columnar", "openfisca-enum"), ("columnar", "duckdb"),
             ("duckdb", "openfisca"), ("duckdb", "openfisca-enum"), ("duckdb", "scalar"),
             ("scalar-2", "scalar"),
             ("scalar-2", "scalar-2-sorted"),
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
          "the range of the runs in brackets. The process tree's peak memory: sampled in "
          f"{args.repeats} more rounds, whose times are not counted.\n")
    print("| path | claims | seconds | claims/s | peak memory (MiB) | peak memory, process "
          "tree (MiB) | ≠ yibao 基本救助 | ≠ yibao 倾斜救助 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for kind, size, figures, basic, tilt in rows:
        rate = figures["claims"] / figures["seconds"]
        low, high = figures["range"]
        spread = f" [{low:.2f}–{high:.2f}]" if high > low else ""
        tree_low, tree_high = figures["tree_range"]
        tree_spread = f" [{tree_low:.0f}–{tree_high:.0f}]" if tree_high > tree_low else ""
        print(f"| {LABELS[kind]} | {size:,} | {figures['seconds']:.2f}{spread} | {rate:,.0f} | "
              f"{figures['peak_mib']:.0f} | {figures['tree_peak_mib']:.0f}{tree_spread} | "
              f"{basic:,} | {tilt:,} |")
    ratios(rows)
    for kind, size, figures, _, _ in rows:
        if "write_seconds" in figures:
            total = figures["seconds"] + figures["write_seconds"]
            print(f"\n{LABELS[kind].split(' (')[0]} at {size:,} claims, results written to a "
                  f"Parquet file as `yibao eval -o results.parquet` does: + "
                  f"{figures['write_seconds']:.2f} s, {total:.2f} s in all "
                  f"({figures['claims'] / total:,.0f} claims/s)")
        if "phases" in figures:   # the median run's stages, seconds from its start
            print(f"\n{LABELS[kind].split(' (')[0]} at {size:,} claims, each stage's end "
                  "(s): " + ", ".join(f"{stage} {at:.2f}"
                                      for stage, at in figures["phases"].items()))
    print(f"\nLoad average when done: {os.getloadavg()[0]:.2f} (other work on the machine "
          "slows the wall-clock figures; process CPU seconds, whole run: "
          + ", ".join(f"{k} {s:,} {f['cpu_seconds']:.1f}" for k, s, f, _, _ in rows) + ")")
    print("\n(claims yibao refuses — C311, the per-bed-day amount §(五) leaves open — are "
          "left out of the comparison; the peers settle the rest)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
