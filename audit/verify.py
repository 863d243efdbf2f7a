"""`yibao audit verify`: walk the chain and name the first record that was tampered with.

Each record is checked in the store's order: its body must hash to its
stored hash (else it was *altered*); its body's ``seq`` must follow the
previous one (a gap is a *removed* record, a record found later is a
*reordered* one); its ``prev`` must be the previous record's hash (else the
previous record was altered and re-hashed); its indexed columns must agree
with its body; and every policy text it names must be stored and still hash
to its name (else the *policy text* was altered).  Removing records from the
end of the chain leaves a valid shorter chain: compare the head hash that
verify prints with one kept elsewhere (``--head``) to catch that.
"""

from __future__ import annotations

import json

import attrs

from yibao.audit.book import index_entry
from yibao.audit.chain import FORMATS, GENESIS, body_hash
from yibao.audit.store import AuditStore, StoredRecord
from yibao.dsl.loader import source_sha256

ALTERED, REMOVED, REORDERED, POLICY_TEXT, HEAD, BOOK_INDEX = (
    "altered", "removed", "reordered", "policy text altered", "head", "book index")


@attrs.frozen
class Problem:
    kind: str
    seq: int          # the first record concerned
    message: str


@attrs.frozen
class VerifyReport:
    records: int              # records that verified, from the first
    head: str                 # hash of the last of them (GENESIS for none)
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_store(store: AuditStore, expected_head: str | None = None,
                 since: tuple[int, str] | None = None) -> VerifyReport:
    """Walk the chain (from the head ``since`` = (seq, hash) verified earlier, if given)."""
    sources = {sha: source_sha256(text) for sha, text in store.sources()}
    count, head, expected = 0, GENESIS, 1
    if since is not None:
        problem = _check_since(store, since)
        if problem is not None:
            return VerifyReport(0, GENESIS, problem)
        count, head, expected = since[0], since[1], since[0] + 1
    start = count
    # The book's index is compared row by row as the records are walked (both in seq
    # order), so memory does not grow with the book.
    index = _IndexWalk(store.book_index(after=start))
    for record in store.records(after=start):
        problem = _check(store, record, expected, head, sources)
        if problem is not None:
            return VerifyReport(count, head, problem)
        count, head, expected = count + 1, record.hash, expected + 1
        data = json.loads(record.body)
        wanted = (record.seq, *index_entry(data)) if "kind" in data else None
        problem = index.check(record.seq, wanted)
        if problem is not None:
            return VerifyReport(count, head, problem)
    problem = index.finish(count)
    if problem is not None:
        return VerifyReport(count, head, problem)
    if expected_head is not None and expected_head != head:
        return VerifyReport(count, head, Problem(
            HEAD, count, f"the chain ends at #{count} with hash {head}, not {expected_head}: "
                         "records were removed from its end, or it was rewritten"))
    return VerifyReport(count, head)


def _check(store: AuditStore, record: StoredRecord, expected: int, prev: str,
           sources: dict[str, str]) -> Problem | None:
    if body_hash(record.body) != record.hash:
        return Problem(ALTERED, record.seq, f"record #{record.seq} was altered: its content no "
                                            "longer matches its hash")
    try:
        data = json.loads(record.body)
        seq = data["seq"]
    except (ValueError, KeyError, TypeError):
        return Problem(ALTERED, record.seq, f"record #{record.seq} is not a record body")
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
    return _check_policies(data, sources)


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
    except ValueError:
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

    def check(self, seq: int, wanted: tuple | None) -> Problem | None:
        if self._next is not None and self._next[0] < seq:
            return _index_problem(self._next[0])    # a row for no book entry
        if self._next is not None and self._next[0] == seq:
            found, self._next = tuple(self._next), next(self._rows, None)
            return None if found == wanted else _index_problem(seq)
        return None if wanted is None else _index_problem(seq)   # an entry with no row

    def finish(self, walked: int) -> Problem | None:
        if self._next is not None and self._next[0] <= walked:
            return _index_problem(self._next[0])
        return None


def _index_problem(seq: int) -> Problem:
    return Problem(BOOK_INDEX, seq, f"the book index disagrees with the chain at record #{seq}: "
                                    "run yibao audit reindex to rebuild it from the chain")
