"""The run's worker: a child forked once that prepares on-top person-years (issue 22 §9).

A daily run's transactions each end by preparing some two thousand on-top
person-years (audit/on_top.py: evaluating their new claims on the recorded
ledger and building their records), work that depends on nothing the chain or
the store holds.  The worker takes part of it on the machine's other core.  It
is forked once, at the first transaction large enough (``on_top.WORKER_FROM``),
so the pages it shares with the settling process are copied once, not every
transaction (a child forked per transaction was measured and dropped:
benchmarks/RESULTS.md, "The settlement book").

What it is sent is cheap to send: per person-year its key, the text of the
index entry that holds its ledger (or the ledger encoded, if this transaction
changed it) and its claims as (claim id, input line, raw line).  It decodes and
validates the claims again, evaluates, builds the records, and returns them
pickled; the settling process links them into the chain in input order, as its
own.  Same code, same inputs: the same bytes.  A worker that fails (an
exception, a signal) exits; the settling process then prepares that part itself
and uses no worker for the rest of the run.
"""

from __future__ import annotations

import os
import pickle
from typing import BinaryIO

import orjson

from yibao.audit.book import claim_object
from yibao.audit.chain import parse_body
from yibao.audit.on_top import prepare

ENTRY, LEDGER = "entry", "ledger"   # what a ledger is sent as: its entry's text, or itself


class PrepareWorker:
    """A child that prepares what it is sent (:meth:`send`, then :meth:`receive`)."""

    def __init__(self, engine, computed: frozenset[str], template):
        requests_read, requests_write = os.pipe()
        replies_read, replies_write = os.pipe()
        pid = os.fork()
        if pid == 0:   # the worker: serve until the settling process closes its end
            status = 1
            try:
                os.close(requests_write)
                os.close(replies_read)
                with os.fdopen(requests_read, "rb") as requests, \
                        os.fdopen(replies_write, "wb") as replies:
                    _serve(engine, computed, template, requests, replies)
                status = 0
            finally:
                os._exit(status)   # nothing of the settling process's is flushed or closed
        os.close(requests_read)
        os.close(replies_write)
        self.pid = pid
        self.alive = True
        self._requests = os.fdopen(requests_write, "wb")
        self._replies = os.fdopen(replies_read, "rb")

    def send(self, work: list) -> bool:
        """Send a transaction's part; False if the worker is gone."""
        if not self.alive:
            return False
        try:
            pickle.dump(work, self._requests, pickle.HIGHEST_PROTOCOL)
            self._requests.flush()
            return True
        except OSError:
            self.close()
            return False

    def receive(self) -> dict | None:
        """What the worker prepared for the last part sent; None if it failed."""
        try:
            return pickle.load(self._replies)
        except (EOFError, OSError, pickle.UnpicklingError):
            self.close()
            return None

    def close(self) -> None:
        """End the worker (it sees the end of its requests and exits) and reap it."""
        if not self.alive:
            return
        self.alive = False
        for pipe in (self._requests, self._replies):
            try:
                pipe.close()
            except OSError:
                pass
        os.waitpid(self.pid, 0)


def _serve(engine, computed: frozenset[str], template, requests: BinaryIO,
           replies: BinaryIO) -> None:
    while True:
        try:
            work = pickle.load(requests)
        except EOFError:
            return
        prepared = prepare(engine, computed, template, [
            (key, _ledger(source), [(claim_id, engine.validate_line(claim_object(raw, line)[0],
                                                                     line), line, raw)
                                    for claim_id, line, raw in claims])
            for key, source, claims in work])
        # The ledgers after stay here: the settling process does not read them again.
        pickle.dump({key: None if found is None else (None, found[1])
                     for key, found in prepared.items()}, replies, pickle.HIGHEST_PROTOCOL)
        replies.flush()


def _ledger(source: tuple[str, str | bytes]) -> dict:
    kind, text = source
    return parse_body(text)["ledger_after"] if kind == ENTRY else orjson.loads(text)
