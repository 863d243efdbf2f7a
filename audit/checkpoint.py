"""Signed checkpoints of the transparency log: a tree size, its root, a time, an Ed25519 signature.

A checkpoint says "the log ``origin`` held ``size`` records, and the Merkle
tree over them (audit/merkle.py) has root ``root``", signed by the operator's
key.  Whoever keeps one (a file, a witness store) can later prove that the
log still extends it (a consistency proof, ``audit verify --since``) and that
a record is in it (an inclusion proof, ``audit prove`` / ``check-proof``).

The signed message is the UTF-8 text of five lines, each ending in ``\\n``::

    yibao-checkpoint/1
    <origin>            the log's id (meta.log_id), so a checkpoint names its log
    <size>              decimal
    <root>              64 lower-case hex digits
    <time>              UTC, ISO 8601

and the file is JSON: those fields plus ``key_id`` (the first 16 hex digits
of the SHA-256 of the raw 32-byte public key) and ``signature`` (base64 of
the 64-byte Ed25519 signature).  Keys are PEM files: the private key PKCS #8
(written with mode 0600), the public key SubjectPublicKeyInfo.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re

import attrs

from yibao.audit import merkle
from yibao.audit.store import AuditError, AuditStore

FORMAT = "yibao-checkpoint/1"
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")

# Codes of the transparency log's refusals (docs/errors.md, family A4xx).
BAD_KEY = "A431"          # a key file that cannot be read, or is not an Ed25519 key
BAD_CHECKPOINT = "A432"   # a checkpoint file that is not a checkpoint
BAD_SIGNATURE = "A412"    # a checkpoint whose signature does not verify under the key


class CheckpointError(AuditError):
    def __init__(self, code: str, message: str, hint: str = ""):
        super().__init__(f"{code} {message}", hint)
        self.code = code


def _crypto():
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return serialization, ed25519, InvalidSignature


# ---- keys -----------------------------------------------------------------------------------
def keygen(path: str) -> tuple[str, str]:
    """Write a new key pair: ``path`` (private, mode 0600) and ``path.pub``; their key id."""
    serialization, ed25519, _ = _crypto()
    private = ed25519.Ed25519PrivateKey.generate()
    public_path = path + ".pub"
    for target in (path, public_path):
        if os.path.exists(target):
            raise CheckpointError(BAD_KEY, f"{target} already exists",
                                  "a key is never overwritten: choose another path")
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(pem)
    public = private.public_key()
    with open(public_path, "wb") as out:
        out.write(public.public_bytes(serialization.Encoding.PEM,
                                      serialization.PublicFormat.SubjectPublicKeyInfo))
    return public_path, key_id(public)


def key_id(public) -> str:
    serialization, _, _ = _crypto()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_private(path: str):
    serialization, ed25519, _ = _crypto()
    key = _load(path, lambda data: serialization.load_pem_private_key(data, password=None))
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise CheckpointError(BAD_KEY, f"{path} is not an Ed25519 private key",
                              "make one with yibao audit keygen")
    return key


def load_public(path: str):
    serialization, ed25519, _ = _crypto()
    key = _load(path, serialization.load_pem_public_key)
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise CheckpointError(BAD_KEY, f"{path} is not an Ed25519 public key",
                              "give the .pub file yibao audit keygen wrote")
    return key


def _load(path: str, parse):
    try:
        with open(path, "rb") as handle:
            data = handle.read(1 << 16)
        return parse(data)
    except OSError as error:
        raise CheckpointError(BAD_KEY, f"{path}: cannot read the key ({error.strerror})") from None
    except (ValueError, TypeError) as error:
        raise CheckpointError(BAD_KEY, f"{path} is not a PEM key ({error})",
                              "make one with yibao audit keygen") from None


# ---- checkpoints ----------------------------------------------------------------------------
@attrs.frozen
class Checkpoint:
    origin: str
    size: int
    root: str          # hex
    time: str
    key_id: str
    signature: str     # base64

    def message(self) -> bytes:
        return signed_message(self.origin, self.size, self.root, self.time)

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, **attrs.asdict(self)}, sort_keys=True)

    @property
    def root_bytes(self) -> bytes:
        return bytes.fromhex(self.root)


def signed_message(origin: str, size: int, root: str, time: str) -> bytes:
    return f"{FORMAT}\n{origin}\n{size}\n{root}\n{time}\n".encode("utf-8")


def parse(text: str, where: str) -> Checkpoint:
    """A checkpoint from its JSON text; CheckpointError (A432) for anything else."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(BAD_CHECKPOINT, f"{where} is not a checkpoint ({FORMAT})",
                              "give a file written by yibao audit checkpoint")
    fields = {name: data.get(name) for name in
              ("origin", "size", "root", "time", "key_id", "signature")}
    if not (isinstance(fields["size"], int) and not isinstance(fields["size"], bool)
            and fields["size"] >= 0
            and all(isinstance(fields[n], str) for n in
                    ("origin", "root", "time", "key_id", "signature"))
            and _HEX64.match(fields["root"]) and "\n" not in fields["origin"] + fields["time"]):
        raise CheckpointError(BAD_CHECKPOINT, f"{where}: a checkpoint field is missing or "
                                              "malformed (size, root, origin, time, key_id, "
                                              "signature)")
    return Checkpoint(**fields)


def read_checkpoints(path: str) -> list[Checkpoint]:
    """Every checkpoint in ``path``: one JSON object, or one per line (a witness file)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise CheckpointError(BAD_CHECKPOINT, f"{path}: cannot read it ({error})") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) <= 1:
        return [parse(text, path)]
    return [parse(line, f"{path} line {number}") for number, line in enumerate(lines, 1)]


def sign(store: AuditStore, private, time: str) -> Checkpoint:
    """A checkpoint of the store's whole tree now (the tree is caught up first)."""
    store.prepare_tree()
    size = store.tree_size()
    root = merkle.root(size, store.tree_nodes).hex()
    origin = store.log_id()
    signature = private.sign(signed_message(origin, size, root, time))
    return Checkpoint(origin, size, root, time, key_id(private.public_key()),
                      base64.b64encode(signature).decode("ascii"))


def check_signature(checkpoint: Checkpoint, public) -> None:
    """CheckpointError (A412) unless ``public`` signed ``checkpoint``."""
    _, _, invalid = _crypto()
    if checkpoint.key_id != key_id(public):
        raise CheckpointError(BAD_SIGNATURE, f"the checkpoint of size {checkpoint.size} was "
                                             f"signed by key {checkpoint.key_id}, not by "
                                             f"{key_id(public)}")
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
        public.verify(signature, checkpoint.message())
    except (invalid, binascii.Error, ValueError):
        raise CheckpointError(BAD_SIGNATURE, f"the signature of the checkpoint of size "
                                             f"{checkpoint.size} does not verify: it was "
                                             "altered or not signed by this key") from None


def export(checkpoint: Checkpoint, path: str) -> None:
    """Append the checkpoint to a witness file (one JSON object a line)."""
    with open(path, "a", encoding="utf-8") as out:
        out.write(checkpoint.to_json() + "\n")
