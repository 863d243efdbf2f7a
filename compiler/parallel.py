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
text ``outcome_line`` writes in one process (tests/compiler/test_parallel.py).

Routing reads the person id from the raw line with a pattern, since decoding
whole lines here would cost what the workers save; a line the pattern cannot
read (escapes, odd layout) is decoded, and a line that is not a claim goes to
any worker — it is refused there and touches no ledger.
"""

from __future__ import annotations

import multiprocessing
import queue
import re
import threading
import traceback
from collections import deque
from typing import Iterable, Iterator

from yibao.compiler.batch import Engine, repeated_id
from yibao.compiler.claim_ids import DEFAULT_IN_MEMORY, ClaimIds
from yibao.compiler.claims import ClaimError, decode_claim_line
from yibao.compiler.ledger import Ledger
from yibao.compiler.results import outcome_line

MAX_JOBS = 255   # a line's worker is kept in a byte
CHUNK = 8192   # lines a step: fewer waits at the step boundary (4.6 s → 4.1 s at 10^5 against 2,048)
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
                        chunk: int = CHUNK) -> Iterator[Line]:
    """(text, error) for every line, in input order, settled by ``jobs`` processes."""
    if not 1 <= jobs <= MAX_JOBS:
        raise ValueError(f"jobs must be from 1 to {MAX_JOBS}")
    context = multiprocessing.get_context("fork")   # workers inherit the compiled engine
    workers, outboxes = [], []
    finished = False
    try:
        for _ in range(jobs):
            mine, theirs = context.Pipe()
            process = context.Process(target=_work, args=(theirs, engine, trace, stream),
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
        yield from _interleave(routes, [_reply(conn) for conn in conns])
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


def _interleave(routes, per_worker: list[list[Line]]) -> Iterator[Line]:
    taken = [iter(lines) for lines in per_worker]
    for worker in routes:
        yield next(taken[worker])


def _reply(conn):
    kind, value = conn.recv()
    if kind == "crash":
        raise RuntimeError(f"a settlement worker failed:\n{value}")
    return value


# ---- a worker ---------------------------------------------------------------------------
def _work(conn, engine: Engine, trace: bool, stream: bool) -> None:
    try:
        _serve(conn, engine, trace, stream)
    except (EOFError, KeyboardInterrupt):
        pass
    except BaseException:   # noqa: BLE001 - reported to the parent, which raises it
        conn.send(("crash", traceback.format_exc()))


def _serve(conn, engine: Engine, trace: bool, stream: bool) -> None:
    ledger = Ledger()   # a stream's: a sorted batch's is settle_in_date_order's
    last_date: dict = {}
    held: list = []      # a sorted batch: (date, index, claim, line) to settle at the end
    results: list = []   # a sorted batch: each line's error, or its index in ``held``
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
                for index, line_number, outcome in chunk:
                    if not isinstance(outcome, ClaimError):
                        held.append((outcome.date, index, outcome, line_number))
                        outcome = index
                    results.append(outcome)
                conn.send(("ok", None))
        elif kind == "finish":
            # Engine.evaluate_records' order, here for each person: all a ledger reads.
            settled = dict(engine.settle_in_date_order(held, trace))
            conn.send(("ok", [_line(settled[o] if isinstance(o, int) else o, trace)
                              for o in results]))


def _line(outcome, trace: bool) -> Line:
    text = outcome_line(outcome, trace)
    return text, outcome if isinstance(outcome, ClaimError) else None
