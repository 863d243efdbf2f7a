"""The walk ``yibao settle`` makes of a book's chain before writing, started in a second
process at once, so that it runs while the command starts (issue 22 §9, fixed costs).

``settle`` refuses to write into a book whose chain does not verify: it walks what
was appended since the last verified head (a daily run: the day before's ≈10^4
records, 0.7–1.4 s) before its first write.  The walk is Python work (decoding each
body, its index row and leaf): in a thread it would hold the interpreter lock that
loading the policy and opening the store need, so it runs in a child process with
its own connection to the store, started before the policy is loaded, and only
reads.  The parent waits for the child's report before its first COMMIT, not its
first write (``AuditStore.commit_after``): on SQLite in WAL mode the child reads the
chain as committed while the parent opens its batch, reads ahead, settles and
writes its first transaction, which is committed with the head marked verified if
the chain verifies and rolled back if not.  Elsewhere the report is awaited before
the first write, as before.

The verdict is never weaker than the walk made in the process: a child that cannot
give a report (it could not be started, it died, the store could not be opened by
it — a book not created yet) leaves the walk to the parent, which makes it then, on
a connection of its own when the child had been started (the parent's may hold its
first transaction by then, which the walk must not read as part of the chain).
The child is forked (``os.fork``, a pipe for its report: importing multiprocessing
would cost 0.05 s of the start-up this saves) and only when the process has one
thread, as the command line's has: a program with threads of its own may hold a
lock in one of them that the child would never see released, so there the walk is
made in the process, as before.
"""

from __future__ import annotations

import os
import pickle
import signal
import threading

# Imported here, before the fork: the child walks with them (no import of its own).  They
# import nothing of the evaluator's or the parser's (audit/book_index.py,
# dsl/source_digest.py), so the fork comes early in the start-up and the walk runs on
# the core that importing and loading the policy leave idle.
from yibao.audit import verify
from yibao.audit.store import AuditStore
from yibao.audit.stores import open_store
from yibao.audit.verify import VerifyReport


class VerificationAhead:
    """:func:`verify_store` of the store at ``location`` since its verified head (the
    whole chain with ``whole``), walked in a child process started now."""

    def __init__(self, location: str, whole: bool = False):
        self.location, self.whole = location, whole
        self.walking = False    # a child was started: its report can wait until a COMMIT
        self._child: int | None = None
        self._report_from: int | None = None    # the pipe's end the report comes from
        if threading.active_count() != 1 or not hasattr(os, "fork"):
            return                      # report() walks in this process
        try:
            readable, writable = os.pipe()
        except OSError:
            return
        try:
            child = os.fork()
        except OSError:
            os.close(readable)
            os.close(writable)
            return
        if child == 0:                  # the child: walk, write the report, never return
            try:
                os.close(readable)
                _walk(location, whole, writable)
            finally:
                os._exit(0)
        os.close(writable)
        self._child, self._report_from = child, readable
        self.walking = True

    def report(self, store: AuditStore) -> VerifyReport:
        """The child's report, once it is in; else ``store`` (the same one, opened by the
        caller) walked now, or, if the child was started and died, the store walked on a
        connection of its own (``store`` may hold uncommitted writes by then)."""
        found = self._received()
        if found is not None:
            return found
        if self.walking:
            with open_store(self.location) as own:
                return _verified(own, self.whole)
        return _verified(store, self.whole)

    def close(self) -> None:
        """Stop the child if its report is no longer wanted (the run ended first)."""
        if self._child is None:
            return
        try:
            os.kill(self._child, signal.SIGTERM)
        except OSError:
            pass                        # it has ended already
        self._reap()

    def _reap(self) -> None:
        try:
            os.waitpid(self._child, 0)
        except ChildProcessError:
            pass
        os.close(self._report_from)
        self._child = self._report_from = None

    def _received(self) -> VerifyReport | None:
        if self._child is None:
            return None
        chunks = []
        try:
            while chunk := os.read(self._report_from, 1 << 16):
                chunks.append(chunk)
            # Our own child's pickle (this very program, forked): not a file from outside.
            found = pickle.loads(b"".join(chunks))
        except Exception:   # noqa: BLE001 - nothing or half a report: the child died
            found = None
        finally:
            self._reap()
        return found if isinstance(found, VerifyReport) else None


def _walk(location: str, whole: bool, writable: int) -> None:
    """In the child: open the store to read (never to create it), walk it, and write
    the report (or None: the parent then walks itself) to ``writable``."""
    report = None
    try:
        with open_store(location) as store:
            report = _verified(store, whole)
    except Exception:   # noqa: BLE001 - whatever stops the child, the parent walks itself
        report = None
    with os.fdopen(writable, "wb") as out:
        out.write(pickle.dumps(report))


def _verified(store: AuditStore, whole: bool) -> VerifyReport:
    return verify.verify_store(store, since=None if whole else store.verified_head())
