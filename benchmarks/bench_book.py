"""The settlement book at scale (issue 22 §9): a daily run against a large book.

    .venv/bin/python -m benchmarks.bench_book                      # 10^6 claims, 2×10^5 people
    .venv/bin/python -m benchmarks.bench_book --book-claims 100000 --people 20000
    .venv/bin/python -m benchmarks.bench_book --book-claims 100000 --people 20000 --postgres
    .venv/bin/python -m benchmarks.bench_book --folder DIR --continue-build   # a build stopped

1. A book of ``--book-claims`` Benxi 2023 claims of ``--people`` people, dated
   January–November, is settled through the same settler as ``yibao settle``
   (audit/settle.py, transactions of 10^4 lines), unless ``--reuse`` finds it
   built (``--page-size BYTES`` then rewrites a reused book in those pages first,
   ``yibao audit repage``, verified before and after, unless it has them: a book
   built before 16 kB pages keeps 4 kB ones; the daily run's row names the page
   size it ran on).  ``audit verify`` walks it whole (as a bureau would, nightly), then
   a first daily run (yesterday's, seed 0) is settled into it and not verified:
   the measured run verifies those records first, as every ``settle`` verifies
   what was appended since the last verified head.
2. The daily run: ``--run-claims`` new claims (default 10^4), dated in
   December except ``--late`` of them (default 1%) dated earlier in the year
   (late claims: their person-years are settled again, with adjustments),
   settled by ``yibao settle`` in a fresh process on a fresh copy of the book,
   once the book has its person-year table (docs/book.md; a book built before
   the table gets it first, timed apart, as its first settle would build it),
   ``--repeats`` times: end to end (start-up, verify since the head, read each
   person-year touched, settle, write, commit), with its CPU time and peak RSS
   (GNU time), yibao's modules compiled to bytecode first, as an installed yibao
   has them (``compiled_bytecode``).  Then the command's start-up alone (fresh processes, up to its first
   read-ahead, on a small book), and the run once in-process, timed phase by phase.
3. Single-claim latency: ``--single`` runs of one claim each (in-process,
   one transaction each), p50 and p99, on SQLite and (with ``--postgres``, a
   private server started as the tests start it, or a URL) on PostgreSQL; and,
   on PostgreSQL, two concurrent ``yibao settle`` processes of ``--run-claims``
   / 2 claims each on overlapping people: their throughput.

Not a test: figures depend on the machine; it prints a Markdown table.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import pathlib
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "benxi-2023.policy"
IDENTITIES = ["特困人员", "孤儿", "低保对象", "低保边缘家庭成员", "因病致贫重病患者",
              "返贫致贫人口", "监测帮扶对象", "其他监测范围内人口"]


def claim(rng: random.Random, claim_id: str, person: int, month: int,
          day: int | None = None) -> str:
    in_scope = rng.randrange(1_000, 60_000)
    basic = rng.randrange(0, in_scope // 2)
    drawn = rng.randrange(1, 29)    # drawn in any case: the same claims follow
    return json.dumps({
        "claim_id": claim_id, "person_id": f"p-{person:07d}",
        "date": f"2023-{month:02d}-{day or drawn:02d}",
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


def daily_lines(count: int, people: int, late: float, seed: int = 1, day: int | None = None
                ) -> list[str]:
    """A day's claims: dated in December (on ``day`` if given), except ``late`` of them,
    dated in an earlier month: late claims.

    The measured day's claims are dated on the 28th, the day before's any day up to it:
    a claim of a person settled the day before is then not late by accident.
    """
    rng = random.Random(seed)
    lines = []
    for number in range(count):
        month = rng.randrange(1, 12) if rng.random() < late else 12
        lines.append(claim(rng, f"n{seed}-{number:07d}", rng.randrange(people), month,
                           day if month == 12 else None))
    return lines


def build_book(location: str, count: int, people: int, settled: int = 0) -> float:
    """Settle the book's claims through the settler, in transactions of 10^4 lines; the
    first ``settled`` of them are in the book already (a build that was stopped)."""
    from yibao.api import load_engine
    from yibao.audit.settle import BookSettler
    from yibao.audit.stores import open_store

    engine = load_engine(POLICY)
    start = time.perf_counter()
    lines = ((number, line) for number, line in enumerate(book_lines(count, people), 1)
             if number > settled)
    with open_store(location, create=True) as store:
        settler = BookSettler(store, engine)
        for done, _ in enumerate(settler.run(lines, 10_000), 1):
            if done % 10 == 0:
                print(f"  book: {settled + done * 10_000:,} claims, "
                      f"{time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return time.perf_counter() - start


def settled_lines(location: str, count: int, people: int) -> int:
    """How many of the book's lines a stopped build settled (transactions commit whole, in
    input order: a multiple of 10^4, the last of them in the book and the next not)."""
    import sqlite3

    db = sqlite3.connect(location, isolation_level=None)
    try:
        db.execute("BEGIN")    # one snapshot for the three reads
        done = db.execute("SELECT count(DISTINCT claim_id) FROM records").fetchone()[0]
        edge = [json.loads(line)["claim_id"] for line in
                itertools.islice(book_lines(count, people), max(done - 1, 0), done + 1)]
        held = [db.execute("SELECT 1 FROM records WHERE claim_id = ?", (claim_id,)).fetchone()
                is not None for claim_id in edge]
    finally:
        db.close()
    complete = done == count
    if (done % 10_000 and not complete) or (done and not held[0]) or \
            (not complete and held[-1]):
        raise SystemExit(f"{location}: {done} claims, not a stopped build of this book")
    return done


def compiled_bytecode() -> int:
    """The tree's bytecode written (``__pycache__``), as an installed yibao has it (pip
    compiles a package when it installs it); how many modules were compiled.

    An editable checkout gets its bytecode written on a module's first import, unless
    ``PYTHONDONTWRITEBYTECODE`` is set, as it is on these machines: then every
    ``yibao settle`` compiled the ~60 modules it imports from source, 0.09 s of the
    start-up's CPU before anything else (a 3-claim settle: 0.30 s wall [0.29–0.32]
    without, 0.21 s [0.19–0.23] with, 5 runs each, 2026-12-07) — a cost no installed
    yibao pays, on the daily run's serial path.  compileall writes the files whatever
    the variable says; a module edited since is compiled again."""
    import compileall

    packages = [entry for entry in ROOT.iterdir() if (entry / "__init__.py").is_file()
                and entry.name not in ("tests", "fuzz", "benchmarks")]
    before = sum(1 for package in packages for _ in package.rglob("__pycache__/*.pyc"))
    for package in packages:
        compileall.compile_dir(package, quiet=1)
    compileall.compile_dir(ROOT, maxlevels=0, quiet=1)    # yibao/__init__.py and the rest
    return sum(1 for package in packages for _ in package.rglob("__pycache__/*.pyc")) - before


def fresh_copy(book: str, work: str) -> None:
    """``work`` a copy of ``book``, on disk before the run starts.  Without the sync the
    kernel writes the copy's 3 GB back during the run, and every COMMIT's fsync queues
    behind it: the same daily run took 2.79 s [2.70–3.27] right after the copy and
    2.26 s once the copy was written (2026-12-07, 10^6 book).  A book in use is not a
    file copied a moment ago."""
    shutil.copyfile(book, work)
    os.sync()


def yibao(*arguments: str, timed: bool = False) -> tuple[float, dict[str, float]]:
    """(wall seconds, GNU time's figures) of one ``yibao`` process."""
    command = [sys.executable, "-m", "yibao.cli.main", *arguments]
    if timed:
        command = ["/usr/bin/time", "-f", "gnutime %U %S %M", *command]
    start = time.perf_counter()
    process = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(process.stderr[-2000:])
    figures = {}
    if timed:
        line = next(line for line in process.stderr.splitlines() if line.startswith("gnutime"))
        user, system, peak = line.split()[1:]
        figures = {"cpu": float(user) + float(system), "peak_mb": int(peak) / 1024}
    return seconds, figures


def prepare_ledgers(location: str) -> float:
    """Seconds to give a book written before the person-year table its table (docs/book.md):
    the first settle after an upgrade does it; the daily runs timed here are later ones."""
    from yibao.audit.sqlite_store import SQLiteStore

    start = time.perf_counter()
    with SQLiteStore(location) as store:
        store.prepare_ledgers()
    return time.perf_counter() - start


def write_lines(path: str, lines: list[str]) -> str:
    pathlib.Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def phases(location: str, claims: str, commit_every: int = 2000
           ) -> dict[str, tuple[float, float]]:
    """One daily run in-process, split by phase: (wall, CPU seconds) of each (a fresh copy
    of the book; ``commit_every`` as settle's default).

    CPU seconds are the process's own (``time.process_time``): on a shared machine the
    wall figure carries the load, the CPU one far less; COMMIT's fsync is wall only.
    """
    import resource

    clocks = (time.perf_counter, time.process_time)
    started = [clock() for clock in clocks]
    from yibao.audit import on_top, run_worker, settle, sqlite_store
    from yibao.audit.stores import open_store
    from yibao.audit.verify import verify_store
    from yibao.core.jsonl import read_lines, text_of
    from yibao.dsl.policy_cache import load_policy_cached

    def since(start: list[float]) -> list[float]:
        return [clock() - then for clock, then in zip(clocks, start)]

    # As `yibao settle` loads it: from the compiled cache once a run has kept it.
    engine = settle.Engine(load_policy_cached(POLICY))
    spent = {"start-up: import, load the policy (cached), build the engine": since(started)}
    # None of these calls another: each second is counted once.  The bulk path (claims
    # settled on top of their ledger, audit/on_top.py) builds its records in
    # on_top._records, and hashes and adds them in _Session._link; the general path
    # in _Session._write (the per-claim _prepare's encoding is in "the rest": it runs
    # only for a person-year flushed before a withdrawal, correction or repeat).  The
    # run's worker (audit/run_worker.py) prepares most claims in a child of its own:
    # these phases are this process's; the worker's CPU is its own row, and the time
    # spent here waiting for it (and reading its reply) another.
    timed = {"read ahead: claim heads and person-years (SQL)": [(settle._Session, "read_ahead")],
             "fold person-years read from the book": [(settle, "fold")],
             "evaluate (untraced scalar path)": [(settle.Engine, "evaluate_claim")],
             "validate claims": [(settle.Engine, "validate_line")],
             "build, encode and hash records": [(settle._Session, "_write"),
                                                (settle._Session, "_link"),
                                                (on_top, "_records")],
             "insert and commit (SQL)": [(sqlite_store._Tail, "flush")],
             "pick out and send the worker's claims (SQL reads included)": [
                 (settle._Session, "work_ahead")],
             "wait for the worker's reply, read it": [(run_worker.RunWorker, "result")]}
    for name, places in timed.items():
        spent[name] = [0.0, 0.0]
        for owner, attribute in places:
            original = getattr(owner, attribute)

            def wrapper(*args, _original=original, _name=name, **kwargs):
                start = [clock() for clock in clocks]
                try:
                    return _original(*args, **kwargs)
                finally:
                    for index, value in enumerate(since(start)):
                        spent[_name][index] += value
            setattr(owner, attribute, wrapper)
    # As `yibao settle` does: the run's worker forked before the book is opened, so that
    # it reads the book itself (settle.reading_worker).
    worker = settle.reading_worker(engine, location)
    with open_store(location) as store:
        start = [clock() for clock in clocks]
        report = verify_store(store, since=store.verified_head())
        assert report.ok, report.problem
        store.mark_verified(report.records, report.head)
        spent["verify since the last verified head"] = since(start)
        start = [clock() for clock in clocks]
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        settler = settle.BookSettler(store, engine, worker=worker)
        for lines in settler.run(read_lines(claims), commit_every):
            for entry in lines:      # the report lines, as the command writes them
                text_of(entry)
        whole = since(start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        worker = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    spent["the rest (events, ledgers, adjustments, report lines)"] = [
        whole[index] - sum(value[index] for key, value in spent.items() if key in timed)
        for index in range(2)]
    spent["all"] = since(started)
    spent["the run's worker, in its own process (CPU; its wall is the run's)"] = [0.0, worker]
    return {name: (wall, cpu) for name, (wall, cpu) in spent.items()}


# Run as ``python -c``: `yibao settle` until its first transaction reads ahead, then the
# process's own CPU seconds (the verifying child's are its own) and wall seconds.
_FIRST_READ = """
import importlib.abc, importlib.util, os, sys, time
class First(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "yibao.audit.settle":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        load = spec.loader.exec_module
        def exec_module(module):
            load(module)
            def first(*_):
                times = os.times()
                print("first-read", times.user + times.system, time.monotonic(), flush=True)
                os._exit(0)
            module._Session.read_ahead = first
        spec.loader.exec_module = exec_module
        return spec
sys.meta_path.insert(0, First())
from yibao.cli.main import main
main(sys.argv[1:])
"""


def startup(location: str, claims: str, rounds: int) -> list[tuple[float, float]]:
    """(CPU, wall) seconds of `yibao settle` from its start to its first read-ahead, each
    in a fresh process on a fresh copy of ``location`` (a small book: the verifying child
    is not what is timed, and is left to finish before the next round)."""
    found = []
    for _ in range(rounds):
        copy = location + ".startup"
        shutil.copyfile(location, copy)
        start = time.monotonic()
        process = subprocess.run([sys.executable, "-c", _FIRST_READ, "settle", str(POLICY),
                                  claims, "--book", copy, "-o", os.devnull],
                                 capture_output=True, text=True)
        line = next((line for line in process.stdout.splitlines()
                     if line.startswith("first-read")), None)
        if line is None:
            raise RuntimeError(process.stderr[-2000:])
        _, cpu, reached = line.split()
        found.append((float(cpu), float(reached) - start))
        time.sleep(0.5)      # the child's walk of a few records ends meanwhile
        for stale in (copy, copy + "-wal", copy + "-shm"):
            if os.path.exists(stale):
                os.remove(stale)
    return found


def latencies(location: str, count: int, people: int, seed: int) -> list[float]:
    from yibao.api import load_engine
    from yibao.audit.settle import BookSettler
    from yibao.audit.stores import open_store

    engine = load_engine(POLICY)
    lines = daily_lines(count, people, 0.0, seed=1000 + seed, day=28)
    found = []
    with open_store(location) as store:
        settler = BookSettler(store, engine)
        for number, line in enumerate(lines, 1):
            start = time.perf_counter()
            settler.commit([(number, line)])
            found.append(time.perf_counter() - start)
    return found


def concurrent(location: str, count: int, people: int, folder: str, seed: int) -> float:
    paths = [write_lines(os.path.join(folder, f"desk-{desk}.jsonl"),
                         daily_lines(count // 2, people, 0.01, desk, day=28))
             for desk in (2000 + seed, 3000 + seed)]
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


def postgres_url(given: str):
    """(URL of an empty database, the private server to stop or None)."""
    if given != "private":
        return given, None
    sys.path.insert(0, str(ROOT / "tests"))
    from pg_server import Server

    server = Server()
    return server.new_database("bench"), server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--book-claims", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--run-claims", type=int, default=10_000)
    parser.add_argument("--late", type=float, default=0.01)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--single", type=int, default=200)
    parser.add_argument("--folder", help="where the SQLite book is kept (default: a temp dir)")
    parser.add_argument("--reuse", action="store_true", help="reuse a book already built there")
    parser.add_argument("--continue-build", action="store_true",
                        help="a build stopped in the middle: settle the claims it had not")
    parser.add_argument("--build-only", action="store_true",
                        help="build the book (and yesterday's run), then stop")
    parser.add_argument("--postgres", nargs="?", const="private",
                        help="also PostgreSQL: an empty database URL, or none for a private "
                             "server (tests/pg_server.py)")
    parser.add_argument("--page-size", type=int,
                        help="rewrite a reused book in pages of this size first (yibao audit "
                             "repage), unless it has them")
    parser.add_argument("--seed", type=int, default=1,
                        help="the daily run's claims (another seed for another day)")
    args = parser.parse_args()
    compiled_bytecode()       # as installed: the runs do not compile yibao's modules
    folder = args.folder or tempfile.mkdtemp(prefix="yibao-book-bench-")
    os.makedirs(folder, exist_ok=True)
    book = os.path.join(folder, f"book-{args.book_claims}-{args.people}.db")
    rows = []
    if not (args.reuse and os.path.exists(book)):
        settled = 0
        if args.continue_build and os.path.exists(book):
            settled = settled_lines(book, args.book_claims, args.people)
        for stale in (book, book + "-journal", book + "-wal", book + "-shm"):
            if not settled and os.path.exists(stale):
                os.remove(stale)
        seconds = build_book(book, args.book_claims, args.people, settled)
        rows.append((f"build the book: {args.book_claims:,} claims of {args.people:,} people"
                     + (f" (continued after {settled:,})" if settled else ""),
                     f"{seconds:.0f} s",
                     f"{(args.book_claims - settled) / seconds:,.0f} claims/s"))
        # As a bureau would, nightly: one whole verification, which settle then verifies
        # on from; then yesterday's run, appended and not verified yet.
        seconds, _ = yibao("audit", "verify", book)
        rows.append(("audit verify, the whole book", f"{seconds:.0f} s",
                     f"{os.path.getsize(book) / 2**20:,.0f} MB"))
        yesterday = write_lines(os.path.join(folder, "yesterday.jsonl"),
                                daily_lines(args.run_claims, args.people, args.late, 0))
        yibao("settle", str(POLICY), yesterday, "--book", book, "-o", os.devnull)
    if args.build_only:
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    from yibao.audit.sqlite_store import page_size_of

    if args.page_size and page_size_of(book) != args.page_size:
        was = page_size_of(book)
        seconds, _ = yibao("audit", "repage", book, "--page-size", str(args.page_size))
        rows.append((f"the book rewritten in {args.page_size:,}-byte pages (were {was:,}; "
                     "audit repage, verified before and after)", f"{seconds:.0f} s",
                     f"{os.path.getsize(book) / 2**20:,.0f} MB"))
    page_size = page_size_of(book)
    rows.append(("the person-year table built (once: a book's first settle after the upgrade)",
                 f"{prepare_ledgers(book):.1f} s", ""))
    daily = write_lines(os.path.join(folder, "daily.jsonl"),
                        daily_lines(args.run_claims, args.people, args.late, args.seed, day=28))
    work = os.path.join(folder, "work.db")
    runs = []
    for _ in range(args.repeats):
        fresh_copy(book, work)       # each run verifies the same records
        seconds, figures = yibao("settle", str(POLICY), daily, "--book", work, "-o", os.devnull,
                                 timed=True)
        runs.append((seconds, figures))
    walls = [seconds for seconds, _ in runs]
    wall = median(walls)
    rows.append((f"daily run: {args.run_claims:,} claims, {args.late:.0%} late, into "
                 f"{args.book_claims:,} (SQLite, {page_size:,}-byte pages; median of "
                 f"{len(runs)}, fresh copies)",
                 f"{wall:.2f} s [{min(walls):.2f}–{max(walls):.2f}]; CPU "
                 f"{median([f['cpu'] for _, f in runs]):.2f} s; peak "
                 f"{max(f['peak_mb'] for _, f in runs):.0f} MB",
                 f"{args.run_claims / wall:,.0f} claims/s"))
    small = os.path.join(folder, "startup.db")     # a book of 20 claims, built once
    if not os.path.exists(small):
        lines = write_lines(os.path.join(folder, "startup.jsonl"),
                            daily_lines(20, args.people, 0.0, 7, day=27))
        yibao("settle", str(POLICY), lines, "--book", small, "-o", os.devnull)
    first = write_lines(os.path.join(folder, "startup-day.jsonl"),
                        daily_lines(5, args.people, 0.0, 8, day=28))
    found = startup(small, first, max(args.repeats, 5))
    rows.append((f"start-up of yibao settle to its first read-ahead (median of {len(found)})",
                 f"CPU {median([cpu for cpu, _ in found]):.3f} s",
                 f"wall {median([wall for _, wall in found]):.3f} s"))
    fresh_copy(book, work)
    for name, (wall, cpu) in phases(work, daily).items():
        rows.append((f"  phase: {name}", f"{wall:.2f} s", f"CPU {cpu:.2f} s"))
    fresh_copy(book, work)
    found = latencies(work, args.single, args.people, args.seed)
    rows.append((f"one claim, one transaction (SQLite, {page_size:,}-byte pages)",
                 f"p50 {percentile(found, 0.5) * 1000:.1f} ms",
                 f"p99 {percentile(found, 0.99) * 1000:.1f} ms"))
    if args.postgres:
        from yibao.audit.postgres_store import PostgresStore
        from yibao.audit.stores import open_store
        from yibao.audit.verify import verify_store

        url, server = postgres_url(args.postgres)
        try:
            with open_store(book) as source, PostgresStore(url, create=True) as target:
                start = time.perf_counter()
                target.copy_from(source)
                check = verify_store(target)    # as audit migrate does: settle verifies from here
                target.mark_verified(check.records, check.head)
                rows.append(("migrate the book to PostgreSQL and verify it",
                             f"{time.perf_counter() - start:.0f} s", ""))
            found = latencies(url, args.single, args.people, args.seed)
            rows.append(("one claim, one transaction (PostgreSQL)",
                         f"p50 {percentile(found, 0.5) * 1000:.1f} ms",
                         f"p99 {percentile(found, 0.99) * 1000:.1f} ms"))
            seconds = concurrent(url, args.run_claims, args.people, folder, args.seed)
            rows.append((f"two writers at once, {args.run_claims:,} claims (PostgreSQL)",
                         f"{seconds:.2f} s", f"{args.run_claims / seconds:,.0f} claims/s"))
        finally:
            if server is not None:
                server.stop()
    print(f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load average at the end "
          f"{os.getloadavg()[0]:.1f}\n")
    print("| measurement | time | rate |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
