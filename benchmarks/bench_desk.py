"""The auditors' desk against a large book (issue 26): start-up and page latency over HTTP.

    .venv/bin/python -m benchmarks.bench_desk --book /tmp/b.db      # a book built earlier
    .venv/bin/python -m benchmarks.bench_desk --book-claims 100000 --people 20000 --book /tmp/b.db

1. The book: ``--book``, or one built there by ``benchmarks/bench_book.py``'s
   builder (Benxi 2023 claims of ``--people`` people, January–November, settled
   in date order; then ``yibao audit verify`` walks it whole, timed, and marks
   its head verified, as a bureau's nightly verify does).  The book is only
   read: the desk opens a copy when ``--copy`` is given (a book in a folder it
   must not write into: SQLite's write-ahead log lives beside the file).
2. ``yibao serve --index FILE`` over it in a fresh process, with the index
   file new (or ``--index``, one kept): *start-up* is the time until the desk
   answers and has verified the chain from the book's verified head.
3. ``--requests`` requests of each page that reads the book's own indexes, one
   at a time, over HTTP (httpx), for claims and people drawn at random: the
   claim page (without its explanation frame), the explanation frame
   (``explain --format html`` with the graph, drawn by Graphviz), searches by
   claim id and by person, the person-year page and the policy page (its
   first view apart: it lints and draws the policy once).  These run while the
   index is first built in the background, as they would for an auditor.
4. Once a search by date answers (*index build*): the searches the desk's
   index answers, for days and identities drawn at random: a day's date
   range, an identity (alone: a fifth of the book, its first page of 50,
   counted up to 10,000; and with a day), a line and "alert raised".
5. The desk stopped and started again on the same index file: *restart* is
   the time until a search by date answers again.

p50 and p95 in milliseconds; the load average before and after.
Not a test: figures depend on the machine; it prints a Markdown table.
Targets (issue 26): claim page p95 ≤ 150 ms, search p95 ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import platform
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

from benchmarks.bench_book import IDENTITIES, build_book, percentile

ROOT = pathlib.Path(__file__).resolve().parent.parent
YIBAO = str(ROOT / ".venv" / "bin" / "yibao")


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


class Desk:
    """``yibao serve`` in a fresh process; the seconds from launch to each milestone."""

    def __init__(self, book: pathlib.Path, index: pathlib.Path):
        import httpx

        self.port = free_port()
        self.launched = time.perf_counter()
        self.process = subprocess.Popen(
            [YIBAO, "serve", "--book", str(book), "--policies", str(ROOT / "policies"),
             "--index", str(index), "--port", str(self.port)],
            env={**os.environ, "PYTHONHASHSEED": "0"})
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=3600)
        while True:
            try:
                self.client.get("/policies")
                break
            except httpx.TransportError:
                if self.process.poll() is not None or self.since() > 600:
                    raise SystemExit("the desk did not start") from None
                time.sleep(0.1)
        self.answering = self.since()

    def since(self) -> float:
        return time.perf_counter() - self.launched

    def verified(self) -> float:
        while True:
            page = self.client.get("/chain").text
            if "status-ok" in page:
                return self.since()
            if "status-bad" in page:
                raise SystemExit("the book does not verify")
            time.sleep(0.2)

    def indexed(self) -> float:
        """Seconds from launch until a search by date answers (polled every second)."""
        import httpx

        with httpx.Client(base_url=self.client.base_url, timeout=3600) as poller:
            while 'id="index-building"' in poller.get(f"/?date_from={DAY}&"
                                                      f"date_to={DAY}").text:
                time.sleep(1)
        return self.since()

    def watch_index(self) -> dict:
        """:meth:`indexed` in a thread, while other pages are measured."""
        found: dict = {}
        thread = threading.Thread(target=lambda: found.update(seconds=self.indexed()),
                                  daemon=True)
        thread.start()
        found["thread"] = thread
        return found

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def book_sizes(book: pathlib.Path) -> tuple[int, int, int, int]:
    """(claims, people, records, verified head) of a book built by bench_book's builder."""
    with sqlite3.connect(f"file:{book}?mode=ro", uri=True) as db:
        claims = db.execute("SELECT count(DISTINCT claim_id) FROM records "
                            "WHERE claim_id LIKE 'b-%'").fetchone()[0]
        people = db.execute("SELECT count(DISTINCT person_id) FROM book_index").fetchone()[0]
        records = db.execute("SELECT coalesce(max(seq), 0) FROM records").fetchone()[0]
        head = db.execute("SELECT coalesce(max(seq), 0) FROM verified").fetchone()[0]
    return claims, people, records, head


def load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--book-claims", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--book", help="the book to use (built there if missing)")
    parser.add_argument("--copy", action="store_true",
                        help="serve a copy of the book (made in --work), never the book itself")
    parser.add_argument("--work", help="folder for the index file and the copy "
                                       "(default: a temporary one)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--pages-only", action="store_true",
                        help="only start-up and the pages read from the book (no wait for "
                             "the index's first build, no restart)")
    parser.add_argument("--index", help="an index file to keep (built or brought up to date "
                                        "there); default: a new one in --work")
    args = parser.parse_args()
    work = pathlib.Path(args.work or tempfile.mkdtemp(prefix="bench-desk-"))
    work.mkdir(parents=True, exist_ok=True)
    book = pathlib.Path(args.book or work / f"book-{args.book_claims}.db")
    verify_seconds = None
    if not book.exists():
        print(f"building {book}: {args.book_claims:,} claims of {args.people:,} people",
              file=sys.stderr)
        build_book(str(book), args.book_claims, args.people)
        start = time.perf_counter()
        subprocess.run([YIBAO, "audit", "verify", str(book)], check=True)
        verify_seconds = time.perf_counter() - start
    if args.copy:
        print(f"copying {book} into {work}", file=sys.stderr, flush=True)
        copy = work / book.name
        shutil.copy(book, copy)
        book = copy
    claims, people, records, head = book_sizes(book)
    print(f"book: {claims:,} claims of {people:,} people, {records:,} records, verified "
          f"head #{head:,}", file=sys.stderr, flush=True)
    index = pathlib.Path(args.index) if args.index else work / "desk-index.sqlite"
    if not args.index:
        for stale in (index, index.with_name(index.name + "-wal"),
                      index.with_name(index.name + "-journal")):
            stale.unlink(missing_ok=True)
    load_before = load()
    desk = Desk(book, index)
    rng = random.Random(26)
    try:
        answering, verified = desk.answering, desk.verified()
        print(f"answering after {answering:.1f} s, verified after {verified:.1f} s; "
              "measuring the pages read from the store", file=sys.stderr, flush=True)
        index_ready = desk.watch_index()
        building = 'id="index-building"' in desk.client.get(f"/?date_from={DAY}&"
                                                            f"date_to={DAY}").text
        figures = measure_store_pages(desk.client, rng, claims, people, args.requests)
        built = restart = None
        if not args.pages_only:
            index_ready["thread"].join()
            built = index_ready["seconds"]
            print(f"index ready after {built:.0f} s; measuring the searches", file=sys.stderr,
                  flush=True)
            figures.update(measure_searches(desk.client, rng, claims, args.requests))
    finally:
        desk.stop()
    load_after = load()
    if not args.pages_only:
        again = Desk(book, index)
        try:
            restart = again.indexed()
        finally:
            again.stop()
    print(f"\nbook: {claims:,} claims of {people:,} people, {records:,} records "
          f"({book.stat().st_size / 2**30:.2f} GiB), verified head #{head:,}; index file "
          f"{index.stat().st_size / 2**20:.0f} MiB; Python {platform.python_version()}, "
          f"{os.cpu_count()} cores; load average (1/5/15 min) {load_before} before, "
          f"{load_after} after\n")
    if verify_seconds is not None:
        print(f"- yibao audit verify of the whole chain: {verify_seconds:.1f} s")
    first = "a new index file" if not args.index else f"the index file {index}"
    print(f"- start-up (`yibao serve --index FILE`, {first}): answering after "
          f"{answering:.1f} s, chain verified from the verified head after {verified:.1f} s")
    if built is not None:
        print(f"- searches by date and identity answer after {built:.1f} s (the index brought "
              f"up to the head in the background)")
        print(f"- restart on the same index file: searches by date answer after "
              f"{restart:.1f} s")
    print(f"- the pages read from the store were measured "
          f"{'while the index was being built' if building else 'with the index built'}\n")
    print("| page | requests | p50 (ms) | p95 (ms) |")
    print("|---|---:|---:|---:|")
    for name, values in figures.items():
        print(f"| {name} | {len(values)} | {percentile(values, 0.5):.1f} | "
              f"{percentile(values, 0.95):.1f} |")


DAY = "2023-03-01"


def measure_store_pages(client, rng, claims: int, people: int, requests: int
                        ) -> dict[str, list[float]]:
    """The pages that read the book's own indexes (not the desk's search index)."""
    ids = [f"b-{rng.randrange(claims):08d}" for _ in range(requests)]
    persons = [f"p-{rng.randrange(people):07d}" for _ in range(requests)]
    figures = {}
    figures["claim page"] = measured(timed(client, f"/claim?id={i}") for i in ids)
    figures["explanation frame (explain --format html)"] = measured(
        timed(client, f"/claim/explanation?id={i}") for i in ids[: max(20, len(ids) // 4)])
    figures["search by claim id"] = measured(timed(client, f"/?claim_id={i}") for i in ids)
    figures["search by person"] = measured(timed(client, f"/?person_id={p}") for p in persons)
    figures["person-year page"] = measured(timed(client, f"/person?id={p}&year=2023")
                                           for p in persons[: len(persons) // 2])
    # its first view lints the policy and draws its graph (kept for the next ones)
    figures["policy page, first view"] = [timed(client, "/policy?name=benxi-2023")]
    figures["policy page"] = measured(timed(client, "/policy?name=benxi-2023")
                                      for _ in range(max(20, requests // 4)))
    return figures


def measure_searches(client, rng, claims: int, requests: int) -> dict[str, list[float]]:
    """The searches the desk's index answers."""
    days = [f"2023-{rng.randrange(1, 12):02d}-{rng.randrange(1, 29):02d}"
            for _ in range(requests)]
    # the identities the settlements name (the form's list), not the claims' own words
    form = client.get("/").text
    listed = re.search(r'id="q-identity".*?</select>', form, re.S).group(0)
    named = re.findall(r"<option>([^<]+)</option>", listed) or IDENTITIES
    identities = [rng.choice(named) for _ in range(requests)]
    figures = {}
    figures["search by date range (one day)"] = measured(
        timed(client, f"/?date_from={d}&date_to={d}") for d in days)
    figures["search by identity (first page)"] = measured(
        timed(client, f"/?identity={i}") for i in identities)
    figures["search by identity and day"] = measured(
        timed(client, f"/?identity={i}&date_from={d}&date_to={d}")
        for i, d in zip(identities, days))
    figures["search by line (first page)"] = measured(
        timed(client, f"/?line={line}") for line in ("基本救助", "倾斜救助") * (requests // 8))
    figures["search by alert raised (first page)"] = measured(
        timed(client, "/?alert=yes") for _ in range(requests // 4))
    return figures


if __name__ == "__main__":
    main()
