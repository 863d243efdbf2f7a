"""A settlement record's body and index entry from a template (issue 22 §9, the lean run).

A daily run writes some ten thousand ``settlement`` records whose canonical bodies
(audit/chain.py: keys sorted, no spaces, UTF-8) differ only in a dozen fields.
What every record of a run says the same way (the batch, the engine version, the
format, the mode, the policy chain and its key, and per policy version its id and
source sha256) is encoded here once, as the byte runs that lie between the
per-claim fields in sorted key order; a record is then those runs joined with the
per-claim fields, each encoded by orjson as chain.canonical_bytes would encode it.
The chain's own fields (``position``, ``prev``, ``previous``, ``recorded_at``,
``seq``) are spliced in by the writer.  The index entry (book_index.index_entry: the
fields a fold reads) is built from the same encoded pieces rather than encoded a
second time.

Byte for byte what ``chain.link`` and ``book_index.index_entry`` write for the same
fields (tests/audit/test_book_lean.py compares them directly, and the fast-path
differential tests compare whole books).  A value orjson does not write as json
would (chain.py: an integer past 64 bits, a lone surrogate, a subclass) raises
:class:`NotTemplated`, and the writer takes the general path for that record.
"""

from __future__ import annotations

import orjson

from yibao import ENGINE_VERSION
from yibao.audit.book import BOOK_MODE, SETTLEMENT
from yibao.audit.chain import RECORD_FORMAT

# As audit/chain.py's canonical encoding: sorted keys; a subclass, a datetime or a
# dataclass is not written by orjson but refused (``default``), so it never passes
# as something json would have written differently.
_OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS
            | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS)


_LEDGER_IN_BODY = b',"ledger_after":true'   # (store.IN_BODY_LEDGER)


class NotTemplated(Exception):
    """A value the template does not write as chain.canonical_bytes would."""


def _refuse(value):
    raise TypeError(type(value).__name__)


def encode(value) -> bytes:
    """One value as chain.canonical_bytes writes it, or :class:`NotTemplated`."""
    try:
        return orjson.dumps(value, default=_refuse, option=_OPTIONS)
    except orjson.JSONEncodeError as error:
        raise NotTemplated(str(error)) from None


class SettlementTemplate:
    """The constant byte runs of one run's ``settlement`` records (one batch, one chain).

    Body keys in canonical order: batch, claim, claim_id, engine_version, format,
    input_line, kind, [ledger_after], mode, outcome, payable, person_id, policies,
    policy_id, policy_key, policy_sha256, position, prev, previous, recorded_at,
    seq, year (format yibao-audit/4: no ``year_to_date_from``, audit/chain.py).
    Index entry: claim_id, engine_version, kind, [ledger_after: true], payable,
    policy_id, policy_key, policy_sha256 (the claim, the chain and the ledger are left in
    the body: audit/store.py IN_BODY).
    """

    def __init__(self, batch: int, policy_refs: list[dict], policy_key: str,
                 sha_of: dict[str, str]):
        self._body_open = b'{"batch":' + encode(batch) + b',"claim":'
        engine = b',"engine_version":' + encode(ENGINE_VERSION)
        self._body_engine = engine + b',"format":' + encode(RECORD_FORMAT) + b',"input_line":'
        self._kind = b',"kind":' + encode(SETTLEMENT)
        self._entry_engine = engine + self._kind
        self._mode = b',"mode":' + encode(BOOK_MODE) + b',"outcome":'
        self._policies = b',"policies":' + encode(policy_refs)
        self._key = b',"policy_key":' + encode(policy_key) + b',"policy_sha256":'
        self._sha_of = sha_of
        self._versions: dict[str, bytes] = {}   # policy id → its run of the policy fields
        self._entry_versions: dict[str, bytes] = {}   # the same but for the chain (policies)
        self._chain_length = len(self._policies)      # a version's run begins with the chain

    def version(self, policy_id: str) -> bytes:
        """policies, policy_id, policy_key, policy_sha256 for a record of ``policy_id``."""
        found = self._versions.get(policy_id)
        if found is None:
            found = self._versions[policy_id] = self._policies + self._entry_version(policy_id)
        return found

    def _entry_version(self, policy_id: str) -> bytes:
        """policy_id, policy_key, policy_sha256: the index entry's (it leaves the chain in the
        body), and the tail of :meth:`version`."""
        found = self._entry_versions.get(policy_id)
        if found is None:
            found = self._entry_versions[policy_id] = (
                b',"policy_id":' + encode(policy_id) + self._key
                + encode(self._sha_of.get(policy_id)))
        return found

    def record(self, claim: bytes, claim_id: bytes, input_line: int, ledger_after: bytes | None,
               outcome: bytes, payable: bytes, person_id: bytes, version: bytes, year: int
               ) -> tuple[bytes, bytes, bytes]:
        """(the body before its chain fields, the body after them, the index entry); every
        argument already encoded (``encode``) but the integers.  The body is the first,
        then :func:`chain_fields`, then the second."""
        ledger = b',"ledger_after":' + ledger_after if ledger_after is not None else b""
        head = b"".join((
            self._body_open, claim, b',"claim_id":', claim_id, self._body_engine,
            b"%d" % input_line, self._kind, ledger, self._mode, outcome, b',"payable":', payable,
            b',"person_id":', person_id, version))
        rest = b',"year":%d}' % year
        # The entry leaves the claim, the chain and the ledger in the body (store.IN_BODY),
        # and marks the ledger: ``"ledger_after":true``.
        entry = b"".join((b'{"claim_id":', claim_id, self._entry_engine,
                          _LEDGER_IN_BODY if ledger_after is not None else b"",
                          b',"payable":', payable, version[self._chain_length:], b"}"))
        return head, rest, entry


def chain_fields(position: int, prev: str, previous: tuple[int, str] | None, recorded_at: bytes,
                 seq: int) -> bytes:
    """position, prev, previous, recorded_at (encoded once a transaction) and seq."""
    earlier = (b'{"hash":"%s","seq":%d}' % (previous[1].encode("ascii"), previous[0])
               if previous is not None else b"null")
    return b',"position":%d,"prev":"%s","previous":%s,"recorded_at":%s,"seq":%d' % (
        position, prev.encode("ascii"), earlier, recorded_at, seq)
