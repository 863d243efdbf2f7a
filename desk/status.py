"""The chain's verify status, shown on every page (a red banner when it fails).

When the desk starts it walks the chain from the head the book last verified
(``store.verified_head()``: what ``yibao settle`` and ``yibao audit verify``
reached, as ``settle`` itself verifies from it), in a background thread; with
``--verify-all`` (``verify_all``) from the first record: a walk of a book of
10^6 records takes minutes.  Then, at most once per request, only what
was appended since the head it reached.  Each walk from a head
(``verify_store(since=…)``) first checks that record is still there with its
hash and body.  The desk never marks the store verified: it is read-only.
"""

from __future__ import annotations

import threading
from contextlib import nullcontext

import attrs

from yibao.audit.verify import verify_store

PENDING, VERIFIED, FAILED = "pending", "verified", "failed"


@attrs.frozen
class ChainStatus:
    state: str                 # PENDING while the first walk runs, then VERIFIED or FAILED
    records: int = 0           # records that verified, from the first
    head: str = ""             # hash of the last of them
    problem: str = ""          # the first problem, in verify's words
    problem_seq: int = 0
    since: int = 0             # the records up to this one were verified before the desk
                               # started (the book's verified head; 0: all walked here)


class VerifyWatch:
    def __init__(self, open_store, verify_all: bool = False):
        self._open_store = open_store
        self._verify_all = verify_all
        self._lock = threading.Lock()
        self.current = ChainStatus(PENDING)

    def start(self, background: bool = True) -> None:
        if background:
            threading.Thread(target=self.check, name="desk-verify", daemon=True).start()
        else:
            self.check()

    def check(self, store=None) -> ChainStatus:
        """Walk what is new since the last verified head (all of it the first time), on
        ``store`` (a request's open connection) or a connection of its own."""
        with self._lock:
            current = self.current
            if current.state == FAILED:
                return current   # a failed chain stays failed until the desk restarts
            with nullcontext(store) if store is not None else self._open_store() as store:
                if current.state == VERIFIED:
                    since = (current.records, current.head) if current.records else None
                    start = current.since
                else:   # the first walk
                    since = None if self._verify_all else store.verified_head()
                    start = since[0] if since else 0
                    self.current = ChainStatus(PENDING, since=start)
                report = verify_store(store, since=since)
            if report.ok:
                self.current = ChainStatus(VERIFIED, report.records, report.head, since=start)
            else:
                self.current = ChainStatus(FAILED, report.records, report.head,
                                           report.problem.message, report.problem.seq, start)
            return self.current

    def refresh(self, store=None) -> ChainStatus:
        """The status for a page: brought up to the head unless the first walk still runs."""
        if self.current.state == PENDING:
            return self.current
        return self.check(store)
