"""Inclusion proofs: a claim's record, shown to be in the log under a signed checkpoint.

A proof file (``yibao-proof/1``, JSON) is self-contained: the record as
stored (seq, hash, canonical body), its leaf hash, the RFC 9162 audit path
to the root of the tree of ``checkpoint.size`` records, and the checkpoint
itself with the key id that signed it.  :func:`check` verifies it with
nothing but the public key; docs/transparency.md gives the same algorithm
for another system to implement.
"""

from __future__ import annotations

import json

import attrs

from yibao.audit import merkle
from yibao.audit.chain import body_hash
from yibao.audit.checkpoint import (FORMAT as CHECKPOINT_FORMAT, Checkpoint, CheckpointError,
                                    check_signature, parse)
from yibao.audit.store import AuditError, AuditStore

FORMAT = "yibao-proof/1"
BAD_PROOF = "A415"        # a proof whose record, leaf or path does not verify
NOT_A_PROOF = "A433"      # a file that is not a proof
NO_CHECKPOINT = "A434"    # no checkpoint covers the record: sign one first


def prove(store: AuditStore, claim_id: str, checkpoint: Checkpoint,
          seq: int | None = None) -> dict:
    """The proof that ``claim_id``'s latest record (or record ``seq``) is in the log."""
    records = [r for r in store.records_of_claim(claim_id) if seq in (None, r.seq)]
    if not records:
        which = f" as #{seq}" if seq is not None else ""
        raise AuditError(f"{store.location} holds no record of claim {claim_id}{which}")
    record = records[-1]
    if record.seq > checkpoint.size:
        raise CheckpointError(NO_CHECKPOINT, f"record #{record.seq} of claim {claim_id} came "
                                             f"after the checkpoint (size {checkpoint.size})",
                              "sign a new one: yibao audit prove … --key KEYFILE, or yibao "
                              "audit checkpoint STORE --key KEYFILE")
    read = store.tree_nodes
    if merkle.root(checkpoint.size, read) != checkpoint.root_bytes:
        raise CheckpointError("A411", f"the store's tree of {checkpoint.size} records no longer "
                                      "has the checkpoint's root", "run yibao audit verify")
    path = merkle.inclusion_proof(record.seq - 1, checkpoint.size, read)
    return {"format": FORMAT, "claim_id": claim_id,
            "record": {"seq": record.seq, "hash": record.hash, "body": record.body},
            "leaf_index": record.seq - 1,
            "leaf_hash": merkle.record_leaf(record.body).hex(),
            "path": [h.hex() for h in path],
            "checkpoint": json.loads(checkpoint.to_json()),
            "key_id": checkpoint.key_id}


@attrs.frozen
class Proved:
    claim_id: str
    seq: int
    body: dict
    checkpoint: Checkpoint


def check(text: str, public, where: str = "the proof") -> Proved:
    """Verify a proof file's text; CheckpointError with A412/A415/A432/A433 otherwise."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(NOT_A_PROOF, f"{where} is not a proof ({FORMAT})",
                              "give a file written by yibao audit prove")
    record, path = data.get("record"), data.get("path")
    if not (isinstance(record, dict) and isinstance(record.get("body"), str)
            and isinstance(record.get("hash"), str) and _is_int(record.get("seq"))
            and _is_int(data.get("leaf_index")) and isinstance(data.get("leaf_hash"), str)
            and isinstance(path, list) and all(isinstance(h, str) for h in path)
            and isinstance(data.get("checkpoint"), dict)):
        raise CheckpointError(NOT_A_PROOF, f"{where}: a field is missing or malformed "
                                           "(record, leaf_index, leaf_hash, path, checkpoint)")
    checkpoint_json = data["checkpoint"]
    if checkpoint_json.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(NOT_A_PROOF, f"{where} holds no checkpoint")
    checkpoint = parse(json.dumps(checkpoint_json), f"{where}'s checkpoint")
    check_signature(checkpoint, public)
    seq, body = record["seq"], record["body"]
    bad = lambda why: CheckpointError(BAD_PROOF, f"{where} does not verify: {why}")
    if body_hash(body) != record["hash"]:
        raise bad(f"record #{seq}'s body does not hash to its hash: the record was altered")
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict) or parsed.get("seq") != seq \
            or parsed.get("claim_id") != data.get("claim_id"):
        raise bad(f"the body is not record #{seq} of claim {data.get('claim_id')}")
    if data["leaf_index"] != seq - 1:
        raise bad(f"leaf {data['leaf_index']} is not the leaf of record #{seq}")
    leaf = merkle.record_leaf(body)
    if data["leaf_hash"] != leaf.hex():
        raise bad(f"the leaf hash is not SHA-256(0x00 || body) of record #{seq}")
    try:
        hashes = [bytes.fromhex(h) for h in path]
        merkle.verify_inclusion(seq - 1, checkpoint.size, leaf, hashes, checkpoint.root_bytes)
    except (ValueError, merkle.ProofError) as error:
        raise bad(f"record #{seq} is not in the tree the checkpoint signed ({error})") from None
    return Proved(data.get("claim_id"), seq, parsed, checkpoint)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
