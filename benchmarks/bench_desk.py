"""The auditors' desk against a large book (issue 26): page latency over HTTP.

    .venv/bin/python -m benchmarks.bench_desk                           # 10^6 claims, 2×10^5 people
    .venv/bin/python -m benchmarks.bench_desk --book-claims 100000 --people 20000 --book /tmp/b.db

1. The book: ``benchmarks/bench_book.py``'s builder (Benxi 2023 claims of
   ``--people`` people, January–November, settled in date order), unless
   ``--book`` names one already built with the same sizes.
2. ``yibao serve`` over it in a fresh process; the first search builds the
   desk's index and the start-up verify walks the chain: both are timed, and
   the measurements start once the chain has verified (the walk would take
   the cores from the pages).
3. ``--requests`` requests of each page, one at a time, over HTTP (httpx), for
   claims and people drawn at random from the book: the claim page (without
   its explanation frame), the explanation frame (``explain --format html``
   with the graph, drawn by Graphviz), a search by person, and the person-year
   page.  p50 and p95 in milliseconds.

Not a test: figures depend on the machine; it prints a Markdown table.
Targets (issue 26): claim page p95 ≤ 150 ms, search by person p95 ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import platform
import random
import re
import socket
import subprocess
import sys
import time

from benchmarks.bench_book import build_book, percentile

ROOT = pathlib.Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timed(client, url: str) -> float | None:
    """Milliseconds for one request; None for a claim the book does not hold (one the
    policy refused when the book was built: it wrote nothing)."""
    start = time.perf_counter()
    answer = client.get(url)
    elapsed = (time.perf_counter() - start) * 1000
    if answer.status_code == 404:
        return None
    if answer.status_code != 200:
        raise SystemExit(f"{url}: HTTP {answer.status_code}")
    return elapsed


def measured(values) -> list[float]:
    return [value for value in values if value is not None]


def main() -> None:
    import httpx

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--book-claims", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--book", help="the book to use (built there if missing)")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    book = pathlib.Path(args.book or f"/tmp/bench-desk-{args.book_claims}.db")
    if not book.exists():
        print(f"building {book}: {args.book_claims:,} claims of {args.people:,} people",
              file=sys.stderr)
        build_book(str(book), args.book_claims, args.people)
    port = free_port()
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "yibao"), "serve", "--book", str(book), "--policies",
         str(ROOT / "policies"), "--port", str(port)], env={**os.environ, "PYTHONHASHSEED": "0"})
    base = f"http://127.0.0.1:{port}"
    try:
        client = httpx.Client(base_url=base, timeout=3600)
        started = time.perf_counter()
        while True:
            try:
                client.get("/policies")
                break
            except httpx.TransportError:
                if server.poll() is not None or time.perf_counter() - started > 300:
                    raise SystemExit("the desk did not start") from None
                time.sleep(0.2)
        print("desk started; building its index", file=sys.stderr, flush=True)
        index_start = time.perf_counter()
        first = client.get("/").text
        index_seconds = time.perf_counter() - index_start
        claims = int(re.search(r"共 ([\d,]+) 条", first).group(1).replace(",", ""))
        while "status-ok" not in client.get("/chain").text:
            if "status-bad" in client.get("/chain").text:
                raise SystemExit("the book does not verify")
            time.sleep(1)
        verify_seconds = time.perf_counter() - started
        print(f"index {index_seconds:.0f} s, verified after {verify_seconds:.0f} s; measuring",
              file=sys.stderr, flush=True)
        rng = random.Random(26)
        ids = [f"b-{rng.randrange(claims):08d}" for _ in range(args.requests)]
        people = [f"p-{rng.randrange(args.people):07d}" for _ in range(args.requests)]
        figures = {}
        figures["claim page"] = measured(timed(client, f"/claim?id={i}") for i in ids)
        figures["explanation frame (explain --format html)"] = measured(
            timed(client, f"/claim/explanation?id={i}") for i in ids[: max(20, len(ids) // 4)])
        figures["search by person"] = measured(timed(client, f"/?person_id={p}") for p in people)
        figures["person-year page"] = measured(timed(client, f"/person?id={p}&year=2023")
                                               for p in people[: len(people) // 2])
    finally:
        server.terminate()
        server.wait(30)
    print(f"\nbook: {claims:,} claims of {args.people:,} people, {book.stat().st_size / 2**30:.1f} GiB; "
          f"Python {platform.python_version()}, {os.cpu_count()} cores")
    print(f"desk index built by the first search: {index_seconds:.1f} s; "
          f"start-up verify of the whole chain done after {verify_seconds:.1f} s\n")
    print("| page | requests | p50 (ms) | p95 (ms) |")
    print("|---|---:|---:|---:|")
    for name, values in figures.items():
        print(f"| {name} | {len(values)} | {percentile(values, 0.5):.1f} | "
              f"{percentile(values, 0.95):.1f} |")


if __name__ == "__main__":
    main()
