"""`yibao settle`: claims, withdrawals and corrections settled into the book.

Each input line is an *event*: a claim (new, a repeat, or a correction marked
``"correction": true``) or a withdrawal ``{"claim_id": ID, "withdraw": true}``.
Events are applied in input order, in transactions of ``commit_every`` lines;
inside one, each person-year touched is read from the book once (its entries,
by the store's person-year index) and kept while the transaction lasts, so
the writes of one transaction see each other and nothing another writer
committed in between is missed (the transaction holds the store's write lock
from its first read: SQLite ``BEGIN IMMEDIATE``).

A new claim waits with its person-year's other new claims until the end of
the transaction (or until a withdrawal or correction of that person-year), so
claims arriving together are settled together in date order, as one run of
``eval`` would: no adjustment arises between claims of the same run unless
one of them is dated before a claim already in the book.  Then the
person-year is settled again whole (:func:`yibao.audit.book.resettle`) and:

- each new claim gets a ``settlement`` entry with what it pays;
- each booked claim whose pay changes gets an ``adjustment`` per line, the
  delta between its net so far and its new figure, ``caused_by`` the first
  new claim settled before it (a late claim);
- a withdrawal or correction gets its own entry, then adjustments caused by it
  (the withdrawn claim's own lines go to zero).

Repeats are no-ops reported as ``already_settled`` (a claim equal to any text
the id has had: re-running an input settles nothing twice) or
``already_withdrawn``.  Refusals (codes B101–B107, and the claim codes C3xx)
are reported in place and write nothing; the other events go on.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import gc
import hashlib
import re
import time
from decimal import Decimal
from typing import Callable, Iterable, Iterator

import attrs
import orjson

from yibao import ENGINE_VERSION
from yibao.audit.book import (ADJUSTMENT, BOOK_MODE, CLOSURE, CORRECTION, CORRECTION_MARK,
                              EVERYONE, PAID_OUT, RECOVERED, REVISION, SETTLEMENT, WITHDRAWAL,
                              BookedClaim, claim_object, computed_lines, fold, is_book_entry,
                              latest_state, ledger_from, money_map, resettle,
                              settlement_order, state_of)
from yibao.audit.book_index import index_entry
from yibao.audit.chain import RECORD_FORMAT, link, refuse_floats
from yibao.audit.on_top import PersonYearKey, Prepared, assemble, prepare_on_top
from yibao.audit.run_worker import RunWorker
from yibao.audit.run_worker import available as run_worker_available
from yibao.audit.work_ahead import REPORT_HEAD, Ahead, BookReads, prepare_sent
from yibao.audit.policies import policy_chain, policy_key
from yibao.audit.record import utc_now
from yibao.audit.settlement_template import (SettlementTemplate, chain_fields,
                                             encode)
from yibao.audit.store import Appending, AuditError, AuditStore, BookEntry, ClaimHead, StoredRecord
from yibao.audit.stores import is_database_url
from yibao.runtime.batch import Engine
from yibao.runtime.claims import ClaimError
from yibao.runtime.evaluate import ClaimResult
from yibao.runtime.ledger import Ledger
from yibao.runtime.results import outcome_to_json
from yibao.core.jsonl import Encoded
from yibao.core.money import ZERO, format_money

# Book refusals: the event is reported with the code and nothing is written.
DIFFERENT_CLAIM = "B101"     # another claim under a booked id, without the correction marker
UNKNOWN_WITHDRAWAL = "B102"  # withdrawing an id the book does not hold
UNKNOWN_CORRECTION = "B103"  # correcting an id the book does not hold
MOVED_CORRECTION = "B104"    # a correction naming another person or year than the booked claim
BAD_EVENT = "B105"           # a withdrawal line or correction marker not in the agreed form
OTHER_POLICY = "B106"        # a claim of the person-year was settled under a version this
                             # policy chain does not hold


CLOSED_YEAR = "B107"         # the event would write into a year the book has closed

# A transaction of at least this many lines has its plain on-top claims prepared by the
# run's worker (audit/work_ahead.py), forked by the first such transaction: below it,
# a run (a single claim, a desk's few) pays for no fork and no second pass over its
# lines.  Measured: benchmarks/RESULTS.md, "The settlement book".
WORKER_FROM = 256
# What moving one claim between the worker and the settling process changes in the time
# between them: the worker's cost of one claim plus the settling process's (≈ 190 and
# ≈ 110 µs, measured in-process: benchmarks/RESULTS.md, "The settlement book").
_CLAIM_BOTH_SIDES = 300e-6
# A transaction whose claims are sent only once it has begun (the run's first) has the
# worker start late by construction: this process keeps this share of them, which it
# settles while the worker settles the rest (≈ 110 against ≈ 190 µs a claim).  Was 0.4:
# 0.3, with _START_SHARE 0.15, ran a daily run (10^4 claims into 10^6, 2,000 a
# transaction; 2026-12-07, load 1.1–1.4, bytecode compiled) in 2.17 s against 0.4 and
# 0.15's 2.21 s and 0.4 and 0.3's 2.32 s wall (medians of interleaved runs, 7–12 each).
# Since the book lists its person-years in a table (no index's leaves to rewrite) a
# claim costs this process less, and the balance moved its share up from 15% after
# every transaction (≈ 300 → 620 of 2,000, waiting 0.05–0.12 s for the worker each
# time): 0.4 and 0.3 ran the daily run in 1.885 s against 0.3 and 0.15's 1.92 (14
# interleaved runs, faster in 10; benchmarks/RESULTS.md, ninth pass).
_OWN_SHARE = 0.4
# A transaction whose claims were sent while the one before ran (the worker starts with
# this process) before any has been balanced (_balance): this process keeps this share of
# them.  Starting from none left it waiting 0.2–0.5 s for the worker in a daily run's
# second transaction (10^4 claims, 2,000 a transaction).  From 30% the balance moved the
# share kept down after every transaction, the worker idle 0.09–0.19 s before its
# requests, to ≈ 300 of ≈ 2,000 or fewer by the fifth (2026-12-07); from 15% it starts
# there: 2.21 s against 2.28 s wall (medians of 5 interleaved runs); from 5%, 2.30 s
# against 15%'s 2.20 s (4 each), the settling process waiting for the worker again;
# 30% since the person-year table (above).
_START_SHARE = 0.3
# A request of more claims than this is sent in parts of about this many, in the order
# their person-years are first named, so that this process links the first part's
# records while the worker prepares the rest (flush_all) instead of waiting for one
# whole reply: the worker's share of a daily run's transaction (≈ 1,300 of 2,000) in
# three parts.
_PART = 450
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")   # as admission reads a date


class Refused(Exception):
    def __init__(self, error: ClaimError):
        self.error = error


class BookSettler:
    """Settles a run's events into ``store``; one batch of the chain per run."""

    # How many of a transaction's claims the worker could take this process keeps, so
    # that neither waits for the other (moved after each transaction: _balance); None
    # until the first is balanced (_START_SHARE).
    keep: int | None = None

    def __init__(self, store: AuditStore, engine: Engine, resume: bool = False,
                 clock: Callable[[], str] = utc_now, worker: RunWorker | None = None):
        """``worker``: the run's worker, forked before ``store`` was opened, that reads the
        book itself (:func:`reading_worker`); without one, a worker is forked by the first
        large transaction, and this process reads what it sends it."""
        self.store, self.engine, self.clock = store, engine, clock
        self.chain, texts = policy_chain(engine.loaded)
        self.policy_key = policy_key(self.chain)
        self.versions = {(ref.policy_id, ref.sha256) for ref in self.chain}
        self.shas = frozenset(ref.sha256 for ref in self.chain)
        # How an entry names each of them (_current_ledger), written once for the run.
        self.applied = tuple(f'{_APPLIED}{sha}"' for sha in self.shas)
        # What every settlement names of the chain, built once (not per claim).
        self.policy_refs = [ref.to_json() for ref in self.chain]
        self.sha_of = {ref.policy_id: ref.sha256 for ref in reversed(self.chain)}
        self.computed = computed_lines(engine)          # the lines the book pays
        self.computed_order = sorted(self.computed)
        # What every record of this run says the same way: written once, not per record.
        self.constant = {"mode": BOOK_MODE, "engine_version": ENGINE_VERSION}
        self.position = 0   # records of this batch written so far
        if worker is not None and not getattr(store, "wal", False):
            # Its reads could wait for this process's write transaction, which waits for
            # its replies: a worker forked by the first large transaction instead.
            worker.close()
            worker = None
        self._worker: RunWorker | None = worker   # else forked by the first large transaction
        # Whether the worker reads each person-year's entries itself (BookReads), on a
        # connection of its own, rather than being sent them.
        self._worker_reads = worker is not None
        self._ahead: Ahead | None = None        # the next transaction's, sent already
        self.done = 0       # input lines already settled (resuming: by the interrupted run)
        batch = self._resumable() if resume else None
        self.resumed = batch is not None
        self.batch = batch or store.open_batch(BOOK_MODE, ENGINE_VERSION, self.policy_key,
                                               clock(), texts)
        self.template = SettlementTemplate(self.batch.batch, self.policy_refs, self.policy_key,
                                           self.sha_of)
        if self.resumed:
            # Transactions commit in input order, so the lines an interrupted run
            # settled are those up to the last one its entries name; a line after it
            # in the same transaction wrote nothing, and would write nothing again.
            for record in store.records(self.batch.batch):
                self.position = max(self.position, record.position)
                self.done = max(self.done, record.data["input_line"])

    def _resumable(self):
        latest = self.store.latest_batch()
        if latest is None or latest.mode != BOOK_MODE:
            return None
        if latest.policy_key != self.policy_key:
            raise AuditError(f"cannot resume batch {latest.batch}: it was settled under other "
                             "policy texts", "run without --resume")
        return latest

    def run(self, lines: Iterable[tuple[int, bytes | str]], commit_every: int = 500
            ) -> Iterator[list[dict]]:
        """Each transaction's report lines, yielded once it has committed."""
        chunks = self._chunks(lines, commit_every)
        try:
            following = next(chunks, None)
            while following is not None:
                # The transaction after this one is read from the input before this one
                # commits: its plain on-top claims go to the worker meanwhile (commit).
                chunk, following = following, next(chunks, None)
                yield self._commit_without_collection(chunk, following)
        finally:
            self.close_worker()

    def _chunks(self, lines: Iterable[tuple[int, bytes | str]], commit_every: int
                ) -> Iterator[list[tuple[int, bytes | str]]]:
        chunk: list[tuple[int, bytes | str]] = []
        for numbered in lines:
            if numbered[0] <= self.done:
                continue
            chunk.append(numbered)
            if len(chunk) >= commit_every:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _commit_without_collection(self, chunk: list[tuple[int, bytes | str]],
                                   following: list | None) -> list[dict]:
        with _without_cyclic_collection():
            # (commit's session is freed when it returns, before the collector runs again)
            return self.commit(chunk, following, with_worker=True)

    def worker(self) -> RunWorker | None:
        """The run's worker (audit/run_worker.py): the one given (reading_worker), or one
        forked by the first transaction that has work for it; None where the system
        cannot run one (run_worker.available) or it is gone."""
        if self._worker is None and run_worker_available():
            self._worker = RunWorker(_worker_job(self.engine, None))
        # (one that died or was given up on is sent nothing more: this process settles)
        return self._worker if self._worker is not None and self._worker.alive else None

    def _balance(self, waited: float, idle: float, ahead: float = 0.0) -> None:
        """After a transaction: the share kept here moved by what one side waited for the
        other.  Waiting for the worker (it had more to do, or no core to do it on: a
        busy machine) keeps more here; the worker idle before a request, or its last
        reply ready ``ahead`` of being read (the worker had the next transaction's
        request in hand by then, so it was never idle), gives it more."""
        moved = (waited - idle - ahead) / _CLAIM_BOTH_SIDES
        self.keep = max(0, int((self.keep or 0) + moved / 2))   # halved: the next one may differ

    def close_worker(self) -> None:
        self._ahead = None
        if self._worker is not None:
            self._worker.close()
            self._worker = None

    def revise(self, commit_every: int = 500) -> Iterator[list[dict]]:
        """Apply this run's policy chain retroactively to every person-year of the book.

        A claim settled under another version than the one this chain puts in
        force on its date is settled again under that one (a ``revision`` entry),
        and every claim of its person-year whose pay changes is adjusted.
        """
        from yibao.audit.book_replay import book_person_years

        keys = book_person_years(self.store)
        for start in range(0, len(keys), commit_every):
            with self.store.appending() as tail:
                session = _Session(self, tail)
                for key in keys[start:start + commit_every]:
                    session.revise(key)
            self.position = session.position
            yield session.report

    def close_year(self, year: int) -> list[dict]:
        """Close ``year``: a ``closure`` entry; later events of that year are refused (B107)."""
        with self.store.appending() as tail:
            session = _Session(self, tail)
            closed = session.closed(year)
            if closed is not None:
                session.report.append({"kind": "already_closed", "year": year, "seq": closed})
            else:
                seq = session._write((EVERYONE, year), {"kind": CLOSURE, "claim_id": None,
                                                       "input_line": 0})
                session.report.append({"kind": CLOSURE, "seq": seq, "year": year})
        self.position = session.position
        return session.report

    def commit(self, chunk: list[tuple[int, bytes | str]], following: list | None = None,
               with_worker: bool = False) -> list[dict]:
        """One transaction of ``chunk``'s lines; its report lines.

        ``with_worker`` (a run's transactions, not a single commit's): the chunk's plain
        on-top claims are prepared by the run's worker (audit/work_ahead.py), sent as
        soon as they are read; and those of ``following``, the next transaction's lines,
        are picked out and sent before this one links its records, so that the worker
        prepares them while this transaction writes and commits.  What was read for
        them then is current only if nothing but this transaction wrote in between: the
        next transaction checks that the chain's head is still this one's last record,
        and reads again otherwise.
        """
        ahead, self._ahead = self._ahead, None
        with self.store.appending() as tail:
            if ahead is not None and (ahead.chunk is not chunk
                                      or ahead.head != (tail.seq, tail.hash)):
                for ticket, _, _ in ahead.tickets:    # another writer came in between
                    self._worker.drop(ticket)
                ahead = None
            session = _Session(self, tail, following if with_worker else None)
            if ahead is None and with_worker:
                ahead = session.work_ahead(chunk)
            elif ahead is not None:
                # The lines left then, looked at again now the transaction before has
                # committed (what it wrote is read now): the worker's are sent too.
                more = session.work_ahead(chunk, sent=ahead)
                if more is not None:
                    ahead.lines.update(more.lines)
                    ahead.keys |= more.keys
                    ahead.tickets += more.tickets
            session.read_ahead(chunk, ahead)
            for line, raw in chunk:
                session.apply(line, raw)
            session.flush_all()
        if self._ahead is not None:
            self._ahead.head = (tail.seq, tail.hash)
            for _, _, heads in self._ahead.tickets:
                heads.add(self._ahead.head)   # (the worker may read after this commit)
        self.position = session.position
        return session.report


def reading_worker(engine: Engine, location: str) -> RunWorker | None:
    """The run's worker for the book at ``location``, forked now — before the caller opens
    the book, while no thread runs — so that it can read the book on a connection of its
    own (work_ahead.BookReads), which a worker forked later cannot do safely
    (benchmarks/probe_fork_sqlite.py); give it to :class:`BookSettler`.  None where no
    worker can run here (run_worker.available) or the book is not an SQLite file."""
    if is_database_url(location) or not run_worker_available():
        return None
    return RunWorker(_worker_job(engine, BookReads(location)))


def _worker_job(engine: Engine, reads: BookReads | None) -> Callable:
    """The worker's job (work_ahead.prepare_sent) for ``engine``'s policy chain: what it
    needs of the run is the engine alone, so it can be made before the book is open."""
    chain, _ = policy_chain(engine.loaded)
    shas = frozenset(ref.sha256 for ref in chain)
    applied = tuple(f'{_APPLIED}{sha}"' for sha in shas)
    return functools.partial(prepare_sent, engine, computed_lines(engine),
                             functools.partial(_current_ledger, applied=applied), reads, shas)


class _Session:
    """One transaction: the person-years it touched, its pending new claims, its report."""

    def __init__(self, settler: BookSettler, tail: Appending, following: list | None = None):
        self.settler, self.tail = settler, tail
        # The chain's head as the transaction began: the book as last committed, while it
        # holds the write lock (what the worker may read meanwhile: work_ahead).
        self.start_head = (tail.seq, tail.hash)
        # The next transaction's lines: their plain on-top claims are sent to the run's
        # worker before this one links its records (flush_all); None: no worker.
        self.following = following
        self.ahead: Ahead | None = None   # this transaction's lines the worker prepares
        self.refusals: dict[int, dict] = {}   # line → its error, refused by the worker
        self.engine, self.store = settler.engine, settler.store
        self.now = settler.clock()
        self.template = settler.template
        self.recorded_at = encode(self.now)   # (the clock's ISO text: orjson writes it)
        self.position = settler.position
        self.years: dict[PersonYearKey, dict[str, BookedClaim]] = {}
        self.pending: dict[PersonYearKey, list[tuple[BookedClaim, int, bytes | str]]] = {}
        self.where: dict[str, PersonYearKey] = {}        # claim id → person-year, as read
        self.foreign: dict[PersonYearKey, ClaimError] = {}  # person-years of other policies
        self._closures: dict[int, int | None] = {}   # year → seq of its closure, if closed
        self.states: dict[PersonYearKey, dict | None] = {}  # the ledger after each, if known
        # Read ahead for the whole transaction, two queries in all (read_ahead): each
        # claim id's head in the chain, and the entries of each person-year named.
        self.heads: dict[str, ClaimHead] = {}
        self.looked_up: set[str] = set()
        self.read: dict[PersonYearKey, list[BookEntry]] = {}
        # person-year → its current ledger, read from the ledger on (_tails), not whole
        self.tails: dict[PersonYearKey, dict] = {}
        self.decoded: dict[int, tuple[dict, object] | ClaimError] = {}   # line → claim_object
        self.ledger_only: set[PersonYearKey] = set()   # read as their ledger only (_open_year)
        # (person-year, ledger after the event): goes into the event's first entry
        self._state_to_write: tuple[PersonYearKey, dict] | None = None
        self.report: list[dict] = []
        self.paid: dict[int, tuple] = {}   # id(outcome) → (outcome, amounts, as written)

    # ---- events -----------------------------------------------------------------------
    def read_ahead(self, chunk: list[tuple[int, bytes | str]], ahead: Ahead | None = None
                   ) -> None:
        """What the chunk's events will read, in two queries rather than a few per event.

        Read inside the transaction (after the write lock), so it is what the events
        would have read one by one; the entries this transaction writes are kept in
        ``years`` and never read back.  The lines sent to the worker (``ahead``) were
        read when they were picked out (work_ahead): not again.
        """
        ids, keys = set(), set()
        earliest: dict[PersonYearKey, str] = {}   # the earliest date of its new claims
        self.ahead = ahead
        early = ahead.lines if ahead is not None else {}
        for line, raw in chunk:
            if line in early:
                continue
            try:
                record, marker = self.decoded[line] = claim_object(raw, line)
            except ClaimError as error:
                self.decoded[line] = error
                continue
            claim_id, person, date = (record.get(k) for k in ("claim_id", "person_id", "date"))
            if isinstance(claim_id, str):
                ids.add(claim_id)
            if isinstance(person, str) and isinstance(date, str) and date[:4].isdigit():
                key = (person, int(date[:4]))
                keys.add(key)
                keys.add((EVERYONE, int(date[:4])))   # the year's closure, if any
                earliest[key] = min(date, earliest.get(key, date))
        self.heads = self.store.claim_heads(ids)
        # (the worker's claims were looked up then: no record names them)
        self.looked_up = ids | {claim_id for _, _, claim_id in early.values()}
        booked = {head.person_year for head in self.heads.values() if head.person_year}
        self.tails = self._tails(set(earliest) - booked, earliest)
        self.read = self.store.book_records_of(keys - set(self.tails) | booked)

    def _tails(self, keys: set[PersonYearKey], earliest: dict[PersonYearKey, str]
               ) -> dict[PersonYearKey, dict]:
        """The person-years whose new claims all come after their recorded ledger, read
        from that ledger on (the store's ledger pointer), not whole: a daily run's own.

        Only when every policy text the store holds is one of this chain's: then no
        entry before the ledger can name a version the chain lacks (B106; verify
        checks that every version a record names is in the store), which reading
        whole would otherwise check.  A person-year left out is read whole, as before;
        a wrong guess here costs a read, never a result: ``_open_year`` decides.
        """
        if not keys or not {sha for sha, _ in self.store.sources()} <= self.settler.shas:
            return {}
        tails = {}
        for key, entries in self.store.book_tails(keys).items():
            state = _current_ledger(entries, self.settler.applied)
            if state is not None and (not state["claims"]
                                      or state["claims"][-1][1] <= earliest[key]):
                tails[key] = state
        return tails

    def work_ahead(self, chunk: list[tuple[int, bytes | str]],
                   written: tuple[set, set] = (frozenset(), frozenset()),
                   sent: Ahead | None = None) -> Ahead | None:
        """The chunk's plain on-top claims picked out and sent to the run's worker
        (audit/work_ahead.py), or None if there are too few.

        A line is the worker's when it is a claim (no withdrawal, no correction marker)
        whose claim id, person id and date are strings, the date as admission reads one
        (so its year is its first four characters, and dates compare as text), and
        its person-year is one the worker can settle alone: every line of the chunk
        that names it (by person and year, or by a booked claim id) is such a claim,
        under an id no other line names and the book does not hold; it has a
        recorded ledger (the store's ledger pointer) and its year is not closed.  Its
        entries from that ledger on are read by the worker itself (a worker forked
        before the book was opened: BookReads) or read here and sent, and the worker
        decides what ``_tails`` would (a ledger recorded and current, its claims dated
        no later than the new ones): a person-year it declines comes back to this
        process (_reclaim).
        ``written``: the person-years and claim ids of the transaction that
        reads this (the one before the chunk's), which will have written them by the
        time the chunk's transaction runs: the chunk's lines that name them are left
        to it, read then.  Any doubt leaves a line to the settling process, which
        settles it as it would have without a worker.

        ``sent``: what was sent for the chunk while the transaction before ran; then
        the chunk's other lines are looked at again, now that it has committed (the
        person-years it wrote, a tenth of a daily run's), and those the worker can
        take are sent too, but for those kept back then (the balance).
        """
        if sent is not None:
            chunk = [numbered for numbered in chunk if numbered[0] not in sent.lines]
        elif len(chunk) < WORKER_FROM:
            return None
        written_keys, written_ids = written
        blocked = set(written_keys) | (sent.kept if sent is not None else set())
        candidates: dict[PersonYearKey, list] = {}
        named: dict[str, int] = {}    # claim id → lines naming it
        # line → what was read of it (None: nothing it names), kept for the look again
        # once the transaction before has committed: each line is decoded here once.
        looked = sent.looked if sent is not None else {}
        read: dict[int, dict | None] = {}
        for line, raw in chunk:
            record = looked[line] if line in looked else _named_by(line, raw)
            read[line] = record
            if record is None:
                continue     # reported by the settling process; it names nothing
            claim_id = record.get("claim_id")
            if type(claim_id) is str:
                named[claim_id] = named.get(claim_id, 0) + 1
            person, date = record.get("person_id"), record.get("date")
            if type(person) is not str or type(date) is not str or not _ISO_DATE.fullmatch(date):
                continue
            key = (person, int(date[:4]))
            if type(claim_id) is str and "withdraw" not in record \
                    and CORRECTION_MARK not in record:
                candidates.setdefault(key, []).append((line, raw, record, claim_id, date))
            else:
                blocked.add(key)
        heads = self.store.claim_heads(named)
        blocked.update(head.person_year for head in heads.values() if head.person_year)
        earliest: dict[PersonYearKey, str] = {}
        for key, found in candidates.items():
            if key in blocked:
                continue
            if any(named[claim_id] > 1 or claim_id in heads or claim_id in written_ids
                   for _, _, _, claim_id, _ in found):
                blocked.add(key)
                continue
            earliest[key] = min(date for _, _, _, _, date in found)
        if not earliest:
            return None
        reads = self.settler._worker_reads
        if reads:
            # The worker reads their entries itself, and checks the store's policy texts
            # (BookReads): here only whether their years are closed (one small read).
            tails = dict.fromkeys(earliest)
        else:
            # As _tails: only when every policy text the store holds is one of this chain's.
            if not {sha for sha, _ in self.store.sources()} <= self.settler.shas:
                return None
            tails = self.store.book_tails(set(earliest))
        closures = self.store.book_records_of({(EVERYONE, year) for _, year in tails})
        tails = {key: entries for key, entries in tails.items()
                 if not closures.get((EVERYONE, key[1]))}
        eligible = sum(len(candidates[key]) for key in tails)
        if sent is not None:
            keep = 0     # (kept back when the rest was sent)
        elif written_keys or written_ids:
            keep = self.settler.keep
            if keep is None:
                keep = self.settler.keep = int(eligible * _START_SHARE)
        else:
            keep = max(self.settler.keep or 0, int(eligible * _OWN_SHARE))
        if eligible - keep < (WORKER_FROM // 16 if sent is not None else WORKER_FROM // 2):
            return None
        worker = self.settler.worker()
        if worker is None:
            return None
        lines, request = {}, []
        # The settling process keeps its share (_balance): the last person-years named.
        kept = set()
        for key in reversed(candidates):
            if keep <= 0:
                break
            if key in tails:
                kept.add(key)
                keep -= len(candidates[key])
        for key, found in candidates.items():    # in the order they are first named
            if key not in tails or key in kept:
                continue
            entries = tails[key]
            request.append((key, None if reads else [(entry.entry, entry.body) for entry in entries],
                            earliest[key],
                            [(claim_id, line, raw) for line, raw, _, claim_id, _ in found]))
            for line, _, record, claim_id, _ in found:
                lines[line] = (key, record, claim_id)
        keys = {key for key, _, _, _ in request}
        # The snapshots the worker may read in that are this transaction's book: the
        # head now (this process holds the write lock: nothing else commits) — and when
        # sent for the next transaction, the head this one's commit makes (BookSettler
        # .commit adds it; it checks then that no other writer came in between).
        tickets = [(worker.submit(part, claims), {key for key, _, _, _ in part},
                    {self.start_head}) for part, claims in _parts(request)]
        return Ahead(chunk, lines, keys, tickets,
                     kept, looked={line: record for line, record in read.items()
                                   if line not in lines})

    def apply(self, line: int, raw: bytes | str) -> None:
        if self.ahead is not None and line in self.ahead.lines:
            self._claim_early(line, raw, *self.ahead.lines[line])
            return
        try:
            decoded = self.decoded.pop(line, None)
            if isinstance(decoded, ClaimError):
                raise decoded
            record, marker = decoded if decoded is not None else claim_object(raw, line)
            if "withdraw" in record:
                self._withdraw(line, record)
            else:
                self._claim(line, raw, record, marker)
        except ClaimError as error:
            self.report.append({"kind": "error", **error.to_json()})
        except Refused as refused:
            self.report.append({"kind": "error", **_with_line(refused.error, line).to_json()})

    def _claim(self, line: int, raw, record: dict, marker) -> None:
        if marker not in (None, True):
            raise Refused(ClaimError(BAD_EVENT, _text_id(record), "correction",
                                     f"the correction marker must be true, found {marker!r}",
                                     'mark a corrected claim with "correction": true', line))
        claim = self.engine.validate_line(record, line)
        key = (claim.person_id, claim.date.year)
        where = self._locate(claim.claim_id)
        if where is None:
            if marker:
                raise Refused(ClaimError(
                    UNKNOWN_CORRECTION, claim.claim_id, "claim_id",
                    f"claim {claim.claim_id} is not in the book: there is nothing to correct",
                    'submit it without "correction" to settle it as a new claim', line))
            self._refuse_if_closed(key[1], claim.claim_id, line)
            booked = BookedClaim(claim.claim_id, None, record, claim, None, None,
                                 texts=[record], policy_key=self.settler.policy_key)
            self._open_year(key)[claim.claim_id] = booked
            self.where[claim.claim_id] = key
            self.pending.setdefault(key, []).append((booked, line, raw))
            return
        self._flush_if_pending(where)
        booked = self._year(where)[claim.claim_id]
        if not marker:
            if booked.has_had(record):
                self.report.append(_already(booked, line))
                return
            raise Refused(ClaimError(
                DIFFERENT_CLAIM, claim.claim_id, "claim_id",
                f"the book holds a different claim {claim.claim_id} (record #{booked.seq})",
                'to replace it, mark the new one "correction": true; otherwise give it '
                "a new claim id", line))
        if where != key:
            raise Refused(ClaimError(
                MOVED_CORRECTION, claim.claim_id, "person_id" if where[0] != key[0] else "date",
                f"claim {claim.claim_id} is booked for {where[0]} in {where[1]}; a correction "
                f"cannot move it to {key[0]} in {key[1]}",
                "withdraw it, then submit the corrected claim under a new claim id", line))
        if booked.live and record == booked.text:
            self.report.append(_already(booked, line))
            return
        self._refuse_if_closed(key[1], claim.claim_id, line)
        self._correct(where, booked, raw, record, claim, line)

    def _claim_early(self, line: int, raw, key: PersonYearKey, record: dict, claim_id: str
                     ) -> None:
        """A claim the worker prepares (work_ahead): booked as new, not validated here.
        Its place in the report is kept: a refusal while validating it goes there."""
        claims = self.years.get(key)
        if claims is None:
            claims = self.years[key] = {}
        booked = _Sent(claim_id, record)     # (a BookedClaim if it comes back: _reclaim)
        claims[claim_id] = booked
        self.where[claim_id] = key
        self.pending.setdefault(key, []).append((booked, line, raw))
        self.report.append(_Refusal(line))

    def _withdraw(self, line: int, record: dict) -> None:
        claim_id = record.get("claim_id")
        if set(record) - {"claim_id", "withdraw", "reason"} or record["withdraw"] is not True \
                or not isinstance(claim_id, str):
            raise Refused(ClaimError(
                BAD_EVENT, claim_id if isinstance(claim_id, str) else None, "withdraw",
                "a withdrawal is {\"claim_id\": ID, \"withdraw\": true} (and an optional "
                "\"reason\"), nothing else", "a claim never has a withdraw field", line))
        where = self._locate(claim_id)
        if where is None:
            raise Refused(ClaimError(UNKNOWN_WITHDRAWAL, claim_id, "claim_id",
                                     f"claim {claim_id} is not in the book: there is nothing to "
                                     "withdraw", "check the claim id", line))
        self._flush_if_pending(where)
        claims = self._year(where)
        booked = claims[claim_id]
        if not booked.live:
            self.report.append({"kind": "already_withdrawn", "claim_id": claim_id,
                                "line": line})
            return
        self._refuse_if_closed(where[1], claim_id, line)
        self._ready(where)
        booked.live = False
        results, state = self._resettle(where)
        self._begin_event(where, state)
        reason = record.get("reason")
        fields = {"kind": WITHDRAWAL, "claim_id": claim_id, "input_line": line,
                  "withdraws": {"seq": booked.seq, "hash": booked.hash}}
        if isinstance(reason, str):
            fields["reason"] = reason
        seq = self._write(where, fields)
        self.report.append({"kind": WITHDRAWAL, "seq": seq, "claim_id": claim_id,
                            "person_id": where[0], "year": where[1], "line": line})
        self._adjust(where, results, lambda _: {"claim_id": claim_id, "kind": WITHDRAWAL}, line)

    def _correct(self, key: PersonYearKey, booked: BookedClaim, raw, record: dict, claim,
                 line: int) -> None:
        self._ready(key)
        saved = (booked.text, booked.claim, booked.live, booked.policy, booked.raw)
        # A corrected claim is a new submission: the version in force on its date.
        booked.text, booked.claim, booked.live, booked.policy = record, claim, True, None
        booked.raw = _as_text(raw)
        results, state = self._resettle(key)
        outcome = results[booked.claim_id].outcome
        if isinstance(outcome, ClaimError):
            booked.text, booked.claim, booked.live, booked.policy, booked.raw = saved
            raise Refused(_with_line(outcome, line))
        self._begin_event(key, state)
        fields = {"kind": CORRECTION, "claim_id": booked.claim_id, "input_line": line,
                  "corrects": {"seq": booked.seq, "hash": booked.hash},
                  **self._settled_fields(booked, raw, results, state)}
        seq = self._write(key, fields)
        booked.seq, booked.hash = seq, self.tail.hash
        booked.policy = (fields["policy_id"], fields["policy_sha256"])
        booked.texts.append(record)
        self.report.append(_settled_line(CORRECTION, seq, booked, fields))
        self._adjust(key, results, lambda _: {"claim_id": booked.claim_id, "kind": CORRECTION},
                     line)

    # ---- settling a person-year -------------------------------------------------------
    def flush_all(self) -> None:
        """Every pending person-year, in the order they were first named.

        Those settled on top of their recorded ledger (a daily run's) are prepared all
        at once (evaluated, their records encoded but for the chain's fields:
        audit/on_top.py, which depends on nothing the chain holds) and then linked into
        the chain (_link); the others, and any the template cannot write, the general
        way (_settle_and_book).  Those the run's worker prepared (work_ahead) are
        waited for, after the next transaction's have been sent to it, and linked in
        their place among the others.
        """
        keys = list(self.pending)
        early = self.ahead.keys if self.ahead is not None else ()
        if self.following is not None:
            # The next transaction's plain claims, sent now: the worker prepares them
            # while this one links, writes and commits (BookSettler.commit).
            self.settler._ahead = self.work_ahead(self.following, (
                set(self.years) | set(self.states) | set(self.read),
                self.looked_up | set(self.where) | set(self.heads)))
        prepared = prepare_on_top(self, [key for key in keys
                                         if key not in early and self._on_top(key)])
        # Each request's reply is read when the first of its person-years is reached:
        # the records before it are linked meanwhile (_PART).
        waiting = list(self.ahead.tickets) if self.ahead is not None else []
        part_of = {key: index for index, (_, sent, _) in enumerate(waiting) for key in sent}
        replies = _Replies()
        for key in keys:
            while replies.read < len(waiting) and part_of.get(key, -1) >= replies.read:
                prepared.update(self._reply(waiting[replies.read], replies))
            found = prepared.get(key)
            if found is not None:
                self._link(key, found)
            elif key in self.pending:
                self._settle_and_book(key)
        while replies.read < len(waiting):      # (none left: every key was reached)
            self._reply(waiting[replies.read], replies)
        if self.ahead is not None:
            if self.ahead.head is not None:
                # (not for a transaction whose claims were sent once it had begun: the
                # worker starts late by construction; its share is _OWN_SHARE)
                self.settler._balance(replies.waited, replies.idle or 0.0, replies.ahead)
            # Each claim the worker took has its place in the report: its refusal, or
            # nothing (its settlement is with its person-year's, as any other's).
            self.report = [self.refusals.get(entry.line) if type(entry) is _Refusal
                           else entry for entry in self.report]
            self.report = [entry for entry in self.report if entry is not None]

    def _reply(self, request: tuple, replies: _Replies) -> dict[PersonYearKey, Prepared]:
        """One request's reply (waited for) as prepare_on_top's; the person-years the
        worker declined, or could not answer, read and prepared here (_reclaim)."""
        ticket, sent, heads = request
        worker, declined = self.settler._worker, []
        started = time.perf_counter()
        reply = worker.result(ticket)
        replies.waited += time.perf_counter() - started
        if replies.read == 0:
            replies.idle = worker.idle       # (how long it waited for the first request)
        replies.ahead = worker.ready_for     # (the last one read counts)
        replies.read += 1
        prepared = {}
        if reply is None or (reply[0] is not None and reply[0] not in heads):
            # The worker gone (or given up on), or what it read is not this
            # transaction's book (another writer committed before its snapshot):
            # every person-year of the request is settled here.
            declined += [key for key in sent if key in self.pending]
        else:
            prepared = self._from_worker(reply[1], declined)
        if declined:
            self._reclaim(declined)
            prepared.update(prepare_on_top(self, [key for key in declined
                                                  if key in self.pending
                                                  and self._on_top(key)]))
        return prepared

    def _from_worker(self, reply: dict, declined: list[PersonYearKey]
                     ) -> dict[PersonYearKey, Prepared]:
        """The worker's reply (work_ahead.prepare_sent) as prepare_on_top's: the claims it
        refused while validating them taken out of their person-year (as if they had
        been refused in _claim); a person-year it declined (not on top of its ledger,
        or a value the template cannot write) added to ``declined``, to be taken back
        (_reclaim)."""
        prepared = {}
        for key, (items, refused) in reply.items():
            for claim_id, line, error in refused:
                self._refused(key, claim_id, line, error)
            if key not in self.pending:
                continue     # (every claim refused)
            if items is not None:
                prepared[key] = (None, items)
            else:
                declined.append(key)
        return prepared

    def _reclaim(self, keys: list[PersonYearKey]) -> None:
        """Person-years the worker declined, made what _claim would have made of their
        claims: read now, in one query (nothing else in the transaction named them),
        their claims decoded and validated here; flush_all then settles them here."""
        unread = [key for key in keys if key not in self.read]
        if unread:
            self.read.update(self.store.book_records_of(unread))
        for key in keys:
            self._reclaim_one(key)

    def _reclaim_one(self, key: PersonYearKey) -> None:
        del self.years[key]
        claims = self._open_year(key)
        waiting = self.pending[key] = [
            (BookedClaim(early.claim_id, None, early.text, None, None, None,
                         texts=[early.text], policy_key=self.settler.policy_key), line, raw)
            for early, line, raw in self.pending[key]]
        for booked, line, raw in waiting:
            claims[booked.claim_id] = booked
            try:
                record, _ = claim_object(raw, line)
                booked.claim = self.engine.validate_line(record, line)
            except ClaimError as error:
                self._refused(key, booked.claim_id, line, error.to_json())
                continue
            booked.text, booked.texts = record, [record]

    def _refused(self, key: PersonYearKey, claim_id: str, line: int, error: dict) -> None:
        """A claim the worker took, refused while validating it: reported at its place."""
        self.refusals[line] = {"kind": "error", **error}
        self._unbook(key, claim_id)

    def _unbook(self, key: PersonYearKey, claim_id: str) -> None:
        del self.years[key][claim_id]
        del self.where[claim_id]
        waiting = [entry for entry in self.pending[key] if entry[0].claim_id != claim_id]
        if waiting:
            self.pending[key] = waiting
        else:
            del self.pending[key]

    def _flush_if_pending(self, key: PersonYearKey) -> None:
        """Before a withdrawal, correction or repeat: the person-year's new claims first."""
        if key in self.pending:
            self._flush(key)

    def _on_top(self, key: PersonYearKey) -> bool:
        """Whether the person-year's new claims all come after its recorded ledger (and
        that ledger is current): then they are settled on top of it, the lean way."""
        return self._after_every_booked_claim(key, [booked for booked, _, _ in self.pending[key]])

    def _flush(self, key: PersonYearKey) -> None:
        """Settle a person-year's pending new claims together; book them and the adjustments."""
        if self._on_top(key):
            prepared = prepare_on_top(self, [key]).get(key)
            if prepared is not None:
                self._link(key, prepared)
                return
        self._settle_and_book(key)

    def _settle_and_book(self, key: PersonYearKey) -> None:
        """_flush's general way: settled on top or again whole, booked by _write."""
        waiting = self.pending.pop(key)
        # Their settlements are written first, in input order: their seqs are their arrival.
        next_seq = self.tail.seq + 1
        for index, (booked, _, _) in enumerate(waiting):
            booked.arrival = next_seq + index
        new = {booked.claim_id for booked, _, _ in waiting}
        on_top = self._after_every_booked_claim(key, [booked for booked, _, _ in waiting])
        if on_top:
            results, state = self._settle_on_top(key, [booked for booked, _, _ in waiting])
        else:
            self._ready(key)
            results, state = self._resettle(key)
        if any(isinstance(results[c].outcome, ClaimResult) for c in new):
            self._begin_event(key, state)
        claims = self.years[key]   # whole, unless settled on top of its recorded ledger
        written = 0
        for booked, line, raw in waiting:
            outcome = results[booked.claim_id].outcome
            if isinstance(outcome, ClaimError):
                # Refused by the evaluator (e.g. C311): it never touched the ledger, so
                # the others' figures are those of a settlement without it.
                del claims[booked.claim_id]
                del self.where[booked.claim_id]
                self.report.append({"kind": "error", **_with_line(outcome, line).to_json()})
                continue
            booked.arrival = next_seq + written
            written += 1
            fields = {"kind": SETTLEMENT, "claim_id": booked.claim_id, "input_line": line,
                      **self._settled_fields(booked, raw, results, state)}
            booked.net = {k: Decimal(v) for k, v in fields["payable"].items()}
            booked.policy = (fields["policy_id"], fields["policy_sha256"])
            booked.raw = _as_text(raw)
            seq = self._write(key, fields)
            booked.seq, booked.hash = seq, self.tail.hash
            self.report.append(_settled_line(SETTLEMENT, seq, booked, fields))
        if on_top:
            return   # the booked claims come first: their figures did not change
        order = [c.claim_id for c in settlement_order(claims.values())]

        def cause(claim_id: str) -> dict:
            before = order[:order.index(claim_id)] if claim_id in order else order
            first = next((c for c in before if c in new), None) or next(iter(new))
            return {"claim_id": first, "kind": "late claim"}
        self._adjust(key, results, cause, waiting[-1][1], skip=new)

    def closed(self, year: int) -> int | None:
        """The seq of the closure of ``year``, or None while it is open."""
        if year not in self._closures:
            found = self._entries((EVERYONE, year))
            self._closures[year] = found[0].seq if found else None
        return self._closures[year]

    def _refuse_if_closed(self, year: int, claim_id: str, line: int) -> None:
        closed = self.closed(year)
        if closed is not None:
            raise Refused(ClaimError(
                CLOSED_YEAR, claim_id, "date",
                f"{year} was closed in the book (record #{closed}): nothing more is settled "
                "into it", "a closed year's late claims, withdrawals and corrections are "
                "handled outside the book (docs/book.md, Closed years)", line))

    def revise(self, key: PersonYearKey) -> None:
        """Settle again, under this chain, the claims another version settled (retroactive)."""
        if self.closed(key[1]) is not None:
            return    # a closed year is not re-settled, not even by a retroactive revision
        try:
            claims = self._year(key)
        except Refused as refused:
            self.report.append({"kind": "error", **refused.error.to_json()})
            return
        self._ready(key)
        revised = [c for c in settlement_order(claims.values()) if c.policy is not None
                   and c.policy[0] != self.engine.version_for(c.claim.date).policy_id]
        while revised:
            saved = {c.claim_id: c.policy for c in revised}
            for booked in revised:
                booked.policy = None
            results, state = self._resettle(key)
            refused = [c for c in revised if isinstance(results[c.claim_id].outcome, ClaimError)]
            if not refused:
                break
            # Refused under the new version (e.g. a value it leaves unspecified): the claim
            # keeps the version that settled it, and the others are settled again with it.
            for booked in refused:
                booked.policy = saved[booked.claim_id]
                self.report.append({"kind": "error",
                                    **results[booked.claim_id].outcome.to_json()})
            revised = [c for c in revised if c not in refused]
        if not revised:
            return
        self._begin_event(key, state)
        for booked in revised:
            fields = {"kind": REVISION, "claim_id": booked.claim_id, "input_line": 0,
                      "revises": {"seq": booked.seq, "hash": booked.hash},
                      **self._settled_fields(booked, booked.raw, results, state)}
            seq = self._write(key, fields)
            booked.seq, booked.hash = seq, self.tail.hash
            booked.policy = (fields["policy_id"], fields["policy_sha256"])
            self.report.append(_settled_line(REVISION, seq, booked, fields))
        order = list(results)
        ids = {booked.claim_id for booked in revised}
        latest = self.engine.versions[-1].policy_id

        def cause(claim_id: str) -> dict:
            before = order[:order.index(claim_id) + 1] if claim_id in order else order
            first = next((c for c in before if c in ids), None) or next(iter(ids))
            return {"claim_id": first, "kind": "revision", "policy_id": latest}
        self._adjust(key, results, cause, 0)

    def _ready(self, key: PersonYearKey) -> None:
        """Every live claim of the person-year validated, for settling it again."""
        for booked in self._year(key).values():
            if booked.live and booked.claim is None:
                booked.claim = self.engine.validate(booked.text)

    def _resettle(self, key: PersonYearKey) -> tuple[dict, dict]:
        """The person-year settled again whole: (results by id, the ledger after it)."""
        claims = self._year(key)
        ledger = Ledger()
        # Untraced: a record holds no trace (yibao-audit/3); `audit show` derives it.
        settled = resettle(self.engine, settlement_order(claims.values()), set(), ledger)
        return self._with_state(key, {s.claim_id: s for s in settled}, ledger, [])

    def _settle_on_top(self, key: PersonYearKey, waiting: list[BookedClaim]
                       ) -> tuple[dict, dict]:
        """New claims that come after every booked one, settled on the recorded ledger."""
        state = self.states[key]
        ledger = ledger_from(state, *key)
        ordered = sorted(waiting, key=lambda c: (c.claim.date, c.arrival))
        settled = resettle(self.engine, ordered, set(), ledger)
        return self._with_state(key, {s.claim_id: s for s in settled}, ledger, state["claims"])

    def _with_state(self, key: PersonYearKey, results: dict, ledger: Ledger, before: list
                    ) -> tuple[dict, dict]:
        claims = self.years[key]   # (the settled claims are in it, read whole or not)
        listed = list(before)
        for claim_id, settled in results.items():
            if isinstance(settled.outcome, ClaimResult):
                listed.append([claim_id, claims[claim_id].claim.date.isoformat(),
                               money_map(settled.base), self._paid(settled.outcome)[1]])
        return results, state_of(ledger.person_year(*key), listed)

    def _paid(self, outcome: ClaimResult) -> tuple[dict[str, Decimal], dict[str, str]]:
        """What an outcome's computed lines pay, as amounts and as written (once a claim:
        the ledger, the settlement's ``payable`` and the claim's net all read it)."""
        found = self.paid.get(id(outcome))
        if found is None or found[0] is not outcome:
            computed = self.settler.computed
            amounts = {line: amount for line, amount in outcome.payouts if line in computed}
            found = self.paid[id(outcome)] = (outcome, amounts, money_map(amounts))
        return found[1], found[2]

    def _after_every_booked_claim(self, key: PersonYearKey, waiting: list[BookedClaim]) -> bool:
        """Whether the recorded ledger is current and the new claims all come after it."""
        state = self.states.get(key)
        if state is None:
            return False
        if key in self.ledger_only:
            live = len(state["claims"])   # current: checked when it was read (_open_year)
        else:
            live = sum(1 for c in self._year(key).values() if c.live and c.arrival is not None
                   and c.seq is not None)
        if live != len(state["claims"]):
            return False    # written before this ledger was kept: settle it all again
        if not state["claims"]:
            return True
        last = datetime.date.fromisoformat(state["claims"][-1][1])
        return all(booked.claim.date >= last for booked in waiting)

    def _begin_event(self, key: PersonYearKey, state: dict) -> None:
        """The next entry written opens an event: it carries the ledger after it."""
        self.states[key] = state
        self._state_to_write = (key, state)

    def _adjust(self, key: PersonYearKey, results: dict, cause, line: int,
                skip: set[str] = frozenset()) -> None:
        """An adjustment per line whose net differs from its re-settled figure."""
        computed = self.settler.computed_order
        claims = self._year(key)
        for claim_id in _in_settlement_order(claims, results):
            if claim_id in skip:
                continue
            booked = claims[claim_id]
            settled = results.get(claim_id)
            target = (self._paid(settled.outcome)[0]
                      if settled is not None and isinstance(settled.outcome, ClaimResult) else {})
            for name in computed:
                old, new = booked.net.get(name, ZERO), target.get(name, ZERO)
                if old == new:
                    continue
                delta = new - old
                fields = {"kind": ADJUSTMENT, "claim_id": claim_id, "input_line": line,
                          "line": name, "delta": format_money(delta), "net": format_money(new),
                          "direction": PAID_OUT if delta > 0 else RECOVERED,
                          "caused_by": cause(claim_id), "adjusts": {"seq": booked.seq}}
                seq = self._write(key, fields)
                booked.net[name] = new
                booked.adjustments.append({"seq": seq, **fields})
                self.report.append({"kind": ADJUSTMENT, "seq": seq, "claim_id": claim_id,
                                    "person_id": key[0], "year": key[1], "line": name,
                                    "delta": fields["delta"], "direction": fields["direction"],
                                    "net": fields["net"], "caused_by": fields["caused_by"]})

    # ---- reading and writing the book ---------------------------------------------------
    def _locate(self, claim_id: str) -> PersonYearKey | None:
        """The person-year a claim id is booked in (this transaction's claims included)."""
        if claim_id in self.where:
            return self.where[claim_id]
        if claim_id in self.looked_up:
            head = self.heads.get(claim_id)
            return head.person_year if head is not None else None
        for record in reversed(self.store.records_of_claim(claim_id)):
            data = record.data
            if is_book_entry(data):
                return data["person_id"], data["year"]
        return None

    def _open_year(self, key: PersonYearKey) -> dict[str, BookedClaim]:
        """The person-year's claims, to add a new one to: read whole, or only its ledger.

        Most new claims come after every claim of their person-year (a daily run: the
        year so far is in the book), and are settled on the ledger the book recorded
        after the latest event (``ledger_after``), without reading the booked claims:
        then only that entry is decoded.  It is current when the entries after it are
        its own event's (settlements of claims it lists, adjustments): every event
        writes one, so a later event without it was written before the book kept it.
        Any doubt (no ledger, a later event, a claim settled under a version this chain
        lacks: B106) reads the person-year whole, as :meth:`_year`.
        """
        if key in self.years:
            return self.years[key]
        state = self.tails.pop(key, None)
        if state is None:
            entries = self.read.get(key)
            if entries is None:
                entries = self.read[key] = self.store.book_records(*key)
            state = _current_ledger(entries, self.settler.applied)
        if state is None:
            return self._year(key)
        self.years[key], self.states[key] = {}, state
        self.ledger_only.add(key)
        return self.years[key]

    def _year(self, key: PersonYearKey) -> dict[str, BookedClaim]:
        found = self.years.get(key)
        if key in self.ledger_only:
            # Read whole after all (a late claim, a withdrawal…): this transaction's
            # claims, already settled on the ledger, join the booked ones.
            self.ledger_only.discard(key)
            del self.years[key]
            fresh, state = found, self.states[key]
            found = self._year(key)
            found.update(fresh)
            self.states[key] = state
            return found
        if found is None:
            entries = self._entries(key)
            found = fold(entries)
            foreign = next((c for c in found.values() if c.policy not in self.settler.versions),
                           None)
            if foreign is not None:
                policy_id, sha = foreign.policy
                self.foreign[key] = ClaimError(
                    OTHER_POLICY, foreign.claim_id, None,
                    f"claim {foreign.claim_id} of {key[0]} in {key[1]} was settled under "
                    f"{policy_id} (sha256 {sha[:12]}…, record #{foreign.seq}), which this "
                    "policy chain does not hold",
                    "settle with that policy, or with a revision that extends it")
            self.years[key] = found
            self.states[key] = latest_state(entries)
            self.where.update(dict.fromkeys(found, key))
        if key in self.foreign:
            raise Refused(self.foreign[key])
        return found

    def _settled_fields(self, booked: BookedClaim, raw, results: dict, state: dict) -> dict:
        settled = results[booked.claim_id]
        outcome: ClaimResult = settled.outcome
        sha = self.settler.sha_of.get(outcome.policy)
        # No year_to_date_from (yibao-audit/4): the claims before it are the prefix of
        # ``state["claims"]`` up to it, and ``state`` is the ledger_after its event's
        # first entry carries (audit/book.py year_to_date_from derives the list).
        return {
            "claim": raw if isinstance(raw, str) else raw.decode("utf-8"),
            "outcome": outcome_to_json(outcome, trace=False),
            "payable": self._paid(outcome)[1],
            "policy_id": outcome.policy, "policy_sha256": sha,
            "policies": self.settler.policy_refs,
            "policy_key": self.settler.policy_key,
        }

    def _link(self, key: PersonYearKey, prepared: Prepared) -> None:
        """A prepared person-year's records put into the chain in input order: each body
        completed with its chain fields (position, prev, previous, recorded_at, seq),
        hashed and added; the session's claims and heads brought up to date."""
        state, items = prepared
        waiting = {booked.claim_id: (booked, raw) for booked, _, raw in self.pending.pop(key)}
        claims, settler, tail = self.years[key], self.settler, self.tail
        # (None from the worker: the transaction's last use of the person-year)
        if state is not None and any(pieces is not None for _, _, pieces, _ in items):
            self.states[key] = state
        self._state_to_write = None
        for claim_id, line, pieces, error in items:
            booked, raw = waiting[claim_id]
            if pieces is None:
                # Refused by the evaluator (e.g. C311): it never touched the ledger, so
                # the others' figures are those of a settlement without it.
                del claims[claim_id]
                del self.where[claim_id]
                self.report.append({"kind": "error", **error})
                continue
            record, payable, policy_id, identity, alerts, referrals = pieces[:6]
            # (from the worker, what makes the record: on_top.assemble)
            head, rest, entry = record if len(record) == 3 else assemble(self.template, record)
            self.position += 1
            seq = tail.seq + 1
            body = b"".join((head, chain_fields(self.position, tail.hash,
                                                self._previous(claim_id), self.recorded_at, seq),
                             rest))
            digest = hashlib.sha256(body).hexdigest()
            # The bytes just hashed go to the store as they are: it writes them as text
            # and leaf-hashes them without decoding and encoding them again.
            tail.add(StoredRecord(seq, digest, settler.batch.batch, self.position, claim_id,
                                  body), (key[0], key[1], entry))
            if state is not None:
                # The session's claims and heads brought up to date; not for a person-year
                # the worker prepared (state None): flush_all's, the last the transaction
                # does with it, and named by no other line of it (work_ahead).
                self.looked_up.add(claim_id)
                self.heads[claim_id] = ClaimHead(seq, digest, key)
                booked.arrival, booked.seq, booked.hash = seq, seq, digest
                # (as the general path reads them back: from the amounts as written)
                booked.net = {name: Decimal(amount) for name, amount in payable.items()}
                booked.policy = (policy_id, settler.sha_of.get(policy_id))
                booked.raw = _as_text(raw)
            text = booked.text
            entry = {"kind": SETTLEMENT, "seq": seq, "claim_id": claim_id,
                     "person_id": text["person_id"], "date": text["date"],
                     "identity": identity, "payouts": payable, "alerts": alerts,
                     "referrals": referrals, "line": line}
            if len(pieces) > 6:
                # The worker wrote the line's text but for its seq (work_ahead.REPORT_HEAD).
                entry = Encoded(entry)
                entry.text = f"{REPORT_HEAD}{seq}{pieces[6]}"
            self.report.append(entry)

    def _previous(self, claim_id: str | None) -> tuple[int, str] | None:
        """(seq, hash) of the claim id's latest record in the chain, if it has one."""
        if claim_id is None:
            return None
        if claim_id in self.looked_up:
            head = self.heads.get(claim_id)
            return (head.seq, head.hash) if head is not None else None
        found = self.tail.latest_of(claim_id)
        return (found.seq, found.hash) if found is not None else None

    def _write(self, key: PersonYearKey, fields: dict) -> int:
        self.position += 1
        if self._state_to_write is not None and self._state_to_write[0] == key:
            fields = {**fields, "ledger_after": self._state_to_write[1]}
        self._state_to_write = None
        claim_id = fields["claim_id"]
        earlier = self._previous(claim_id)
        full = {
            **fields, "person_id": key[0], "year": key[1], "batch": self.settler.batch.batch,
            "position": self.position, "mode": BOOK_MODE, "engine_version": ENGINE_VERSION,
            "recorded_at": self.now,
            "previous": {"seq": earlier[0], "hash": earlier[1]} if earlier else None,
        }
        # Walking the whole body for floats cost more than encoding it: every field here
        # is built by this module from strings (format_money), integers and booleans,
        # except the outcome, which outcome_to_json builds; that one is walked.
        if "outcome" in fields:
            refuse_floats(fields["outcome"])
        body, digest = link(full, self.tail.seq + 1, self.tail.hash, RECORD_FORMAT, checked=True)
        seq = self.tail.seq + 1
        self.tail.add(StoredRecord(seq, digest, self.settler.batch.batch, self.position,
                                   claim_id, body), index_entry(full))
        if claim_id is not None:
            self.looked_up.add(claim_id)
            self.heads[claim_id] = ClaimHead(seq, digest, key)
        return seq

    def _entries(self, key: PersonYearKey) -> list[BookEntry]:
        """A person-year's entries in the book: read ahead, or read now."""
        found = self.read.pop(key, None)
        return found if found is not None else self.store.book_records(*key)


@contextlib.contextmanager
def _without_cyclic_collection():
    """A transaction without the cyclic garbage collector; it runs again after.

    A transaction allocates some hundred thousand objects that live until it ends (its
    person-years, claims, outcomes, records) and almost none of them in a cycle: they
    are freed by reference counting when it ends.  Meanwhile the collector's full
    passes walked the whole heap, the compiled policy included, about once every 150
    claims: 0.6 of the 4.8 CPU s of a daily run of 10^4 claims (benchmarks/RESULTS.md,
    "The settlement book").  Cycles made inside (closures over the session) are collected
    once it is over, so memory stays bounded by a transaction, as before.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


_LEDGER = '"ledger_after":'
_ADJUSTMENT = f'"kind":"{ADJUSTMENT}"'
_SETTLEMENT = f'"kind":"{SETTLEMENT}"'
_APPLIED = '"policy_sha256":"'
# The same marks for entries read as their UTF-8 bytes (str and bytes do not mix).
_MARKS = {str: (_LEDGER, _ADJUSTMENT, _SETTLEMENT, _APPLIED),
          bytes: tuple(mark.encode("utf-8")
                       for mark in (_LEDGER, _ADJUSTMENT, _SETTLEMENT, _APPLIED))}


def _named_by(line: int, raw: bytes | str) -> dict | None:
    """A line's JSON object as work_ahead routes it, or None if it names nothing."""
    try:
        record = orjson.loads(raw)
        if type(record) is dict:
            return record
    except orjson.JSONDecodeError:
        pass
    # What orjson does not read as an object the settling process reads as it would
    # have (claim_object: a byte-order mark, a number past 64 bits…): never the
    # worker's (the correction marker keeps it back), and what it names is named.
    try:
        record, _ = claim_object(raw, line)
    except ClaimError:
        return None
    return {**record, CORRECTION_MARK: None}


def _current_ledger(entries: list[BookEntry], applied: tuple[str, ...]) -> dict | None:
    """The ledger recorded after a person-year's latest event, if it is current and every
    version its claims were settled under is in the chain (see _Session._open_year;
    ``applied``: each chain version's sha256 as an entry names it, BookSettler.applied;
    searched as UTF-8 bytes where the entries are bytes, as SQLite's book_tails gives
    them — the run's worker and the settling process alike).

    The entries are searched as text (canonical JSON: ``"kind":"adjustment"``), as str
    or as their UTF-8 bytes, and only the ledger's own entry and the settlements after
    it are decoded.  An entry that cannot be read so (not UTF-8, not JSON, not an
    object: an index edited behind the chain's back) gives None, and the person-year is
    read whole, as for any other doubt.
    """
    if not entries:
        return None
    try:
        kind = type(entries[0].entry)
        ledger, adjustment, settlement, named_as = _MARKS[kind]
        if kind is bytes:
            applied = _as_bytes(applied)
        last = len(entries) - 1     # (usually the only one: the ledger's own entry)
        while last >= 0 and ledger not in entries[last].entry:
            last -= 1
        if last < 0:
            return None
        # Every version named is one of the chain's: as many names as names of its
        # versions (count, not a regex: this runs for every person-year a run touches).
        only = applied[0] if len(applied) == 1 else None
        for entry in entries:
            text = entry.entry
            named = text.count(named_as)
            if named and named != (text.count(only) if only is not None else
                                   sum(text.count(version) for version in applied)):
                return None
        state = entries[last].ledger
        if last + 1 < len(entries):
            listed = {row[0] for row in state["claims"]}
            for entry in entries[last + 1:]:
                if adjustment in entry.entry:
                    continue
                if settlement not in entry.entry or entry.data["claim_id"] not in listed:
                    return None
        elif type(state["claims"]) is not list:
            return None     # (as the set above would find: the rows must be a list)
    except (KeyError, TypeError, ValueError):
        return None     # (ValueError: JSONDecodeError and UnicodeDecodeError among them)
    return state


@functools.lru_cache(maxsize=8)
def _as_bytes(applied: tuple[str, ...]) -> tuple[bytes, ...]:
    """The chain's versions as an entry read as bytes names them (once a run)."""
    return tuple(version.encode("utf-8") for version in applied)


@attrs.define
class _Replies:
    """A transaction's replies read so far, and how long this process waited for them."""

    read: int = 0
    waited: float = 0.0
    idle: float | None = None    # how long the worker waited for the first request
    ahead: float = 0.0           # how long the last reply read had been ready before it


def _parts(request: list) -> list[tuple[list, int]]:
    """``request`` (person-years in the order first named) in parts of about _PART
    claims, each with its number of claims; a person-year is never split."""
    parts, part, claims = [], [], 0
    for item in request:
        part.append(item)
        claims += len(item[3])
        if claims >= _PART:
            parts.append((part, claims))
            part, claims = [], 0
    if part:
        parts.append((part, claims))
    return parts


class _Sent:
    """A claim sent to the worker, as the session keeps it until its record comes back:
    its id and the object the settling process read (the report line's person and
    date)."""

    __slots__ = ("claim_id", "text")

    def __init__(self, claim_id: str, text: dict):
        self.claim_id, self.text = claim_id, text


@attrs.define
class _Refusal:
    """The place in the report of a claim the worker validates: its error, if refused."""

    line: int


def _in_settlement_order(claims: dict[str, BookedClaim], results: dict) -> list[str]:
    """Settled claims in the order they were settled, then withdrawn ones."""
    return list(results) + [c for c in claims if c not in results]


def _already(booked: BookedClaim, line: int) -> dict:
    return {"kind": "already_settled", "claim_id": booked.claim_id, "seq": booked.seq,
            "line": line, "live": booked.live}


def _settled_line(kind: str, seq: int, booked: BookedClaim, fields: dict) -> dict:
    outcome = fields["outcome"]
    return {"kind": kind, "seq": seq, "claim_id": booked.claim_id,
            "person_id": booked.text["person_id"], "date": booked.text["date"],
            "identity": outcome["identity"], "payouts": fields["payable"],
            "alerts": outcome["alerts"], "referrals": outcome["referrals"],
            "line": fields["input_line"]}


def _as_text(raw: bytes | str) -> str:
    return raw if isinstance(raw, str) else raw.decode("utf-8")


def _text_id(record: dict) -> str | None:
    claim_id = record.get("claim_id")
    return claim_id if isinstance(claim_id, str) else None


def _with_line(error: ClaimError, line: int) -> ClaimError:
    if error.line_number is not None:
        return error
    return ClaimError(error.code, error.claim_id, error.field, error.message, error.hint, line)
