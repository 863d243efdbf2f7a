"""A transaction's plain on-top claims, prepared by the run's worker ahead of the settling
process (issue 22 §9: a daily run on both cores).

Most lines of a daily run are new claims of a person-year whose recorded ledger is
current, dated on or after its last claim, and named by no other line of their
transaction: settled on top of that ledger (audit/on_top.py), they depend on
nothing but the ledger and themselves.  The settling process picks them out as
soon as it has read a transaction's lines (``_Session.work_ahead``, routing by
the three strings it needs: claim id, person id and date) and sends them to the
run's worker (audit/run_worker.py): per person-year its ledger and its claims as
they were received.  The worker is the only one to decode and validate them
(with the same decoder and checks as the settling process:
``book.claim_object``, ``Engine.validate_line``), evaluates them and builds
their records but for the chain's fields (:func:`prepare_sent`); the settling
process meanwhile routes, reads and settles everything else, then links the
records into the chain in input order as its own.

A claim the worker refuses while validating it is sent back as its error line,
which the settling process puts where it would have reported it (the claim's
place in the transaction's input order); one refused by the evaluator, where
the general path would report it (with its person-year's settlements).
"""

from __future__ import annotations

from typing import Callable

import attrs

from yibao.audit.book import SETTLEMENT, claim_object
from yibao.audit.on_top import PersonYearKey, prepare
from yibao.audit.sqlite_store import SQLiteStore
from yibao.audit.store import BookEntry
from yibao.core.jsonl import dumps
from yibao.runtime.claims import ClaimError

# Per person-year: (its key, its entries from its latest ledger on — each as the text of
# its index entry and of its record's body where the store read it (BookEntry.body: the
# ledger's, which a lean entry leaves there) — or None: the worker reads them itself
# (:class:`BookReads`); the earliest date of its new claims, its claims as (claim id,
# input line, raw)).
Request = list[tuple[PersonYearKey, "list[tuple] | None", str,
                     list[tuple[str, int, "bytes | str"]]]]
# (The chain's head (seq, hash) in the snapshot the worker read the entries in, None if it
# was sent them; per person-year: (on_top.Prepared's items, or None where the worker
# declines it: not on top of a current ledger, or a value the template cannot write; and
# the claims refused while validating them: (claim id, line, error JSON))).
Reply = tuple["tuple[int, str] | None",
              dict[PersonYearKey, tuple["list | None", list[tuple[str, int, dict]]]]]


class BookReads:
    """The worker's own read-only connection to the book, opened at its first request.

    The worker must be forked before the settling process opens the book, while no
    thread runs (``yibao settle`` forks it once the policy is loaded): a child forked
    from a process that has the book open inherits SQLite's process-wide state as it
    was then — a mutex the store's checkpointing thread held, the parent's file locks —
    and may wait in ``connect`` for ever (benchmarks/probe_fork_sqlite.py).  In WAL
    mode its reads never wait for the settling process, which holds the write lock
    meanwhile, and it reads the book as last committed: each request in one snapshot
    whose chain head it reports, so that the settling process can tell whether that is
    the book it settles into (settle._Session._from_worker)."""

    def __init__(self, location: str):
        self.location = location
        self._store = None

    def tails(self, keys: set[PersonYearKey], shas: frozenset[str]
              ) -> tuple[tuple[int, str] | None, dict[PersonYearKey, list[BookEntry]]]:
        """(head, each person-year's entries from its ledger on), read in one snapshot;
        none when a policy text the store holds is not one of the run's chain (as
        settle._Session._tails) or the book cannot be read (declined: read again by the
        settling process)."""
        try:
            if self._store is None:
                self._store = SQLiteStore(self.location, read_only=True)
            with self._store.snapshot() as head:
                if not {sha for sha, _ in self._store.sources()} <= shas:
                    return head, {}
                return head, self._store.book_tails(keys)
        except Exception:   # noqa: BLE001 - any failure to read only declines the request
            return None, {}


def prepare_sent(engine, computed: frozenset[str],
                 current_ledger: Callable[[list[BookEntry]], dict | None],
                 reads: BookReads | None, shas: frozenset[str], request: Request) -> Reply:
    """The worker's job: each person-year's ledger read from its entries (``current_ledger``:
    settle._current_ledger; entries not sent are read here, ``reads``), and if its new
    claims all come after it, the claims decoded, validated and settled on it, their
    records built (on_top.prepare)."""
    seen, read = None, {}
    unsent = {key for key, entries, _, _ in request if entries is None}
    if unsent:
        seen, read = reads.tails(unsent, shas) if reads is not None else (None, {})
    work, refused, declined, records = [], {}, {}, {}
    for key, entries, earliest, claims in request:
        # What settle._Session._tails decides, here rather than in the settling process.
        if entries is None:
            found = read.get(key)
            ledger = current_ledger(found) if found else None
        else:
            ledger = current_ledger([BookEntry(0, None, entry, body) for entry, body in entries])
        if ledger is None or (ledger["claims"] and ledger["claims"][-1][1] > earliest):
            declined[key] = (None, [])
            continue
        waiting = []
        for claim_id, line, raw in claims:
            try:
                record, _ = claim_object(raw, line)
                waiting.append((claim_id, engine.validate_line(record, line), line, raw))
                records[line] = record
            except ClaimError as error:
                refused.setdefault(key, []).append((claim_id, line, error.to_json()))
        work.append((key, ledger, waiting))
    # (template None: the records are sent as what makes them, assembled by the settling
    # process with its run's template, on_top.assemble)
    prepared = prepare(engine, computed, None, work, assembled=False)
    return seen, {key: declined[key] if key in declined else
                  (None if prepared[key] is None
                   else _with_report_lines(prepared[key][1], records), refused.get(key, []))
                  for key, _, _, _ in request}


# A settlement's report line (settle._Session._link) up to its seq, which only the settling
# process knows: the worker writes the rest of its text.
REPORT_HEAD = '{"kind": "%s", "seq": ' % SETTLEMENT


def _with_report_lines(items: list, records: dict[int, dict]) -> list:
    """Each settlement's pieces with its report line's text after the seq (core/jsonl
    ``Encoded``): encoded here, not by the settling process."""
    found = []
    for claim_id, line, pieces, error in items:
        if pieces is not None:
            record = records[line]
            _, payable, _, identity, alerts, referrals = pieces
            text = dumps({"kind": SETTLEMENT, "seq": None, "claim_id": claim_id,
                          "person_id": record["person_id"], "date": record["date"],
                          "identity": identity, "payouts": payable, "alerts": alerts,
                          "referrals": referrals, "line": line})
            pieces = (*pieces, text[len(REPORT_HEAD) + len("null"):])
        found.append((claim_id, line, pieces, error))
    return found


@attrs.define
class Ahead:
    """A transaction's lines sent to the worker: what the settling process keeps of them."""

    chunk: list                                   # the transaction's lines, as given
    lines: dict[int, tuple[PersonYearKey, dict, str]]   # line → (key, record, claim id)
    keys: set[PersonYearKey]                      # their person-years
    # Per request (RunWorker.submit's ticket): its person-years, and the chain heads of
    # the snapshots the worker may have read it in that are the book this transaction
    # settles into (settle.BookSettler.commit): a reply read in another is declined whole.
    tickets: list[tuple[int, set[PersonYearKey], set[tuple[int, str]]]]
    kept: set[PersonYearKey]                      # the worker's, kept back (the balance)
    # (seq, hash) of the chain's head when what was read is known to be current: None
    # while it was read inside the transaction itself; the head after the transaction
    # that read it, otherwise (another writer in between: not current, dropped).
    head: tuple[int, str] | None = None
    # line → the JSON object read of each line not sent (None: one that names nothing),
    # so that the look again at them (work_ahead's ``sent``) does not decode them again.
    looked: dict[int, dict | None] = attrs.field(factory=dict)
