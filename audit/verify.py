"""`yibao audit verify`: walk the chain and name the first record that was tampered with.

Each record is checked in the store's order: its body must hash to its
stored hash (else it was *altered*); its body's ``seq`` must follow the
previous one (a gap is a *removed* record, a record found later is a
*reordered* one); its ``prev`` must be the previous record's hash (else the
previous record was altered and re-hashed); its indexed columns must agree
with its body; and every policy text it names must be stored and still hash
to its name (else the *policy text* was altered).  Removing records from the
end of the chain leaves a valid shorter chain, and whoever can write the
store can re-hash every record after an edit: checkpoints kept elsewhere
(``--since``, audit/checkpoint.py) catch both.

The transparency log (audit/merkle.py) is checked on the same walk: each
record's leaf hash against the stored leaf, the stored tree's root against
the root recomputed from the records; then, for each checkpoint given, the
root of the first ``size`` records against the checkpoint's and an RFC 9162
consistency proof from the stored tree.  The ``batches`` table (what resume
reads) is checked against the records it holds.

Nothing a store holds makes verify raise: a body that is not a record's is
reported as *malformed*, a text column that is not UTF-8 is read with U+FFFD
(so it no longer matches its hash).

A store that can (SQLite, PostgreSQL) is first walked joined: each record read
with its index row and leaf in one statement, every check above made in one
loop.  That walk only ever says "verifies"; at anything it does not find plain it
gives up, and the walk apart (three cursors side by side) names the problem.
"""

from __future__ import annotations

import hashlib
import json
from typing import Callable, NamedTuple

import attrs
import orjson

from yibao.audit import merkle
from yibao.audit.book_index import COPIED_ENTRY_FIELDS, ENTRY_FIELDS, copied_index_entry, index_entry
from yibao.audit.chain import FORMATS, GENESIS, body_hash, parse_body
from yibao.audit.checkpoint import Checkpoint
from yibao.audit.policies import PolicyRef, policy_key
from yibao.audit.store import AuditStore, Batch, RawRecord, StoredRecord
from yibao.dsl.source_digest import source_sha256

ALTERED, REMOVED, REORDERED, POLICY_TEXT, HEAD, BOOK_INDEX = (
    "altered", "removed", "reordered", "policy text altered", "head", "book index")
MALFORMED, TREE, BATCHES, TRUNCATED, REWRITTEN, OTHER_LOG, INCOMPLETE = (
    "malformed", "tree", "batches", "truncated", "rewritten", "other log", "incomplete")
# Stable codes (docs/errors.md, family A4xx): what a script matches on.
CODES = {ALTERED: "A401", REMOVED: "A402", REORDERED: "A403", POLICY_TEXT: "A404",
         HEAD: "A405", BOOK_INDEX: "A406", MALFORMED: "A407", TREE: "A408", BATCHES: "A409",
         TRUNCATED: "A410", REWRITTEN: "A411", OTHER_LOG: "A413", INCOMPLETE: "A414"}


@attrs.frozen
class Problem:
    kind: str
    seq: int          # the first record concerned
    message: str

    @property
    def code(self) -> str:
        return CODES[self.kind]


@attrs.frozen
class Consistent:
    """A checkpoint the log was proved to extend."""

    checkpoint: Checkpoint
    proof: int        # hashes in the consistency proof (0: the same tree)


@attrs.frozen
class VerifyReport:
    records: int              # records that verified, from the first
    head: str                 # hash of the last of them (GENESIS for none)
    problem: Problem | None = None
    root: str | None = None   # the tree's root over them (None: the store keeps no tree)
    consistent: tuple[Consistent, ...] = ()
    warnings: tuple[Problem, ...] = ()    # incomplete batches: not tampering

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_store(store: AuditStore, expected_head: str | None = None,
                 since: tuple[int, str] | None = None,
                 checkpoints: tuple[Checkpoint, ...] = ()) -> VerifyReport:
    """Walk the chain (from the head ``since`` = (seq, hash) verified earlier, if given),
    and prove it extends each of ``checkpoints`` (their signatures checked by the caller)."""
    walks: list = []
    try:
        return _verify(store, expected_head, since, checkpoints, walks)
    finally:
        for walk in walks:      # a walk stopped early is closed while the store is open
            walk.close()


def _verify(store: AuditStore, expected_head, since, checkpoints, walks: list) -> VerifyReport:
    sources = {sha: source_sha256(text) if isinstance(text, str) else None
               for sha, text in store.sources()}
    count, head = 0, GENESIS
    if since is not None:
        problem = _check_since(store, since)
        if problem is not None:
            return VerifyReport(0, GENESIS, problem)
        count, head = since
    start = count
    # The walk stops at the head committed now: another writer may append while it runs
    # (PostgreSQL), and every index row and leaf of a record up to here is committed.
    leaves_stored = store.tree_size()     # read first: a concurrent append only adds to both
    limit = store.last_seq()
    has_tree = store.tree_size() > 0 or store.log_id() is not None
    sizes = {checkpoint.size for checkpoint in checkpoints}
    walked = _walk_joined(store, start, head, limit, sources, has_tree, sizes, walks)
    if walked is None:
        walked = _walk_apart(store, start, head, limit, sources, has_tree, sizes, walks)
        if isinstance(walked, VerifyReport):
            return walked
    count, head, compact, roots, batches, finish = walked
    if leaves_stored > count and count == limit:
        gone = f"#{count + 1}" if leaves_stored == count + 1 else f"#{count + 1}–#{leaves_stored}"
        return VerifyReport(count, head, Problem(
            TRUNCATED, count + 1, f"the log holds {count} record(s), its tree {leaves_stored} "
                                  f"leaves: record {gone} was removed from its end"))
    problem = finish(count)
    if problem is None:
        unlisted = store.unlisted_entry(start, count)
        problem = None if unlisted is None else _index_problem(unlisted)
    if problem is not None:
        return VerifyReport(count, head, problem)
    root = None
    if has_tree:
        try:
            stored = merkle.root(count, _reader(store))
        except _MissingNodes:
            stored = None
        if compact is not None and stored != compact.root():
            return VerifyReport(count, head, Problem(
                TREE, 1, f"the stored tree over records #1–#{count} does not have the root "
                         "computed from the records: a node of the tree was altered"))
        root = stored.hex() if stored is not None else None
    if expected_head is not None and expected_head != head:
        return VerifyReport(count, head, Problem(
            HEAD, count, f"the chain ends at #{count} with hash {head}, not {expected_head}: "
                         "records were removed from its end, or it was rewritten"))
    consistent, problem = _check_checkpoints(store, checkpoints, count, roots, has_tree)
    return VerifyReport(count, head, problem, root, consistent, batches.incomplete(count))


class _Walked(NamedTuple):
    """A walk that found nothing wrong: where it ended, and what the checks after it need."""

    count: int
    head: str
    compact: merkle.Compact | None      # the tree over the records (a walk from #1)
    roots: dict[int, bytes]             # its roots at the checkpoints' sizes
    batches: _BatchCheck
    finish: Callable[[int], Problem | None]   # rows of the index or the tree left over


def _walk_apart(store: AuditStore, start: int, head: str, limit: int, sources: dict,
                has_tree: bool, sizes: set[int], walks: list) -> _Walked | VerifyReport:
    """The chain, the book's index and the tree's leaves walked as three cursors in seq
    order, side by side: the walk that names the first problem, whatever the rows hold."""
    count, expected = start, start + 1
    # The book's index and the tree's leaves are compared row by row as the records are
    # walked (all in seq order), so memory does not grow with the store.
    walks.extend([store.book_index_bytes(after=start), store.tree_leaves(after=start)])
    index = _IndexWalk(walks[-2])
    leaves = _LeafWalk(walks[-1]) if has_tree else None
    compact = merkle.Compact() if start == 0 else None
    roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT} if 0 in sizes else {}
    batches = _BatchCheck(store)
    # A leaf that differs from its record is reported once the next record is read: a
    # record edited and re-hashed is better named by the chain ("record #n+1 committed
    # to a different hash") than by the tree.
    leaf_problem: Problem | None = None
    leaf_head = head
    walks.append(store.chain(after=start))
    for record in walks[-1]:
        if record.seq > limit:
            break
        try:
            problem, data = _check(store, record, expected, head, sources)
            if problem is None and leaf_problem is None:
                wanted = _index_rows(record.seq, data) if "kind" in data else None
                leaf = merkle.leaf_hash(record.body)
                problem = index.check(record.seq, wanted) or batches.check(record.seq,
                                                                           record.batch, data)
                leaf_problem = leaves.check(record.seq, leaf) if leaves else None
                leaf_head = head
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
            problem = Problem(MALFORMED, record.seq, f"record #{record.seq} is not a "
                                                     f"well-formed record ({_what(error)})")
        if problem is not None and leaf_problem is not None and problem.seq != leaf_problem.seq:
            problem = leaf_problem
        problem = problem or (leaf_problem if leaf_problem and leaf_problem.seq < record.seq
                              else None)
        if problem is not None:
            if problem is leaf_problem:
                return VerifyReport(problem.seq - 1, leaf_head, problem)
            return VerifyReport(count, head, problem)
        count, head, expected = count + 1, record.hash, expected + 1
        if compact is not None:
            compact.add(leaf)
            if count in sizes:
                roots[count] = compact.root()
    if leaf_problem is not None:
        return VerifyReport(leaf_problem.seq - 1, leaf_head, leaf_problem)
    return _Walked(count, head, compact, roots, batches,
                   lambda walked: index.finish(walked) or (leaves.finish(walked) if leaves
                                                           else None))


def _walk_joined(store: AuditStore, start: int, head: str, limit: int, sources: dict,
                 has_tree: bool, sizes: set[int], walks: list) -> _Walked | None:
    """The same walk over one read of each record joined with its index row and leaf
    (``AuditStore.walk_rows``), in one loop: a quarter cheaper a record, 52 → 38 µs on
    the 10^5 book (issue 22 §9, benchmarks/RESULTS.md, "Verify and store I/O, second
    pass").

    It only ever says that the chain verifies: at the first row that any check of
    :func:`_walk_apart` would not pass, or that it cannot read as plainly as that walk
    expects (text that is not UTF-8, a body that orjson does not parse, a row of the
    index or the tree that no record joins), it gives up (None) and the caller walks
    apart from the start, which names the problem as it always did.  So every check
    here is one of that walk's, with the same operators, and none is left out: a
    verdict from here is the verdict of the walk apart.
    """
    parts = store.walk_rows(start, limit)
    if parts is None:
        return None
    walks.append(parts)
    intact = frozenset(sha for sha, found in sources.items() if sha == found)
    compact = merkle.Compact() if start == 0 else None
    roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT} if 0 in sizes else {}
    batches = _BatchCheck(store)
    # A book entry's batch key is the batch's own: mode and engine version are all there
    # is to compare (_BatchCheck.check), here from a table of the batches'.
    agreed = {batch.batch: (batch.mode, batch.engine_version) for batch in store.batches()}
    recorded: dict[int, int] = {}
    count, expected, indexed = start, start + 1, 0
    sha256, loads, dumps, fields = hashlib.sha256, orjson.loads, orjson.dumps, ENTRY_FIELDS
    copied = COPIED_ENTRY_FIELDS
    sort_keys = orjson.OPT_SORT_KEYS
    try:
        for part in parts:
            for (seq, digest, batch, position, claim_id, body, index_seq, person, year, entry,
                 stored_leaf) in part:
                # _decoded: the body hashes to the hash, its seq and prev follow the chain,
                # its format is known and the indexed columns are its own.
                if seq != expected or body is None or sha256(body).hexdigest() != digest:
                    return _gave_up(parts)
                data = loads(body)
                if type(data["seq"]) is not int or data["seq"] != expected \
                        or data["prev"] != head or data.get("format") not in FORMATS \
                        or (batch, position, claim_id) != (data.get("batch"),
                                                           data.get("position"),
                                                           data.get("claim_id")):
                    return _gave_up(parts)
                # _check_policies: every text named is stored and hashes to its name.
                for ref in data.get("policies", ()):
                    if ref["sha256"] not in intact:
                        return _gave_up(parts)
                if "kind" in data:
                    # _IndexWalk: the row holds the entry index_entry makes of the body (in
                    # canonical JSON: orjson's bytes, as canonical_bytes writes them when
                    # orjson writes the values at all; else orjson raises here).
                    # Either shape: the lean entry, or the one an earlier yibao wrote,
                    # which copied the claim, the chain and the ledger (book.IN_BODY).  A
                    # row holding the chain is compared with the copying one alone (a lean
                    # one never holds it): an old book's rows are encoded once, not twice.
                    if entry is not None and b'"policies":' in entry:
                        wanted = {key: data[key] for key in copied if key in data}
                    else:
                        wanted = {key: data[key] for key in fields if key in data}
                        if "ledger_after" in data:
                            wanted["ledger_after"] = True
                    if (index_seq, person, year) != (seq, data["person_id"], data["year"]) \
                            or entry != dumps(wanted, option=sort_keys) and entry != dumps(
                                {key: data[key] for key in copied if key in data},
                                option=sort_keys):
                        return _gave_up(parts)
                    indexed += 1
                    # _BatchCheck
                    if agreed.get(batch) != (data.get("mode"), data.get("engine_version")):
                        return _gave_up(parts)
                    recorded[batch] = recorded.get(batch, 0) + 1
                elif index_seq is not None or batches.check(seq, batch, data) is not None:
                    return _gave_up(parts)
                leaf = sha256(b"\x00" + body).digest()      # merkle.leaf_hash
                if has_tree and stored_leaf != leaf:        # _LeafWalk
                    return _gave_up(parts)
                count, head, expected = seq, digest, expected + 1
                if compact is not None:
                    compact.add(leaf)
                    if count in sizes:
                        roots[count] = compact.root()
    except Exception:   # noqa: BLE001 - whatever this walk cannot read, the walk apart reads
        return _gave_up(parts)
    batches.add_recorded(recorded)
    # What the walk apart finds after the records: no row of the index or the tree (in the
    # range walked) that no record joined, no leaf whose index is not a whole number.
    rows, leaves, whole = store.walk_extras(start, count)
    if rows != indexed or (has_tree and (leaves != count - start or not whole)):
        return _gave_up(parts)
    return _Walked(count, head, compact, roots, batches, lambda walked: None)


def _gave_up(parts) -> None:
    parts.close()
    return None


def _what(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"no {error}"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _reader(store: AuditStore) -> merkle.Reader:
    def read(keys):
        found = store.tree_nodes(keys)
        missing = set(keys) - set(found)
        if missing or any(not isinstance(v, bytes) or len(v) != merkle.HASH_SIZE
                          for v in found.values()):
            raise _MissingNodes(min(missing) if missing else None)
        return found
    return read


class _MissingNodes(Exception):
    def __init__(self, key):
        super().__init__(key)
        self.key = key


def _check_checkpoints(store: AuditStore, checkpoints, count: int, roots: dict[int, bytes],
                       has_tree: bool) -> tuple[tuple[Consistent, ...], Problem | None]:
    """Each checkpoint: the log holds at least its records, with its root, provably."""
    proved: list[Consistent] = []
    matched = 0     # the largest checkpoint size found intact: the rewrite starts after it
    log = store.log_id()
    for checkpoint in sorted(checkpoints, key=lambda c: c.size):
        m = checkpoint.size
        named = f"the checkpoint of {checkpoint.time} (size {m})"
        if log is not None and checkpoint.origin != log:
            return tuple(proved), Problem(OTHER_LOG, 1, f"{named} is of log {checkpoint.origin}"
                                                        f", this store is log {log}: it was "
                                                        "replaced by another log")
        if m > count:
            gone = f"#{count + 1}" if m == count + 1 else f"#{count + 1}–#{m}"
            return tuple(proved), Problem(TRUNCATED, count + 1, f"the log holds {count} "
                                                                f"record(s), {named} held {m}: "
                                                                f"record {gone} was removed")
        if m not in roots:
            continue      # a walk from a verified head: no root of earlier sizes
        if roots[m] != checkpoint.root_bytes:
            first = f"#{matched + 1}" if matched + 1 == m else f"among #{matched + 1}–#{m}"
            return tuple(proved), Problem(REWRITTEN, matched + 1, (
                f"the first {m} record(s) are not those of {named}: the log was rewritten "
                f"or forked; the first record that disagrees is {first}"))
        matched = m
        proof = 0
        if has_tree and 0 < m < count:
            try:
                path = merkle.consistency_proof(m, count, _reader(store))
                merkle.verify_consistency(m, count, checkpoint.root_bytes,
                                          merkle.root(count, _reader(store)), path)
            except (merkle.ProofError, _MissingNodes) as error:
                return tuple(proved), Problem(TREE, m + 1, f"no consistency proof from {named} "
                                                           f"to the tree of {count}: {error}")
            proof = len(path)
        proved.append(Consistent(checkpoint, proof))
    return tuple(proved), None


def _index_rows(seq: int, data: dict) -> tuple[tuple[int, str, int, bytes], ...]:
    """The index rows a book entry's body calls for, its entry as UTF-8 (as read): the lean
    entry, or the one an earlier yibao wrote, copying the claim, the chain and the ledger
    (a book not reindexed since holds those; either is the body's, and read as such)."""
    return tuple((seq, person, year, entry.encode("utf-8"))
                 for person, year, entry in (index_entry(data), copied_index_entry(data)))


def _check(store: AuditStore, record: RawRecord, expected: int, prev: str,
           sources: dict[str, str]) -> tuple[Problem | None, dict | None]:
    """The record's first problem, if any, and its body (decoded once: the walk goes on
    to check its index row and batch with it)."""
    found = _decoded(store, record, expected, prev)
    if isinstance(found, Problem):
        return found, None
    return _check_policies(found, sources), found


def _decoded(store: AuditStore, record: RawRecord, expected: int, prev: str
             ) -> Problem | dict:
    if record.body is None or not isinstance(record.hash, str):
        return Problem(MALFORMED, record.seq, f"record #{record.seq} is not a well-formed "
                                              "record (its body or hash is not text)")
    if hashlib.sha256(record.body).hexdigest() != record.hash:   # the bytes as stored
        return Problem(ALTERED, record.seq, f"record #{record.seq} was altered: its content no "
                                            "longer matches its hash")
    try:
        data = parse_body(record.body)
        seq = data["seq"]
    except (ValueError, KeyError, TypeError):
        return Problem(ALTERED, record.seq, f"record #{record.seq} is not a record body")
    if not isinstance(seq, int) or isinstance(seq, bool):
        return Problem(MALFORMED, record.seq, f"record #{record.seq} is not a well-formed "
                                              "record (its seq is not a number)")
    if seq != expected:
        return _out_of_sequence(store, seq, expected)
    if data["prev"] != prev:
        return Problem(ALTERED, expected - 1, f"record #{expected - 1} was altered: record "
                                              f"#{expected} committed to a different hash")
    if data.get("format") not in FORMATS or (record.seq, record.batch, record.position,
                                        record.claim_id) != (
            seq, data.get("batch"), data.get("position"), data.get("claim_id")):
        return Problem(ALTERED, seq, f"record #{seq} was altered: its indexed columns "
                                     "disagree with its content")
    return data


def _out_of_sequence(store: AuditStore, found: int, expected: int) -> Problem:
    later = any(_body_seq(other) == expected for other in store.records())
    if later or found < expected:
        return Problem(REORDERED, expected, f"records were reordered: record #{found} stands "
                                            f"where record #{expected} belongs")
    gone = f"#{expected}" if found == expected + 1 else f"#{expected}–#{found - 1}"
    return Problem(REMOVED, expected, f"record {gone} was removed: record #{found} follows "
                                      f"#{expected - 1}")


def _body_seq(record: StoredRecord):
    try:
        return json.loads(record.body).get("seq")
    except (ValueError, TypeError, AttributeError):
        return None


def _check_policies(data: dict, sources: dict[str, str]) -> Problem | None:
    seq = data["seq"]
    for ref in data.get("policies", ()):
        sha = ref["sha256"]
        if sha not in sources:
            return Problem(POLICY_TEXT, seq, f"the text of {ref['policy_id']} that record #{seq} "
                                             f"was settled under ({sha}) is not in the store")
        if sources[sha] != sha:
            return Problem(POLICY_TEXT, seq, f"the text of {ref['policy_id']} that record #{seq} "
                                             f"was settled under was altered: stored as {sha}, "
                                             f"it now hashes to {sources[sha]}")
    return None


def _check_since(store: AuditStore, since: tuple[int, str]) -> Problem | None:
    """The head verified earlier must still be there, unaltered."""
    seq, head = since
    record = next(store.records(after=seq - 1), None)
    if record is not None and not isinstance(record.body, str):
        record = None
    if record is None or record.seq != seq or record.hash != head \
            or body_hash(record.body) != record.hash:
        return Problem(ALTERED, seq, f"record #{seq}, the head verified earlier, was altered or "
                                     "removed: run yibao audit verify")
    return None


class _IndexWalk:
    """The person-year index must list exactly the chain's book entries, each with the
    fields its body holds: settle reads a person-year through it, so an entry missing or
    altered there would be settled as if absent or different.  Rows after the records
    walked were appended since (by another writer): not checked yet."""

    def __init__(self, rows):
        self._rows = iter(rows)
        self._next = next(self._rows, None)

    def check(self, seq: int, wanted: tuple[tuple, ...] | None) -> Problem | None:
        """``wanted``: the rows the record calls for (one of them), None for none."""
        if self._next is not None and self._next[0] < seq:
            return _index_problem(self._next[0])    # a row for no book entry
        if self._next is not None and self._next[0] == seq:
            found, self._next = tuple(self._next), next(self._rows, None)
            return None if wanted is not None and found in wanted else _index_problem(seq)
        return None if wanted is None else _index_problem(seq)   # an entry with no row

    def finish(self, walked: int) -> Problem | None:
        if self._next is not None and self._next[0] <= walked:
            return _index_problem(self._next[0])
        return None


def _index_problem(seq: int) -> Problem:
    return Problem(BOOK_INDEX, seq, f"the book index disagrees with the chain at record #{seq}: "
                                    "run yibao audit reindex to rebuild it from the chain")


class _LeafWalk:
    """The stored leaves must be the records' leaf hashes, one per record, in order."""

    def __init__(self, rows):
        self._rows = iter(rows)
        self._next = next(self._rows, None)

    def check(self, seq: int, leaf: bytes) -> Problem | None:
        found = self._next
        if found is None or found[0] != seq - 1 or found[1] != leaf:
            return Problem(TREE, seq, f"the tree's leaf for record #{seq} is missing or "
                                      "differs from the record: the record or the tree was "
                                      "altered")
        self._next = next(self._rows, None)
        return None

    def finish(self, walked: int) -> Problem | None:
        if self._next is not None and (not isinstance(self._next[0], int)
                                       or self._next[0] < walked):
            return Problem(TREE, walked, f"the tree holds a leaf after #{walked} out of order")
        return None


class _BatchCheck:
    """The ``batches`` table, which ``--resume`` reads, against the records it holds.

    Each record's batch must be listed with the record's mode and engine version
    and (for ``eval --record``'s records) the key of the policy chain it names: a
    batch row edited would make a resumed run settle under another chain or
    mode without a word.  ``started_at`` is not read by resume or replay.
    """

    def __init__(self, store: AuditStore):
        self._batches: dict = {}
        for batch in store.batches():
            self._batches[batch.batch] = batch
        self._recorded: dict[int, int] = {}
        self._marks = store.batch_marks()

    def check(self, seq: int, batch_no: int, data: dict) -> Problem | None:
        batch: Batch | None = self._batches.get(batch_no)
        if batch is None:
            return Problem(BATCHES, seq, f"record #{seq} belongs to batch {batch_no}, which "
                                         "the batches table does not list")
        wanted = (data.get("mode"), data.get("engine_version"))
        key = batch.policy_key
        if "kind" not in data:
            key = policy_key([PolicyRef.from_json(ref) for ref in data["policies"]])
        if (batch.mode, batch.engine_version, batch.policy_key) != (*wanted, key):
            return Problem(BATCHES, seq, f"batch {batch_no} in the batches table disagrees "
                                         f"with its record #{seq} (mode, engine version or "
                                         "policy key): the table was altered")
        self._recorded[batch_no] = self._recorded.get(batch_no, 0) + 1
        return None

    def add_recorded(self, recorded: dict[int, int]) -> None:
        """Records counted per batch elsewhere (verify's joined walk)."""
        for batch, count in recorded.items():
            self._recorded[batch] = self._recorded.get(batch, 0) + count

    def incomplete(self, walked: int) -> tuple[Problem, ...]:
        """Batches begun with a count of their input's lines and never finished."""
        found = []
        latest = max(self._batches, default=None)
        for batch, marks in sorted(self._marks.items(), key=lambda item: str(item[0])):
            if "expected" not in marks or "finished" in marks:
                continue
            recorded = self._recorded.get(batch, 0)
            expected = marks["expected"]
            of = f" of {expected}" if expected is not None else ""
            why = ("interrupted, or still being recorded: run it again with --resume to "
                   "finish it" if batch == latest else
                   "interrupted and abandoned: a later batch started without --resume")
            found.append(Problem(INCOMPLETE, 0, f"batch {batch} is incomplete: {recorded}"
                                                f"{of} line(s) recorded; {why}"))
        return tuple(found)
