"""`yibao settle POLICY CLAIMS --book STORE`: settle into the durable book (audit/settle.py).

Each person's year continues from the claims the book already holds; late
claims, withdrawals and corrections are settled by adjustments.  Output: one
JSON line per entry written (settlement, correction, withdrawal, adjustment)
and per event that wrote nothing (already_settled, already_withdrawn, error),
each with its ``kind``; a transaction's lines are written once it has
committed.  See docs/book.md.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import sys

from yibao.backends.encodings import ClaimsFileError, utf8_claims
from yibao.cli.main import EXIT_CLAIMS_FAILED, EXIT_OK, EXIT_USAGE
from yibao.cli.outcomes import add_encoding_argument, refuse_claims_file

AUDIT_KEY = "YIBAO_AUDIT_KEY"   # set: a signed checkpoint after the run (cli/audit.py)


def register(commands) -> None:
    settle = commands.add_parser(
        "settle", help="settle claims, withdrawals and corrections into a durable book")
    settle.add_argument("policy")
    settle.add_argument("claims", nargs="?",
                        help="a .jsonl file of claims, corrections and withdrawals, or - for "
                             "stdin (may be left out with --retroactive)")
    settle.add_argument("--book", required=True, metavar="STORE",
                        help="the book: an audit store (SQLite file), created if missing")
    settle.add_argument("-o", "--output", help="write the entries to a file instead of stdout")
    settle.add_argument("--retroactive", action="store_true",
                        help="POLICY is a revision that applies to claims already settled: "
                             "settle again, under the version in force on its date, every "
                             "booked claim another version settled, with adjustments")
    settle.add_argument("--close-year", type=int, metavar="YEAR",
                        help="close YEAR in the book first: later claims, withdrawals and "
                             "corrections dated in it are refused (B107)")
    settle.add_argument("--verify-all", action="store_true",
                        help="verify the whole chain before writing, not only what was "
                             "appended since the last verification")
    settle.add_argument("--resume", action="store_true",
                        help="continue the book's latest settle run over the same input, "
                             "skipping the lines it already settled (after a crash)")
    settle.add_argument("--backend", choices=("scalar", "duckdb", "spark"), default="scalar",
                        help="only scalar: the SQL backends do not start a person's year from "
                             "the book yet, and are refused")
    # 2,000, not eval's 500: each transaction ends in a COMMIT with its fsync (≈0.04 s)
    # and reads its claims' heads and person-years in two queries, so a daily run of
    # 10^4 claims pays that 5 times rather than 20 (benchmarks/RESULTS.md, the book);
    # a transaction still holds only the person-years of its own lines.
    settle.add_argument("--commit-every", type=_positive, default=2000, metavar="N",
                        help="input lines per transaction (default 2000)")
    add_encoding_argument(settle)
    settle.set_defaults(handler=run)


class NotVerified(Exception):
    """The book's chain did not verify: what the run wrote is rolled back."""

    def __init__(self, problem):
        super().__init__(problem.message)
        self.problem = problem


class _Output:
    """``-o FILE`` (or standard output), opened when the first lines are written: after
    the first COMMIT, which waits for the verify walk's verdict, so a book refused then
    leaves an existing FILE as it was, as it did when the verdict came first."""

    def __init__(self, stack: contextlib.ExitStack, path: str | None):
        self._stack, self._path, self._out = stack, path, None

    def write(self, lines: list[dict]) -> None:
        from yibao.cli.io import output_file
        from yibao.core.jsonl import write_lines

        if self._out is None:
            self._out = self._stack.enter_context(output_file(self._path))
        write_lines(lines, self._out)
        self._out.flush()


def _verdict(ahead, store) -> None:
    """The walk's report: the head it reached marked verified (in the transaction the
    verdict lets commit), or NotVerified naming the first problem."""
    report = ahead.report(store)
    if not report.ok:
        raise NotVerified(report.problem)
    store.mark_verified(report.records, report.head)


# A claim the run's worker takes names its id, person, date and costs: no line of one is
# shorter than this, so a smaller input holds no transaction worth a worker.
_SHORTEST_CLAIM = 64


def _worth_a_worker(args) -> bool:
    """Whether the run may have a transaction the worker takes (audit/settle.py
    WORKER_FROM lines): claims to settle, transactions that large, and an input that
    can hold one (standard input: perhaps)."""
    from yibao.audit.settle import WORKER_FROM

    if args.claims is None or args.commit_every < WORKER_FROM:
        return False
    if args.claims == "-":
        return True
    try:
        return os.path.getsize(args.claims) >= WORKER_FROM * _SHORTEST_CLAIM
    except OSError:
        return False    # (reported when it is opened)


def _positive(text: str) -> int:
    import argparse

    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, found {text!r}")
    return int(text)


def run(args) -> int:
    if args.backend != "scalar":
        # The SQL backends settle a file's claims from a zero year-to-date; settling them
        # into the book would pay caps twice.  Refused until they read the book.
        print(f"yibao: --backend {args.backend} does not start each person's year from the "
              "book yet: settle --book uses the scalar evaluator; drop --backend",
              file=sys.stderr)
        return EXIT_USAGE
    if args.claims is None and not args.retroactive and args.close_year is None:
        print("yibao: settle needs CLAIMS (or --retroactive, --close-year)", file=sys.stderr)
        return EXIT_USAGE
    # A book that does not verify is not written into: its figures cannot be trusted.
    # What the last verification reached is not walked again (--verify-all does).  The
    # walk starts now, in a second process, while the policy loads and the store opens
    # (audit/verify_ahead.py); its report is awaited before the first COMMIT (on SQLite
    # in WAL mode; elsewhere before the first write), and a bad one rolls back
    # everything the run wrote: the batch, the first transaction.  The child is forked
    # once the walk's modules are imported (verify_ahead imports them: the child
    # imports nothing of its own, which would be done twice) and before the settler's
    # own modules (the book, the evaluator) and the policy are loaded, which the walk
    # does not import.
    from yibao.audit.verify_ahead import VerificationAhead

    ahead = VerificationAhead(args.book, whole=args.verify_all)
    from yibao.audit.settle import BookSettler, reading_worker
    from yibao.audit.store import AuditError
    from yibao.audit.stores import open_store
    from yibao.core.jsonl import read_lines
    from yibao.dsl.policy_cache import load_policy_cached
    from yibao.runtime.batch import Engine

    refused, worker = 0, None
    try:
        engine = Engine(load_policy_cached(args.policy))
        if _worth_a_worker(args):
            # The run's worker, forked now, before the book is opened (and before the store
            # starts a thread), so that it can read the book itself on a read-only
            # connection of its own (docs/book.md, "How a run uses two cores").
            worker = reading_worker(engine, args.book)
        with open_store(args.book, create=True) as store:
            verdict = functools.partial(_verdict, ahead, store)
            if ahead.walking:
                store.commit_after(verdict)
            else:
                verdict()       # walked here and now, before anything is written
            settler = BookSettler(store, engine, args.resume, worker=worker)
            batch = settler.batch.batch
            if settler.resumed:
                print(f"yibao: resuming batch {batch} of {args.book} after input line "
                      f"{settler.done}", file=sys.stderr)
            with contextlib.ExitStack() as stack:
                out = _Output(stack, args.output)
                closing = ([settler.close_year(args.close_year)] if args.close_year is not None
                           else [])
                revisions = settler.revise(args.commit_every) if args.retroactive else iter(())
                claims = (stack.enter_context(utf8_claims(args.claims, "jsonl", args.encoding))
                          if args.claims is not None else None)
                events = (settler.run(read_lines(claims), args.commit_every)
                          if claims is not None else iter(()))
                for lines in itertools.chain(closing, revisions, events):
                    refused += sum(entry["kind"] == "error" for entry in lines)
                    out.write(lines)
                    seqs = [entry["seq"] for entry in lines if entry.get("seq")
                            and entry["kind"] not in ("already_settled",)]
                    if seqs:
                        print(f"yibao: booked #{min(seqs)}–#{max(seqs)} (batch {batch}) in "
                              f"{args.book}", file=sys.stderr, flush=True)
                store.commit_held()     # a run that appended nothing: its batch, after the verdict
                out.write([])           # and its output, empty, as before
            if os.environ.get(AUDIT_KEY):
                # imported only then: the audit commands' module is 0.02 s of a start-up
                from yibao.cli.audit import sign_after_recording

                sign_after_recording(store)
    except ClaimsFileError as error:
        return refuse_claims_file(error)
    except NotVerified as error:
        problem = error.problem
        print(f"yibao: {problem.code} {args.book}: {problem.message}", file=sys.stderr)
        print("yibao: settle refuses to write into a book whose chain does not verify "
              "— run yibao audit verify", file=sys.stderr)
        return EXIT_USAGE
    except AuditError as error:
        hint = f" — {error.hint}" if error.hint else ""
        print(f"yibao: {error.message}{hint}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if worker is not None:
            worker.close()      # (the run closes it; not if it never began)
        ahead.close()
    if refused:
        print(f"yibao: {refused} line(s) refused; the others were settled into {args.book}",
              file=sys.stderr)
    return EXIT_CLAIMS_FAILED if refused else EXIT_OK
