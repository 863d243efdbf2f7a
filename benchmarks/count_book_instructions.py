"""Machine instructions a claim of a daily `yibao settle` run costs, counted by valgrind.

    .venv/bin/python -m benchmarks.count_book_instructions [--folder DIR]

Wall clock and CPU seconds of the book's daily run (benchmarks/bench_book.py)
drift by 2× and more on a shared machine; the instructions a process executes
do not.  This script builds (once, in DIR) a small book through the settler:
5,000 Benxi claims of 1,000 people, verified, then the day before's 1,000
claims settled into it and not verified, as bench_book does at scale.  Then
``yibao settle`` of the first 600 and of the first 100 of a daily run (1% late,
the others on December 28th) runs under valgrind's cachegrind (instruction
counts only, ``PYTHONHASHSEED=0``) on fresh copies of that book; it prints the
difference divided by 500 (a claim), the fixed part (what the 100-claim run
costs beyond its claims: start-up, verifying the day before's records) and
what that makes a daily run of 10^4 claims.

The run is counted without the run's worker (audit/run_worker.py): valgrind
charges a forked child with everything its parent executed before the fork, so a
run that forks its worker (600 claims do, 100 do not) would be counted twice up to
that point.  What is counted is the work a claim costs, wherever it runs; the
worker moves part of it to the second core, which only wall clock shows
(bench_book).

The book is built by the code checked out when DIR is empty: to compare two
commits, build it with the older one (its first settle after an upgrade then
does what a bureau's does once) or give each its own DIR.  Not a test.  Needs
valgrind; takes about a minute.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys

from benchmarks import bench_book

_TOTAL = re.compile(r"I\s+refs:\s+([\d,]+)")
BOOK_CLAIMS, PEOPLE, DAY_BEFORE = 5_000, 1_000, 1_000


# ``yibao settle`` with its worker never forked (see the module's docstring).
_SERIAL_SETTLE = ("import sys; import yibao.audit.settle as settle; settle.WORKER_FROM = 10**9; "
                  "from yibao.cli.main import main; sys.exit(main(sys.argv[1:]))")


def yibao(*arguments: str) -> None:
    subprocess.run([sys.executable, "-m", "yibao.cli.main", *arguments], check=True,
                   capture_output=True)


def build(folder: str) -> str:
    book = os.path.join(folder, "book.db")
    if not os.path.exists(book):
        bench_book.build_book(book, BOOK_CLAIMS, PEOPLE)
        yibao("audit", "verify", book)
        before = bench_book.write_lines(os.path.join(folder, "yesterday.jsonl"),
                                        bench_book.daily_lines(DAY_BEFORE, PEOPLE, 0.01, seed=0))
        yibao("settle", str(bench_book.POLICY), before, "--book", book, "-o", os.devnull)
    return book


def instructions(book: str, claims: str, work: str) -> int:
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(book + suffix):
            shutil.copyfile(book + suffix, work + suffix)
    try:
        done = subprocess.run(
            ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
             sys.executable, "-c", _SERIAL_SETTLE, "settle", str(bench_book.POLICY), claims,
             "--book", work, "-o", os.devnull],
            capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    finally:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(work + suffix):
                os.remove(work + suffix)
    # Every process's count: `yibao settle` verifies since the head in a forked child
    # (audit/verify_ahead.py), which valgrind follows and counts apart, first.
    found = _TOTAL.findall(done.stderr)
    if not found:
        raise RuntimeError("valgrind printed no instruction count:\n" + done.stderr[-2000:])
    return sum(int(count.replace(",", "")) for count in found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", default="/tmp/yibao-book-instructions")
    args = parser.parse_args()
    os.makedirs(args.folder, exist_ok=True)
    book = build(args.folder)
    lines = bench_book.daily_lines(600, PEOPLE, 0.01, seed=1, day=28)
    counts = {}
    for count in (100, 600):
        claims = bench_book.write_lines(os.path.join(args.folder, f"daily-{count}.jsonl"),
                                        lines[:count])
        counts[count] = instructions(book, claims, os.path.join(args.folder, "work.db"))
    per_claim = (counts[600] - counts[100]) / 500
    fixed = counts[100] - 100 * per_claim
    print(f"per claim: {per_claim / 1e6:.3f} million instructions; fixed (start-up, verify "
          f"since the head): {fixed / 1e9:.2f} thousand million; a daily run of 10^4 claims: "
          f"{(fixed + 10_000 * per_claim) / 1e9:.1f} thousand million")


if __name__ == "__main__":
    main()
