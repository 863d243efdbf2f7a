"""A book entry's row in the person-year index: which fields of its body it copies.

Settling reads a person-year from these rows, not from the records' bodies (no
outcome, no trace), and ``audit verify`` checks that each row is what its body
makes.  Kept apart from audit/book.py, which settles and so imports the
evaluator: verify (forked before the policy is loaded, audit/verify_ahead.py)
imports this and nothing of the evaluator's.
"""

from __future__ import annotations

from yibao.audit.chain import canonical_json
from yibao.audit.store import IN_BODY, IN_BODY_MARK

# What settling reads of an entry, kept in the person-year index beside the record (and
# replay: the engine version): the body's small fields, so that settling reads no outcome
# and no trace.  Derived from the body; verify checks it.
ENTRY_FIELDS = ("kind", "claim_id", "payable", "policy_key", "policy_id", "policy_sha256",
                "line", "delta", "net", "direction", "caused_by", "engine_version")
# The body's large fields (audit/store.py IN_BODY: the claim, the policy chain, the ledger
# after the event) are not copied: an entry only marks the ledger (``"ledger_after":true``)
# and a reader takes them from the record's body (BookEntry.data).  An index written
# before (a book reindexed since moves it) copied them.
COPIED_ENTRY_FIELDS = ENTRY_FIELDS + IN_BODY


def index_entry(body: dict) -> tuple[str, int, str]:
    """(person id, year, entry) under which a book entry's body is indexed."""
    entry = {key: body[key] for key in ENTRY_FIELDS if key in body}
    if "ledger_after" in body:
        entry["ledger_after"] = IN_BODY_MARK
    # Part of a body already encoded by chain.link (or read back from one): no float.
    return body["person_id"], body["year"], canonical_json(entry, checked=True)


def copied_index_entry(body: dict) -> tuple[str, int, str]:
    """:func:`index_entry` as a yibao before the lean entry wrote it, copying the body's
    claim, policy chain and ledger: an old book's rows, which verify accepts too."""
    entry = {key: body[key] for key in COPIED_ENTRY_FIELDS if key in body}
    return body["person_id"], body["year"], canonical_json(entry, checked=True)
