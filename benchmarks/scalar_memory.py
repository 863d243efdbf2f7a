"""Peak memory of the streamed scalar path as the claims grow and the people do not.

    .venv/bin/python -m benchmarks.scalar_memory                    # 10^5 and 10^6 claims
    .venv/bin/python -m benchmarks.scalar_memory --sizes 100000 300000 --people 5000

A city's population is bounded; its claims grow with the months.  For each
size, Benxi 2023 synthetic claims (seed 2023) are drawn for the same
``--people`` over the same two years (so more claims a person-year), written
as date-sorted JSON Lines, and streamed through ``Engine.stream_records`` in a
fresh process, twice: with every claim id in memory, and with at most
``--ids-in-memory`` of them (the rest in a temporary file,
runtime/claim_ids.py).  Prints peak memory (VmHWM), claims per second, ids
moved to the file and file reads.  What the people hold — a ledger year and a
last date each — is the same at every size; the claim ids are what grows.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "benxi-2023.policy"
YEARS = 2   # the generator draws Benxi 2023's claims over 2023–2024
ALL = 10 ** 12


def claims_file(size: int, people: int, work: pathlib.Path) -> pathlib.Path:
    from yibao.api import load_engine
    from yibao.backends.formats import write_records
    from yibao.backends.synthetic import synthetic_claims

    path = work / f"benxi-{size}-people-{people}.jsonl"
    if not path.exists():
        engine = load_engine(POLICY)
        start = time.perf_counter()
        claims = synthetic_claims(engine.loaded, size, seed=2023,
                                  claims_per_person_year=size / (people * YEARS))
        write_records(list(claims), str(path), "jsonl", engine.versions)
        print(f"# generated {size:,} claims of {people:,} people in "
              f"{time.perf_counter() - start:.1f} s", file=sys.stderr)
    return path


def run_one(path: str, ids_in_memory: int) -> None:
    """In the fresh process: stream the file, print one JSON line of figures."""
    from benchmarks.measure import peak_mib
    from yibao.api import load_engine
    from yibao.backends.formats import read_records
    from yibao.cli.main import tune_gc
    from yibao.runtime import batch

    tune_gc()
    engine = load_engine(POLICY)
    kept = []

    class Watched(batch.ClaimIds):   # to report what moved, after the stream closes it
        def close(self):
            kept.append((self.moved, self.disk_reads))
            super().close()

    batch.ClaimIds = Watched
    settled = refused = 0
    start = time.perf_counter()
    for outcome in engine.stream_records(read_records(path, "jsonl"), False, ids_in_memory):
        if isinstance(outcome, batch.ClaimError):
            refused += 1
        else:
            settled += 1
    seconds = time.perf_counter() - start
    moved, reads = kept[0]
    print(json.dumps({"seconds": seconds, "claims": settled + refused, "refused": refused,
                      "peak_mib": peak_mib(), "moved": moved, "disk_reads": reads}))


def measure(path: pathlib.Path, ids_in_memory: int) -> dict:
    command = [sys.executable, "-m", "benchmarks.scalar_memory", "--run", str(path),
               str(ids_in_memory)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--people", type=int, default=16_667)
    parser.add_argument("--ids-in-memory", type=int, default=100_000)
    parser.add_argument("--work", default="/tmp/yibao-bench")
    parser.add_argument("--run", nargs=2, metavar=("CLAIMS", "IDS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:
        run_one(args.run[0], int(args.run[1]))
        return 0
    work = pathlib.Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    print(f"{args.people:,} people, Benxi 2023 synthetic claims over {YEARS} years, streamed "
          "without trace, one fresh process a row\n")
    print("| claims | claim ids in memory | peak memory (MiB) | claims/s | ids moved to the "
          "file | file reads |")
    print("|---:|---|---:|---:|---:|---:|")
    for size in args.sizes:
        path = claims_file(size, args.people, work)
        for bound, label in ((ALL, "all"), (args.ids_in_memory, f"≤ {args.ids_in_memory:,}")):
            print(f"# {size:,} claims, ids in memory: {label} …", file=sys.stderr, flush=True)
            f = measure(path, bound)
            print(f"| {size:,} | {label} | {f['peak_mib']:.0f} | {f['claims'] / f['seconds']:,.0f}"
                  f" | {f['moved']:,} | {f['disk_reads']:,} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
