"""The settlement book at scale (issue 22 §9): a daily run against a large book.

    .venv/bin/python -m benchmarks.bench_book                      # 10^6 claims, 2×10^5 people
    .venv/bin/python -m benchmarks.bench_book --book-claims 100000 --people 20000
    .venv/bin/python -m benchmarks.bench_book --postgres postgresql://yibao@/bench?host=/tmp/…

1. A book of ``--book-claims`` Benxi 2023 claims of ``--people`` people, dated
   January–November, is settled once (in date order, commits of 10^4 lines),
   unless ``--reuse`` finds it already built.
2. The daily run: ``--run-claims`` new claims (default 10^4), dated in
   December except ``--late`` of them (default 1%) dated earlier in the year
   for a person with booked claims (each a late claim: adjustments), settled by
   ``yibao settle`` in a fresh process, end to end (load, verify from the
   last verified head, read each person-year touched, settle, write, commit),
   timed, with its peak memory (ru_maxrss).
3. Single-claim latency: ``--single`` runs of one claim each (in-process,
   one transaction each), p50 and p99, on SQLite and (with ``--postgres``) on
   PostgreSQL; and, on PostgreSQL, two concurrent ``yibao settle`` processes of
   ``--run-claims`` / 2 claims each on overlapping people: their throughput.

Not a test: figures depend on the machine; it prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import random
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "benxi-2023.policy"
IDENTITIES = ["特困人员", "孤儿", "低保对象", "低保边缘家庭成员", "因病致贫重病患者",
              "返贫致贫人口", "监测帮扶对象", "其他监测范围内人口"]


def claim(rng: random.Random, claim_id: str, person: int, month: int) -> str:
    in_scope = rng.randrange(1_000, 60_000)
    basic = rng.randrange(0, in_scope // 2)
    return json.dumps({
        "claim_id": claim_id, "person_id": f"p-{person:07d}",
        "date": f"2023-{month:02d}-{rng.randrange(1, 29):02d}",
        "identities": [IDENTITIES[person % len(IDENTITIES)]], "scheme": "居民医保",
        "visit": "住院" if rng.random() < 0.8 else "门诊慢特病",
        "total_cost": f"{in_scope + 500}.00", "in_scope_cost": f"{in_scope}.00",
        "paid": {"基本医保": f"{basic}.00", "大病保险": "0.00"}}, ensure_ascii=False)


def book_lines(count: int, people: int):
    """The book's claims in date order (month by month), people drawn at random."""
    rng = random.Random(2023)
    per_month = -(-count // 11)
    number = 0
    for month in range(1, 12):
        batch = []
        for _ in range(min(per_month, count - number)):
            batch.append((rng.randrange(1, 29), claim(rng, f"b-{number:08d}",
                                                      rng.randrange(people), month)))
            number += 1
        batch.sort(key=lambda item: item[0])
        yield from (line for _, line in batch)


def daily_lines(count: int, people: int, late: float, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    lines = []
    for number in range(count):
        month = rng.randrange(1, 12) if rng.random() < late else 12
        lines.append(claim(rng, f"n{seed}-{number:07d}", rng.randrange(people), month))
    return lines


def build_book(location: str, count: int, people: int) -> float:
    from yibao.api import load_engine
    from yibao.audit.settle import BookSettler
    from yibao.audit.stores import open_store

    engine = load_engine(POLICY)
    start = time.perf_counter()
    with open_store(location, create=True) as store:
        settler = BookSettler(store, engine)
        for done, _ in enumerate(settler.run(enumerate(book_lines(count, people), 1), 10_000), 1):
            print(f"  book: {done * 10_000:,} claims, {time.perf_counter() - start:.0f} s",
                  file=sys.stderr, flush=True)
    return time.perf_counter() - start


def run_settle(location: str, claims: str, extra=()) -> tuple[float, int]:
    """(seconds, peak RSS in MB) of one `yibao settle` process (GNU time's %M)."""
    start = time.perf_counter()
    process = subprocess.run(["/usr/bin/time", "-f", "peak-kb %M", sys.executable, "-m",
                              "yibao.cli.main", "settle", str(POLICY), claims, "--book", location,
                              "-o", os.devnull, *extra], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(process.stderr[-2000:])
    peak = next(line for line in process.stderr.splitlines() if line.startswith("peak-kb"))
    return seconds, int(peak.split()[1]) // 1024


def latencies(location: str, count: int, people: int, seed: int) -> list[float]:
    from yibao.api import load_engine
    from yibao.audit.settle import BookSettler
    from yibao.audit.stores import open_store

    engine = load_engine(POLICY)
    lines = daily_lines(count, people, 0.0, seed=1000 + seed)
    found = []
    with open_store(location) as store:
        settler = BookSettler(store, engine)
        for number, line in enumerate(lines, 1):
            start = time.perf_counter()
            settler.commit([(number, line)])
            found.append(time.perf_counter() - start)
    return found


def concurrent(location: str, count: int, people: int, folder: str, seed: int) -> float:
    paths = []
    for seed in (2000 + seed, 3000 + seed):
        path = os.path.join(folder, f"desk-{seed}.jsonl")
        pathlib.Path(path).write_text("\n".join(daily_lines(count // 2, people, 0.01, seed))
                                      + "\n", encoding="utf-8")
        paths.append(path)
    start = time.perf_counter()
    desks = [subprocess.Popen([sys.executable, "-m", "yibao.cli.main", "settle", str(POLICY),
                               path, "--book", location, "-o", os.devnull],
                              stderr=subprocess.PIPE) for path in paths]
    for desk in desks:
        _, err = desk.communicate()
        if desk.returncode != 0:
            raise RuntimeError(err.decode()[-2000:])
    return time.perf_counter() - start


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--book-claims", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--run-claims", type=int, default=10_000)
    parser.add_argument("--late", type=float, default=0.01)
    parser.add_argument("--single", type=int, default=200)
    parser.add_argument("--folder", help="where the SQLite book is kept (default: a temp dir)")
    parser.add_argument("--reuse", action="store_true", help="reuse a book already built there")
    parser.add_argument("--postgres", help="an empty PostgreSQL database URL for its figures")
    parser.add_argument("--seed", type=int, default=1,
                        help="the daily run's claims (another seed for another day)")
    args = parser.parse_args()
    folder = args.folder or tempfile.mkdtemp(prefix="yibao-book-bench-")
    os.makedirs(folder, exist_ok=True)
    book = os.path.join(folder, f"book-{args.book_claims}-{args.people}.db")
    rows = []
    if not (args.reuse and os.path.exists(book)):
        seconds = build_book(book, args.book_claims, args.people)
        rows.append((f"build the book: {args.book_claims:,} claims", f"{seconds:.1f} s",
                     f"{args.book_claims / seconds:,.0f} claims/s"))
    # As a bureau would, nightly: one whole verification (audit verify), which settle
    # then verifies on from.
    start = time.perf_counter()
    process = subprocess.run([sys.executable, "-m", "yibao.cli.main", "audit", "verify", book],
                             capture_output=True, text=True)
    if process.returncode != 0:
        raise RuntimeError(process.stderr)
    rows.append(("audit verify, the whole book", f"{time.perf_counter() - start:.1f} s",
                 f"{os.path.getsize(book) / 2**20:,.0f} MB"))
    daily = os.path.join(folder, "daily.jsonl")
    pathlib.Path(daily).write_text("\n".join(daily_lines(args.run_claims, args.people,
                                                         args.late, args.seed)) + "\n",
                                   encoding="utf-8")
    seconds, peak = run_settle(book, daily)
    rows.append((f"daily run: {args.run_claims:,} claims, {args.late:.0%} late (SQLite)",
                 f"{seconds:.2f} s, peak {peak} MB", f"{args.run_claims / seconds:,.0f} claims/s"))
    found = latencies(book, args.single, args.people, args.seed)
    rows.append(("one claim, one transaction (SQLite)",
                 f"p50 {percentile(found, 0.5) * 1000:.1f} ms",
                 f"p99 {percentile(found, 0.99) * 1000:.1f} ms"))
    if args.postgres:
        from yibao.audit.postgres_store import PostgresStore
        from yibao.audit.stores import open_store

        from yibao.audit.verify import verify_store

        with open_store(book) as source, PostgresStore(args.postgres, create=True) as target:
            start = time.perf_counter()
            target.copy_from(source)
            check = verify_store(target)    # as audit migrate does: settle verifies from here
            target.mark_verified(check.records, check.head)
            rows.append(("migrate the book to PostgreSQL and verify it",
                         f"{time.perf_counter() - start:.1f} s", ""))
        found = latencies(args.postgres, args.single, args.people, args.seed)
        rows.append(("one claim, one transaction (PostgreSQL)",
                     f"p50 {percentile(found, 0.5) * 1000:.1f} ms",
                     f"p99 {percentile(found, 0.99) * 1000:.1f} ms"))
        seconds = concurrent(args.postgres, args.run_claims, args.people, folder, args.seed)
        rows.append((f"two writers at once, {args.run_claims:,} claims (PostgreSQL)",
                     f"{seconds:.2f} s", f"{args.run_claims / seconds:,.0f} claims/s"))
    print(f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}\n")
    print("| measurement | time | rate |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
