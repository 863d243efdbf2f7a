"""Settling a claims file in several processes (``yibao eval --jobs N``), to the same text.

Year-to-date figures are per person, so people can be settled apart: each
line goes to the worker its person id hashes to, and every claim of a person
meets the same ledger, in the same order, as in one process.  Only one thing
crosses people: a repeated claim id is refused anywhere in the batch (C312),
and which copy came first depends on which copies are valid.  So each chunk
of lines takes two steps: the workers decode and validate their lines and
report the ids they admitted; this process decides C312 in input order, as
``Engine._admit`` does; then the workers settle what was not refused and
send back each line's JSON text.  Lines come out in input order, each the
text ``outcome_line`` writes in one process (tests/runtime/test_parallel.py).

A sorted batch (no ``--stream``) is settled whole at the end, each worker's
claims in date order, so its memory is bounded on disk, not in lists: a
worker holds at most ``hold`` admitted claims in memory and sorts the rest
into runs in temporary files, merged back in (date, input) order; each
settled line's text goes to a temporary file as it is made, and the lines go
back in input order a chunk at a time, so neither a worker nor this process
ever holds the batch's results (issue 21: 6.6 GB over the processes for
10^6 claims before, benchmarks/bench_batch.py measures it now).

Routing reads the person id from the raw line with a pattern, since decoding
whole lines here would cost what the workers save; a line the pattern cannot
read (escapes, odd layout) is decoded, and a line that is not a claim goes to
any worker — it is refused there and touches no ledger.
"""

from __future__ import annotations

import heapq
import multiprocessing
import os
import pickle
import queue
import re
import tempfile
import threading
import traceback
from array import array
from collections import deque
from typing import Iterable, Iterator

from yibao.runtime.batch import Engine, repeated_id
from yibao.runtime.claim_ids import DEFAULT_IN_MEMORY, ClaimIds
from yibao.runtime.claims import ClaimError, decode_claim_line
from yibao.runtime.ledger import Ledger
from yibao.runtime.results import outcome_line

MAX_JOBS = 255   # a line's worker is kept in a byte
CHUNK = 8192   # lines a step: fewer waits at the step boundary (4.6 s → 4.1 s at 10^5 against 2,048)
# A sorted batch: admitted claims a worker keeps in memory (≈ 3.5 KB each, decoded
# record included) before it sorts them into a run on disk.  Below it nothing is
# spilled and nothing is slower; above it a claim costs a pickle and an unpickle.
HOLD = 100_000
RUN_BATCH = 512   # claims pickled together in a run: one merge buffer per run
_PERSON = re.compile(rb'"person_id"\s*:\s*"([^"\\]*)"')
Line = tuple[str, "ClaimError | None"]   # a result's JSON text, and its error if refused


def route(raw: bytes, jobs: int, line_number: int | None = None) -> int:
    """The worker of a line: by its person id's UTF-8 bytes, however the line spells it.

    A line the pattern cannot read is decoded as a worker will decode it, so both
    see the same id; a line that does not decode is refused wherever it goes."""
    found = _PERSON.search(raw)
    if found is not None:
        return hash(found.group(1)) % jobs
    try:
        person = decode_claim_line(raw, line_number).get("person_id")
    except ClaimError:
        return 0
    if not isinstance(person, str):
        return 0
    return hash(person.encode("utf-8")) % jobs


def settle_in_processes(engine: Engine, records: Iterable[tuple[int, bytes]], jobs: int,
                        trace: bool = False, stream: bool = False,
                        ids_in_memory: int = DEFAULT_IN_MEMORY,
                        chunk: int = CHUNK, hold: int = HOLD) -> Iterator[Line]:
    """(text, error) for every line, in input order, settled by ``jobs`` processes."""
    if not 1 <= jobs <= MAX_JOBS:
        raise ValueError(f"jobs must be from 1 to {MAX_JOBS}")
    context = multiprocessing.get_context("fork")   # workers inherit the compiled engine
    workers, outboxes = [], []
    finished = False
    try:
        for _ in range(jobs):
            mine, theirs = context.Pipe()
            process = context.Process(target=_work,
                                      args=(theirs, engine, trace, stream, chunk, hold),
                                      daemon=True)
            process.start()
            theirs.close()
            workers.append((process, mine))
        # Threads only once every worker is forked: a fork copies no thread, but it
        # would copy a lock one of them held.
        outboxes.extend(_Outbox(conn) for _, conn in workers)
        yield from _drive([conn for _, conn in workers], outboxes, records, jobs, stream,
                          ids_in_memory, chunk)
        finished = True
    finally:
        # Stopped early (the reader closed the lines, an error, ^C): a worker may be
        # in the middle of a long reply nobody will read, so it is stopped, not asked;
        # a send to it then fails at once and its outbox's thread ends.
        for process, _ in workers:
            if not finished:
                process.kill()
        for outbox in outboxes:
            outbox.close()
        for process, conn in workers:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
            conn.close()


def _drive(conns, outboxes, records, jobs: int, stream: bool, ids_in_memory: int,
           chunk: int) -> Iterator[Line]:
    """Admission runs a chunk ahead: a worker's messages are admit 0, admit 1, settle 0,
    admit 2, settle 1, … so that while this process decides chunk k's C312 and writes
    chunk k−1's lines, each worker settles or admits, never waiting for the other
    worker or for this process.  Replies come back in the same order.  Messages go
    out through a thread per worker: a worker may be sending a long reply while
    this process sends it the next chunk, and neither side may wait on the other."""
    routes = bytearray()   # a sorted batch: every line's worker, for the end
    waiting: deque[bytes] = deque()   # the routes of chunks sent to admit, oldest first
    sent_lines = 0

    def admit_next() -> None:
        nonlocal sent_lines
        sent = _send_admit(outboxes, next(chunks, None), jobs, sent_lines)
        if sent is not None:
            waiting.append(sent)
            sent_lines += len(sent)
            if not stream:
                routes.extend(sent)

    with ClaimIds(ids_in_memory) as seen:
        chunks = _chunks(records, chunk)
        admit_next()
        admit_next()
        settling = None   # the chunk whose settlement is asked for and not yet read
        while waiting:
            current = waiting.popleft()
            admitted = [_reply(conn) for conn in conns]
            for outbox, positions in zip(outboxes, _repeated(current, admitted, seen, jobs)):
                outbox.put(("settle", positions))
            admit_next()
            if settling is not None:
                yield from _settled(conns, settling, stream)
            settling = current
        if settling is not None:
            yield from _settled(conns, settling, stream)
    if not stream:
        for outbox in outboxes:
            outbox.put(("finish", None))
        yield from _interleave(routes, [_replies(conn) for conn in conns])
    for outbox in outboxes:
        outbox.put(("close", None))


def _settled(conns, routes: bytes, stream: bool) -> Iterator[Line]:
    """Read a chunk's settlement: its lines when streaming (a sorted batch's come at
    the end)."""
    settled = [_reply(conn) for conn in conns]
    if stream:
        yield from _interleave(routes, settled)


def _send_admit(outboxes, lines, jobs: int, first: int) -> bytes | None:
    """Route a chunk's lines to the workers; their routes, or None after the last chunk."""
    if lines is None:
        return None
    routes = bytes([route(raw, jobs, line_number) for line_number, raw in lines])
    shares: list[list] = [[] for _ in outboxes]
    for index, ((line_number, raw), worker) in enumerate(zip(lines, routes), first):
        shares[worker].append((index, line_number, raw))
    for outbox, share in zip(outboxes, shares):
        outbox.put(("admit", share))
    return routes


def _repeated(routes: bytes, admitted: list[list], seen: ClaimIds, jobs: int) -> list[list[int]]:
    """C312 in input order, as one process decides it: each worker's refused positions."""
    refused: list[list[int]] = [[] for _ in range(jobs)]
    taken = [0] * jobs
    for worker in routes:
        position = taken[worker]
        taken[worker] += 1
        claim_id = admitted[worker][position]
        if claim_id is not None and not seen.add(claim_id):
            refused[worker].append(position)
    return refused


class _Outbox:
    """Sends a worker its messages, in order, from a thread of its own."""

    def __init__(self, conn):
        self.conn = conn
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def put(self, message) -> None:
        self.queue.put(message)

    def _run(self) -> None:
        while (message := self.queue.get()) is not None:
            try:
                self.conn.send(message)
            except OSError:   # the worker is gone: _reply reports why
                return

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=5)


def _chunks(records, size: int):
    lines = []
    for record in records:
        lines.append(record)
        if len(lines) == size:
            yield lines
            lines = []
    if lines:
        yield lines


def _interleave(routes, per_worker: list[Iterable[Line]]) -> Iterator[Line]:
    taken = [iter(lines) for lines in per_worker]
    for worker in routes:
        yield next(taken[worker])


def _replies(conn) -> Iterator[Line]:
    """A sorted batch's lines from one worker, read a chunk at a time as they are taken:
    the worker sends its chunks in order, and waits on a full pipe until they are."""
    while True:
        yield from _reply(conn)


def _reply(conn):
    kind, value = conn.recv()
    if kind == "crash":
        raise RuntimeError(f"a settlement worker failed:\n{value}")
    return value


# ---- a worker ---------------------------------------------------------------------------
def _work(conn, engine: Engine, trace: bool, stream: bool, chunk: int, hold: int) -> None:
    try:
        _serve(conn, engine, trace, stream, chunk, hold)
    except (EOFError, KeyboardInterrupt):
        pass
    except BaseException:   # noqa: BLE001 - reported to the parent, which raises it
        conn.send(("crash", traceback.format_exc()))


def _serve(conn, engine: Engine, trace: bool, stream: bool, chunk_size: int, hold: int) -> None:
    ledger = Ledger()   # a stream's: a sorted batch's is _settle_held's
    last_date: dict = {}
    held = _Held(hold)   # a sorted batch: (date, position, claim, line) to settle at the end
    results: list = []   # a sorted batch: each line's error, or None for a claim held
    admitted: deque = deque()   # chunks admitted, not yet settled: (index, line, outcome)
    while True:
        kind, value = conn.recv()
        if kind == "close":
            return
        if kind == "admit":
            chunk = []
            admitted.append(chunk)
            for index, line_number, raw in value:
                try:
                    outcome = engine.validate_line(raw, line_number)
                except ClaimError as error:
                    outcome = error
                chunk.append((index, line_number, outcome))
            conn.send(("ok", [None if isinstance(o, ClaimError) else o.claim_id
                              for _, _, o in chunk]))
        elif kind == "settle":
            chunk = admitted.popleft()
            for position in value:
                index, line_number, claim = chunk[position]
                chunk[position] = (index, line_number, repeated_id(claim.claim_id, line_number))
            if stream:
                lines = []
                for _, line_number, outcome in chunk:   # in input order: a person's dates
                    if not isinstance(outcome, ClaimError):
                        outcome = engine.settle_next(outcome, line_number, ledger, last_date,
                                                     trace)
                    lines.append(_line(outcome, trace))
                conn.send(("ok", lines))
            else:
                for _, line_number, outcome in chunk:
                    if not isinstance(outcome, ClaimError):
                        # The position among this worker's lines orders as the index does.
                        held.add((outcome.date, len(results), outcome, line_number))
                        outcome = None
                    results.append(outcome)
                conn.send(("ok", None))
        elif kind == "finish":
            with tempfile.TemporaryFile() as texts:
                spans, refused = _settle_held(engine, held, trace, len(results), texts)
                for start in range(0, len(results), chunk_size):
                    conn.send(("ok", [_line(o, trace) if o is not None
                                      else _read_line(texts, spans, refused, p)
                                      for p, o in enumerate(results[start:start + chunk_size],
                                                            start)]))


def _settle_held(engine: Engine, held: "_Held", trace: bool, count: int, texts):
    """Settle a sorted batch's claims in Engine.settle_in_date_order's order — date, then
    input order, all a person's ledger reads — writing each line's text to ``texts``.
    (start, end) of each position's text in ``texts``, and the claims refused while
    settling (C311), by position."""
    ledger = Ledger()
    spans = array("q", bytes(16 * count))   # start, end of position p at 2p, 2p + 1
    refused: dict[int, ClaimError] = {}
    offset = 0
    for _, position, claim, line_number in held.in_order():
        outcome = engine.settle_line(claim, ledger, trace, line_number)
        if isinstance(outcome, ClaimError):
            refused[position] = outcome
        data = outcome_line(outcome, trace).encode("utf-8")
        texts.write(data)
        spans[2 * position], spans[2 * position + 1] = offset, offset + len(data)
        offset += len(data)
    texts.flush()
    held.close()
    return spans, refused


def _read_line(texts, spans, refused: dict, position: int) -> Line:
    start, end = spans[2 * position], spans[2 * position + 1]
    return os.pread(texts.fileno(), end - start, start).decode("utf-8"), refused.get(position)


class _Held:
    """A sorted batch's admitted claims, given back in (date, position) order.  At most
    ``limit`` stay in memory; each time that many are held they are sorted into a run
    in a temporary file, and the runs are merged when the batch is settled."""

    def __init__(self, limit: int):
        self.limit = limit
        self.memory: list = []
        self.runs: list = []

    def add(self, item) -> None:
        self.memory.append(item)
        if len(self.memory) >= self.limit:
            self.runs.append(_spill(sorted(self.memory, key=_order)))
            self.memory = []

    def in_order(self) -> Iterator:
        self.memory.sort(key=_order)
        if not self.runs:
            return iter(self.memory)
        return heapq.merge(self.memory, *map(_run_items, self.runs), key=_order)

    def close(self) -> None:
        for run in self.runs:
            run.close()
        self.runs, self.memory = [], []


def _order(item):
    return item[0], item[1]


def _spill(items: list):
    run = tempfile.TemporaryFile()
    for start in range(0, len(items), RUN_BATCH):
        pickle.dump(items[start:start + RUN_BATCH], run, pickle.HIGHEST_PROTOCOL)
    run.seek(0)
    return run


def _run_items(run) -> Iterator:
    while True:
        try:
            batch = pickle.load(run)
        except EOFError:
            return
        yield from batch


def _line(outcome, trace: bool) -> Line:
    text = outcome_line(outcome, trace)
    return text, outcome if isinstance(outcome, ClaimError) else None
