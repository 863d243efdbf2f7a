"""The walk ``yibao settle`` makes of a book's chain before writing, started in a second
process at once, so that it runs while the command starts (issue 22 §9, fixed costs).

``settle`` refuses to write into a book whose chain does not verify: it walks what
was appended since the last verified head (a daily run: the day before's ≈10^4
records, 0.7–1.4 s) before its first write.  The walk is Python work (decoding each
body, its index row and leaf): in a thread it would hold the interpreter lock that
loading the policy and opening the store need, so it runs in a child process with
its own connection to the store, started before the policy is loaded, and only
reads.  The parent waits for the child's report before its first write (the batch
it opens), and marks the head verified itself, as before.

The verdict is never weaker than the walk made in the process: a child that cannot
give a report (it could not be started, it died, the store could not be opened by
it — a book not created yet) leaves the walk to the parent, which makes it then.
The child is forked when the process has one thread (the command line: nothing to
copy but the imported modules), else spawned (a program with threads of its own).
"""

from __future__ import annotations

import multiprocessing
import threading

from yibao.audit.store import AuditStore
from yibao.audit.verify import VerifyReport, verify_store


class VerificationAhead:
    """:func:`verify_store` of the store at ``location`` since its verified head (the
    whole chain with ``whole``), walked in a child process started now."""

    def __init__(self, location: str, whole: bool = False):
        self.whole = whole
        self._process = None
        self._receiver = None
        try:
            context = multiprocessing.get_context(
                "fork" if threading.active_count() == 1 else "spawn")
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(target=_walk, args=(location, whole, sender),
                                      name="yibao-verify", daemon=True)
            process.start()
        except Exception:   # noqa: BLE001 - not started (no fork, no pipe): report() walks here
            return
        sender.close()
        self._process, self._receiver = process, receiver

    def report(self, store: AuditStore) -> VerifyReport:
        """The child's report, once it is in; else ``store`` (the same one, opened by the
        caller) walked now."""
        found = self._received()
        if found is not None:
            return found
        since = None if self.whole else store.verified_head()
        return verify_store(store, since=since)

    def close(self) -> None:
        """Stop the child if its report is no longer wanted (the run ended first)."""
        if self._process is not None:
            if self._process.is_alive():
                self._process.terminate()
            self._process.join()
            self._receiver.close()
            self._process = self._receiver = None

    def _received(self) -> VerifyReport | None:
        if self._receiver is None:
            return None
        try:
            found = self._receiver.recv()
            self._process.join(timeout=10)   # it ends once it has sent its report
        except (EOFError, OSError):     # the child died without a word
            found = None
        finally:
            self.close()
        return found if isinstance(found, VerifyReport) else None


def _walk(location: str, whole: bool, sender) -> None:
    """In the child: open the store to read (never to create it) and walk it."""
    from yibao.audit.stores import open_store

    report = None
    try:
        with open_store(location) as store:
            since = None if whole else store.verified_head()
            report = verify_store(store, since=since)
    except Exception:   # noqa: BLE001 - whatever stops the child, the parent walks itself
        report = None
    try:
        sender.send(report)
    finally:
        sender.close()
