"""The chain's verify status, shown on every page (a red banner when it fails).

The whole chain is walked once when the desk starts (in a background thread: a
book of 10^6 records takes minutes), then only what was appended since the
head it reached (``verify_store(since=…)``, which also checks that record is
still there with its hash and body), at most once per request.  The desk never
marks the store verified: it is read-only.
"""

from __future__ import annotations

import threading

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


class VerifyWatch:
    def __init__(self, open_store):
        self._open_store = open_store
        self._lock = threading.Lock()
        self.current = ChainStatus(PENDING)

    def start(self, background: bool = True) -> None:
        if background:
            threading.Thread(target=self.check, name="desk-verify", daemon=True).start()
        else:
            self.check()

    def check(self) -> ChainStatus:
        """Walk what is new since the last verified head (all of it the first time)."""
        with self._lock:
            current = self.current
            if current.state == FAILED:
                return current   # a failed chain stays failed until the desk restarts
            since = (current.records, current.head) if current.state == VERIFIED \
                and current.records else None
            with self._open_store() as store:
                report = verify_store(store, since=since)
            if report.ok:
                self.current = ChainStatus(VERIFIED, report.records, report.head)
            else:
                self.current = ChainStatus(FAILED, report.records, report.head,
                                           report.problem.message, report.problem.seq)
            return self.current

    def refresh(self) -> ChainStatus:
        """The status for a page: brought up to the head unless the first walk still runs."""
        if self.current.state == PENDING:
            return self.current
        return self.check()
