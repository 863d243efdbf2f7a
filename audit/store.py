"""The storage interface of the audit trail.

The recorder, the verifier and replay only use :class:`AuditStore`; SQLite
(:mod:`yibao.audit.sqlite_store`) is the embedded default.  The PostgreSQL
store (:mod:`yibao.audit.postgres_store`) implements the same methods
(``appending`` as a transaction holding ``LOCK TABLE records IN EXCLUSIVE
MODE``), and :func:`yibao.audit.stores.open_store` picks it by the
location's scheme; nothing else changes.

A store only keeps what it is given: bodies are built and hashed by
:mod:`yibao.audit.chain`, so every store holds the same bytes for the same
records and verifies the same way.
"""

from __future__ import annotations

import abc
import functools
from contextlib import AbstractContextManager
from typing import Callable, Iterable, Iterator, Mapping, NamedTuple

import attrs

from yibao.audit import merkle
from yibao.audit.chain import parse_body

SORTED, STREAM = "sorted", "stream"   # how a batch was settled: Engine.evaluate_records / stream_records


# Store-level refusals (exit status 2), docs/errors.md family A4xx.
UNREADABLE = "A420"      # the database cannot be read (corrupt, unreachable)
NOT_A_STORE = "A421"     # nothing there, or not an audit store
OTHER_FORMAT = "A422"    # a store format this yibao does not read (a newer one)


class AuditError(Exception):
    """A store that cannot be opened, read or resumed; the message says which and why."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint


@attrs.frozen
class StoredRecord:
    """One settlement as stored: its chain position, hash and canonical body."""

    seq: int
    hash: str
    batch: int
    position: int          # the claim's line in the batch's input (the order of settlement)
    claim_id: str | None   # None for a line that was not a claim at all (e.g. bad JSON)
    body: str | bytes      # bytes: the UTF-8 text as hashed, on its way to a store's tail

    @property
    def data(self) -> dict:
        return parse_body(self.body)


class RawRecord(NamedTuple):
    """A :class:`StoredRecord` as verify reads it: the body as the bytes stored."""

    seq: int
    hash: str
    batch: int
    position: int
    claim_id: str | None
    body: bytes | None     # None: the column does not hold text (a malformed record)


def _utf8(text) -> bytes | None:
    if not isinstance(text, str):
        return None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:      # a lone surrogate: not text a body can be
        return None


# In an index entry (canonical JSON): the entry's record holds the ledger after its event.
# The stores' ledger pointers (SQLite's person-year table, PostgreSQL's ledger table) name
# the latest such entry of each person-year (docs/book.md).
LEDGER_MARK = '"ledger_after":'
LEDGER_MARK_BYTES = LEDGER_MARK.encode("utf-8")
# The body's large fields, which an index entry does not copy (issue 22 §9: in a daily run
# they were 2.1 of the 2.7 kB a settlement wrote twice, into its record and its index row):
# the claim as received, the policy chain, and the ledger after the event, which the entry
# only marks, ``"ledger_after":true`` (IN_BODY_MARK), so that every search for LEDGER_MARK
# finds an event's first entry as before.  An index written before copied them: both
# shapes are read (BookEntry.data), row by row.
IN_BODY = ("claim", "policies", "ledger_after")
IN_BODY_MARK = True
IN_BODY_LEDGER = LEDGER_MARK + "true"     # the mark as the entry's text holds it
IN_BODY_LEDGER_BYTES = IN_BODY_LEDGER.encode("utf-8")


# A body's ledger (canonical JSON, keys sorted) is followed by the body's next key: "line"
# (an adjustment's) or "mode" (every book entry has one).  ledger_of cuts it out there and
# parses it alone, without the body's outcome: a third of the cost of parsing the body.
_LEDGER_ENDS = {bytes: (LEDGER_MARK_BYTES, b',"line":"', b',"mode":"'),
                str: (LEDGER_MARK, ',"line":"', ',"mode":"')}


def ledger_cut(body: str | bytes) -> str | bytes | None:
    """The text of a record body's ``ledger_after`` value as cut out (None: no cut).

    The cut ends at the first "line" or "mode" key after the ledger's: the ledger's own
    end, or a point inside it (a name there that reads so), and a proper prefix of an
    object is never JSON; nor is an object with text after it (a key between the two,
    were a body to have one).  So what the cut gives either parses as the ledger or
    does not parse as an object at all."""
    mark, line, mode = _LEDGER_ENDS[type(body)]
    start = body.find(mark)
    if start < 0:
        return None
    start += len(mark)
    end = body.find(mode, start)
    if end < 0:
        return None
    before = body.find(line, start, end)     # "line" sorts before "mode"
    return body[start:before if before >= 0 else end]


def ledger_part(body: bytes) -> bytes:
    """A body as a person-year read from its ledger on needs it: an object of its
    ``ledger_after`` alone (a third of the body's bytes, sent as such to the run's worker),
    or the body itself where no cut is found."""
    cut = ledger_cut(body)
    return body if cut is None else b"".join((b"{", LEDGER_MARK_BYTES, cut, b"}"))


def ledger_of(body: str | bytes) -> dict:
    """The ``ledger_after`` of a record's body (KeyError if it has none), or of an object of
    it alone (ledger_part): parsed from its cut (ledger_cut), and, where that does not
    parse as an object, from the whole body, so the cut decides nothing but the cost."""
    cut = ledger_cut(body)
    if cut is not None:
        try:
            found = parse_body(cut)
            if type(found) is dict:
                return found
        except ValueError:
            pass
    return parse_body(body)["ledger_after"]


@attrs.frozen
class BookEntry:
    """A settlement book entry as its person-year index holds it: what settling reads.

    ``entry`` is the canonical JSON of the body's small fields that settling reads
    (audit/book.py ``ENTRY_FIELDS``: no outcome, no claim, no ledger), so a
    person-year is read without parsing its outcomes; verify checks every entry
    against its record's body.  What a reader needs of the fields the entry leaves in
    the body (IN_BODY) the store reads from the body (``body``).
    """

    seq: int
    # The record's hash (what fold keeps, for a later entry to name); None when read from
    # the index alone (book_tails: only the ledger is read from those, never folded).
    hash: str | None
    # As text; or as its UTF-8 bytes where a store reads it undecoded (SQLite's
    # book_tails; None there for a value that is not text: an edited index).
    entry: str | bytes | None
    # The record's body (text or UTF-8 bytes), read by the store with the entry where the
    # entry may leave fields in it (IN_BODY) that the reader needs: a person-year read
    # whole, every record's; one read from its ledger on, only a lean ledger entry's, and
    # on SQLite of it only its ledger (ledger_part: all that such a read needs).
    body: str | bytes | None = None

    @functools.cached_property
    def data(self) -> dict:
        """The entry's fields, with those it leaves in the body taken from there (parsed
        once: a person-year's fold and its latest ledger both read it).  The body is
        parsed only for a lean entry (it marks the ledger, or lacks the chain, which a
        copying entry holds wherever its body does)."""
        data = parse_body(self.entry)
        if self.body is not None and (data.get("ledger_after") is IN_BODY_MARK
                                      or "policies" not in data):
            body = parse_body(self.body)
            for key in IN_BODY:
                # absent from a lean entry, or the ledger's mark; a copying one has them
                if key in body and data.get(key, IN_BODY_MARK) is IN_BODY_MARK:
                    data[key] = body[key]
        return data

    @property
    def ledger(self) -> dict:
        """The ledger after the entry's event (an entry that carries LEDGER_MARK): copied in
        the entry, or, where the entry marks it (IN_BODY_LEDGER), cut out of the record's
        body (ledger_of) without parsing the rest of it, nor the entry: a person-year read
        from its ledger on needs nothing else of it."""
        if self.body is not None and self.entry is not None \
                and (IN_BODY_LEDGER_BYTES if type(self.entry) is bytes
                     else IN_BODY_LEDGER) in self.entry:
            return ledger_of(self.body)
        return self.data["ledger_after"]


@attrs.frozen
class Batch:
    """One ``yibao eval --record`` run (and its resumptions): one input, one ledger."""

    batch: int
    mode: str
    engine_version: str
    policy_key: str        # hash of the policy chain's source hashes (see record.policy_key)
    started_at: str


@attrs.frozen
class ClaimHead:
    """Where a claim id stands in the chain: its latest record, and the person-year of its
    latest book entry (None when the id has none: an ``eval --record`` record only)."""

    seq: int
    hash: str
    person_year: tuple[str, int] | None


class Appending(abc.ABC):
    """The chain's head inside one write transaction: read it, append after it.

    Records added may be held and written together when the transaction ends (one
    ``executemany``, not a round trip each); the store's reads inside the
    transaction see them all the same.
    """

    seq: int    # the last record's seq (0 for an empty store)
    hash: str   # the last record's hash (chain.GENESIS for an empty store)
    leaves: list[bytes]   # the leaf hashes of the records added (the tree grows at commit)

    @abc.abstractmethod
    def add(self, record: StoredRecord, book: tuple[str, int, str | bytes] | None = None
            ) -> None:
        """Append ``record``; a settlement book entry is also indexed: (person, year, entry).

        The body (and the entry) may be given as the UTF-8 bytes that were hashed rather
        than as text: stored as the same text, without decoding them here and encoding
        them again to hash the leaf and to write them (SQLite writes the bytes as text)."""

    @abc.abstractmethod
    def latest_of(self, claim_id: str) -> StoredRecord | None:
        """The last record of ``claim_id`` so far, this transaction's included."""

    def flush(self) -> None:
        """Write the records held back so far (the store calls it; nothing to do here)."""


class AuditStore(abc.ABC):
    location: str

    # ---- writing -------------------------------------------------------------------
    @abc.abstractmethod
    def appending(self) -> AbstractContextManager[Appending]:
        """A write transaction: committed when the block ends, rolled back on an exception."""

    @abc.abstractmethod
    def open_batch(self, mode: str, engine_version: str, policy_key: str, started_at: str,
                   sources: Mapping[str, str]) -> Batch:
        """Start a batch, storing its policy sources (sha256 → text) once, in one transaction."""

    def commit_after(self, verdict: Callable[[], None]) -> None:
        """Let nothing this connection writes commit before ``verdict()`` has returned.

        ``settle`` writes into a book only if its chain verifies, and the walk runs in a
        second process (audit/verify_ahead.py): ``verdict`` waits for it, and raises if
        the chain does not verify.  A store that can keep its writes uncommitted while
        that process reads the chain as committed (SQLite in WAL mode) keeps its write
        transactions open as one until the first :meth:`appending` ends, calls
        ``verdict`` then, and commits all of it, or rolls all of it back when
        ``verdict`` raises: the walk overlaps reading ahead and settling the first
        transaction, and a book that does not verify still gets nothing.  Here (and so
        on PostgreSQL) ``verdict`` is called at once, before any write: there the first
        transaction takes the records' lock that every other desk's writer queues on,
        and held for the verdict it would keep them waiting for the walk as well.
        """
        verdict()

    def commit_held(self) -> None:
        """Commit what :meth:`commit_after` holds back, if anything (after ``verdict``): a
        run that ended before its first :meth:`appending` (nothing to settle)."""

    # ---- reading -------------------------------------------------------------------
    @abc.abstractmethod
    def latest_batch(self) -> Batch | None: ...

    @abc.abstractmethod
    def batches(self) -> Iterator[Batch]:
        """Every batch, oldest first (for copying a store)."""

    @abc.abstractmethod
    def records(self, batch: int | None = None, after: int = 0) -> Iterator[StoredRecord]:
        """Records in chain order (all, or one batch's), from seq ``after`` + 1 on."""

    def chain(self, after: int = 0) -> Iterator[RawRecord]:
        """:meth:`records` from seq ``after`` + 1 on, each body as its UTF-8 bytes (None
        when it is not text): what verify walks, hashing and parsing the bytes as
        stored.  A store may read them without decoding them (SQLite)."""
        for record in self.records(after=after):
            yield RawRecord(record.seq, record.hash, record.batch, record.position,
                            record.claim_id, _utf8(record.body))

    def walk_rows(self, after: int, limit: int) -> Iterator[list[tuple]] | None:
        """The chain from seq ``after`` + 1 to ``limit``, each record joined with its index
        row and its leaf, in lists of rows (seq, hash, batch, position, claim id, body
        bytes, index seq, person id, year, entry bytes, leaf): one read where verify
        otherwise walks three (:meth:`chain`, :meth:`book_index_bytes`,
        :meth:`tree_leaves`).  The index seq and what follows are None where the record
        has no index row, the leaf None where it has none.  Text that is not UTF-8 may
        raise here: verify then walks the three as before.  None: this store offers no
        such read, or lacks the index or the tree (verify walks the three)."""
        return None

    def walk_extras(self, after: int, upto: int) -> tuple[int, int, bool]:
        """What :meth:`walk_rows` cannot show: (rows of the index with a seq in (``after``,
        ``upto``], leaves with an index in [``after``, ``upto``), whether every leaf from
        ``after`` on has a whole number for its index)."""
        rows = sum(1 for seq, *_ in self.book_index(after) if seq <= upto)
        indexes = [index for index, _ in self.tree_leaves(after)]
        return (rows, sum(1 for index in indexes if index < upto),
                all(isinstance(index, int) for index in indexes))

    def unlisted_entry(self, after: int, upto: int) -> int | None:
        """The first book entry with a seq in (``after``, ``upto``] that a list of the
        store's person-years kept beside the index does not list as the index holds it,
        None if every one is (or the store keeps no such list: it reads its index)."""
        return None

    @abc.abstractmethod
    def last_seq(self) -> int:
        """The largest seq stored (0 for none): where a walk begun now stops."""

    def record_hash(self, seq: int) -> str | None:
        """The hash stored with record ``seq`` (None: no such record), by its key alone."""
        walk = self.records(after=seq - 1)
        try:
            record = next(walk, None)
        finally:
            walk.close()
        return record.hash if record is not None and record.seq == seq else None

    @abc.abstractmethod
    def records_of_claim(self, claim_id: str) -> list[StoredRecord]:
        """Every record of a claim id, oldest first."""

    @abc.abstractmethod
    def source(self, sha256: str) -> str | None: ...

    # ---- the settlement book (audit/book.py): entries indexed by person-year ----------
    @abc.abstractmethod
    def book_records(self, person_id: str, year: int) -> list[BookEntry]:
        """Every book entry of a person-year, in chain order (this transaction's included)."""

    def book_records_of(self, keys: Iterable[tuple[str, int]]
                        ) -> dict[tuple[str, int], list[BookEntry]]:
        """:meth:`book_records` of many person-years at once (one query, not one each)."""
        return {key: self.book_records(*key) for key in set(keys)}

    def book_tails(self, keys: Iterable[tuple[str, int]]
                   ) -> dict[tuple[str, int], list[BookEntry]]:
        """Each person-year's entries from its latest ``ledger_after`` on, as far as the
        store's ledger pointer says (one query for all): what a claim after every booked
        one needs, rather than the whole person-year.

        The pointer (docs/book.md, "The person-year table": SQLite's ``book_years``,
        PostgreSQL's ``book_ledgers``) only says where to start reading:
        every entry from there to the end is read, so a pointer left behind by a
        writer that did not keep it reads more, never less.  The entries come from the
        index alone (``hash`` None): their records are not looked up; ``entry`` may be
        its UTF-8 bytes (SQLite).  A person-year without a
        row is absent (read it whole); a store without the table returns nothing.
        """
        return {}

    def prepare_ledgers(self) -> None:
        """Build the ledger pointers' table now if the store lacks it (a book's first
        settle after the upgrade otherwise does it); a store without one does nothing."""

    def claim_heads(self, claim_ids: Iterable[str]) -> dict[str, ClaimHead]:
        """Each id's :class:`ClaimHead`, for the ids the chain holds (one query, not one each)."""
        found = {}
        for claim_id in set(claim_ids):
            records = self.records_of_claim(claim_id)
            if records:
                booked = next(((d["person_id"], d["year"]) for d in
                               (r.data for r in reversed(records)) if "kind" in d), None)
                found[claim_id] = ClaimHead(records[-1].seq, records[-1].hash, booked)
        return found

    def person_claims(self, person_id: str) -> list[str]:
        """The claim ids with a book entry indexed under ``person_id`` (any year), in the
        order of their first entry: a search by person reads only these (the desk)."""
        ids = [next(self.records(after=seq - 1)).claim_id
               for seq, person, _, _ in self.book_index() if person == person_id]
        return list(dict.fromkeys(ids))

    @abc.abstractmethod
    def book_index(self, after: int = 0) -> Iterator[tuple[int, str, int, str]]:
        """The index as stored: (seq, person id, year, entry) in seq order, for verify."""

    def book_index_bytes(self, after: int = 0) -> Iterator[tuple[int, str, int, bytes | None]]:
        """:meth:`book_index` with each entry as its UTF-8 bytes (None when it is not text),
        for verify to compare with the entry encoded from the record's body."""
        for seq, person, year, entry in self.book_index(after):
            yield seq, person, year, _utf8(entry)

    @abc.abstractmethod
    def rebuild_book_index(self, entries: Iterable[tuple[int, str, int, str]]) -> None:
        """Replace the index with ``entries`` (derived from the chain), in one transaction."""

    # ---- the last verified head (what settle verifies from) -----------------------------
    @abc.abstractmethod
    def verified_head(self) -> tuple[int, str] | None:
        """(seq, hash) of the head the latest verification reached, or None."""

    @abc.abstractmethod
    def mark_verified(self, seq: int, head: str) -> None: ...

    @abc.abstractmethod
    def sources(self) -> Iterator[tuple[str, str]]:
        """Every stored policy source as (sha256 it is stored under, text)."""

    # ---- the transparency log (audit/merkle.py, docs/transparency.md) ----------------------
    @abc.abstractmethod
    def tree_nodes(self, keys: set[merkle.Key]) -> dict[merkle.Key, bytes]:
        """The stored hashes of the complete subtrees ``keys`` (level, index), one read."""

    @abc.abstractmethod
    def tree_size(self) -> int:
        """How many leaves the stored tree holds (the records it covers, from #1)."""

    @abc.abstractmethod
    def tree_leaves(self, after: int = 0) -> Iterator[tuple[int, bytes]]:
        """(index, leaf hash) as stored, in index order from ``after``: what verify compares."""

    @abc.abstractmethod
    def prepare_tree(self) -> None:
        """Create the tree's tables in a store written before them, and build its tree."""

    @abc.abstractmethod
    def log_id(self) -> str | None:
        """The log's origin, named in its checkpoints (None: a store without a tree yet)."""

    @abc.abstractmethod
    def add_checkpoint(self, size: int, checkpoint: str) -> None:
        """Keep a signed checkpoint (its JSON text) beside the log."""

    @abc.abstractmethod
    def checkpoints(self) -> list[str]:
        """Every checkpoint kept beside the log, oldest first."""

    # ---- how far each batch got (verify flags one begun and never finished) ------------------
    @abc.abstractmethod
    def mark_batch(self, batch: int, mark: str, value: int | None, at: str) -> None:
        """Note ``expected`` (the input's claim lines, None when unknown) or ``finished``."""

    @abc.abstractmethod
    def batch_marks(self) -> dict[int, dict[str, int | None]]:
        """batch → {mark: value} for every batch that has marks."""

    def tree_rows(self, head: int, leaves: list[bytes]) -> list[tuple[int, int, bytes]]:
        """The subtree hashes to store once the records up to ``head`` are in the chain.

        ``leaves`` are the leaf hashes of the records this transaction appended; the
        one place where every store grows its tree, so it batches with the appends.
        A tree behind the chain (a store written before the tree existed) is first
        caught up from the records themselves.
        """
        size = self.tree_size()
        if size + len(leaves) != head:
            leaves = [merkle.record_leaf(record.body) for record in self.records(after=size)]
        return list(merkle.extend(size, self.tree_nodes, leaves))

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def by_person_year(rows, found: dict, entry, wanted=None) -> dict:
    """Rows ``(person_id, year, *fields)`` of the book's index, in chain order, appended
    as ``entry(*fields)`` to ``found`` under the person-years ``wanted`` (default: the
    keys ``found`` already has); a query by person returns the person's other years
    too, which are dropped here."""
    keep = found.keys() if wanted is None else wanted
    for person, year, *fields in rows:
        if (person, year) in keep:
            found.setdefault((person, year), []).append(entry(*fields))
    return found


class LedgerTableStore(AuditStore):
    """A store that keeps a table of the ledger pointers (docs/book.md, "The person-year
    table"): SQLite (``book_years``, which lists the entries too) and PostgreSQL
    (``book_ledgers``).  ``_has_ledgers`` says whether the table exists, ``_tail`` is the
    open write transaction's appender (None outside one)."""

    _has_ledgers: bool
    _tail: Appending | None

    @abc.abstractmethod
    def _build_ledgers(self) -> None:
        """Create the table and fill it from the index, in the current transaction."""

    def _ledgers_ready(self) -> bool:
        """The ledger table, built from the index the first time a writer needs it (a
        book written before the table existed): inside the write transaction, which
        holds the writers' lock, so it covers every entry up to the head and none is
        appended meanwhile; outside one, the caller reads whole."""
        if self._has_ledgers:
            return True
        if self._tail is None:
            return False
        self._tail.flush()
        self._build_ledgers()
        self._tail.ledgers = True
        return True
