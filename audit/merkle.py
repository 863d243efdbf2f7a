"""The Merkle tree of RFC 9162 (§2.1) over the audit chain's records: hashes and proofs.

Leaf ``i`` (0-based) is record ``seq = i + 1``; its *leaf data* is the
record's canonical body exactly as the chain hashes it (the UTF-8 bytes of
``body``, audit/chain.py), whatever the body holds.  Hashing is RFC 9162's
with SHA-256:

- the empty tree: ``SHA-256()``;
- a leaf: ``SHA-256(0x00 || data)``;
- an interior node: ``SHA-256(0x01 || left || right)``, where a tree of ``n > 1``
  leaves splits at ``k``, the largest power of two smaller than ``n``.

The store keeps the hash of every *complete* subtree (``2**level`` leaves
starting at ``index * 2**level``): the leaves and every interior node that
will never change.  Any hash a proof needs, MTH(D[a:b]), is then the
right-fold of at most log2(n) stored hashes, so a proof costs O(log n) reads
(:func:`needed` lists them, one query reads them).

This module knows nothing of stores: a *reader* is a function from a set of
(level, index) keys to the hashes stored under them.
"""

from __future__ import annotations

import hashlib
from typing import Callable, Iterable, Iterator

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
Key = tuple[int, int]                              # (level, index) of a complete subtree
Reader = Callable[[set[Key]], dict[Key, bytes]]


class ProofError(ValueError):
    """A proof that does not verify; the message says at which step."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def record_leaf(body: str) -> bytes:
    """The leaf hash of a record: its canonical body's UTF-8 bytes are the leaf data."""
    return leaf_hash(body.encode("utf-8"))


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """k: the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


# ---- ranges as complete subtrees ----------------------------------------------------------
def subtrees(start: int, end: int) -> list[Key]:
    """The complete subtrees that make up D[start:end], left to right.

    ``start`` is a multiple of a power of two at least ``end - start`` (every range
    RFC 9162's recursion produces is), so the sizes are the binary digits of
    ``end - start``, largest first.
    """
    keys = []
    while start < end:
        level = (end - start).bit_length() - 1
        keys.append((level, start >> level))
        start += 1 << level
    return keys


def fold(hashes: list[bytes]) -> bytes:
    """MTH of a range from its complete subtrees' hashes (left to right): right-fold."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def range_hash(start: int, end: int, stored: dict[Key, bytes]) -> bytes:
    return fold([stored[key] for key in subtrees(start, end)])


# ---- proofs as ranges (RFC 9162 §2.1.3.1 PATH, §2.1.4.1 SUBPROOF) ------------------------------
def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose MTHs form the audit path of leaf ``index`` in a tree of ``size``."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return ranges[::-1]      # PATH lists the siblings from the leaf up


def consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """The ranges whose MTHs form the consistency proof from size ``old`` to ``new``."""
    if not 0 < old <= new:
        raise ValueError(f"no consistency proof from {old} to {new}")
    ranges: list[tuple[int, int]] = []
    start, end, whole = 0, new, True
    m = old
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        ranges.append((start, end))
    return ranges[::-1]


def needed(ranges: Iterable[tuple[int, int]]) -> set[Key]:
    return {key for start, end in ranges for key in subtrees(start, end)}


def hashes_of(ranges: list[tuple[int, int]], read: Reader) -> list[bytes]:
    """The MTHs of ``ranges``, from one read of the stored subtrees they need."""
    stored = read(needed(ranges))
    return [range_hash(start, end, stored) for start, end in ranges]


def root(size: int, read: Reader) -> bytes:
    return hashes_of([(0, size)], read)[0] if size else EMPTY_ROOT


def inclusion_proof(index: int, size: int, read: Reader) -> list[bytes]:
    return hashes_of(inclusion_ranges(index, size), read)


def consistency_proof(old: int, new: int, read: Reader) -> list[bytes]:
    return hashes_of(consistency_ranges(old, new), read) if old < new else []


# ---- verification (RFC 9162 §2.1.3.2 and §2.1.4.2, step by step) --------------------------------
def root_from_inclusion(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes:
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not below the tree size {size}")
    _check_sizes([leaf, *path])
    fn, sn, result = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            raise ProofError("the audit path is longer than the tree is high")
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the audit path is shorter than the tree is high")
    return result


def verify_inclusion(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> None:
    if root_from_inclusion(index, size, leaf, path) != root:
        raise ProofError(f"the audit path of leaf {index} does not lead to the root of the "
                         f"tree of {size}")


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes,
                       proof: list[bytes]) -> None:
    _check_sizes([old_root, new_root, *proof])
    if not 0 <= old <= new:
        raise ProofError(f"a tree of {new} cannot extend a tree of {old}")
    if old == new:
        if proof or old_root != new_root:
            raise ProofError(f"two trees of {old} with different roots")
        return
    if old == 0:
        if proof:
            raise ProofError("a proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError("an empty consistency proof")
    path = list(proof)
    if old & (old - 1) == 0:        # an exact power of two: the old tree is a subtree
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    first = second = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            first, second = node_hash(c, first), node_hash(c, second)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            second = node_hash(second, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if first != old_root:
        raise ProofError(f"the first {old} records do not have the old tree's root")
    if second != new_root:
        raise ProofError(f"the proof does not lead to the root of the tree of {new}")


def _check_sizes(hashes: list[bytes]) -> None:
    if any(not isinstance(h, bytes) or len(h) != HASH_SIZE for h in hashes):
        raise ProofError("a hash that is not 32 bytes")


# ---- keeping the tree as leaves are appended --------------------------------------------------
def frontier(size: int) -> set[Key]:
    """The complete subtrees on the right edge of a tree of ``size``: what appending needs."""
    return set(subtrees(0, size))


def extend(size: int, read: Reader, leaves: Iterable[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """(level, index, hash) of every complete subtree that appending ``leaves`` completes.

    Reads only the frontier (at most log2(size) hashes, one read), so a
    transaction's appends cost one read and one batched write of the tree.
    """
    known = read(frontier(size)) if size else {}
    for leaf in leaves:
        level, index, current = 0, size, leaf
        yield level, index, current
        known[(level, index)] = current
        while index & 1:      # a right child: its parent is now complete
            current = node_hash(known[(level, index - 1)], current)
            level, index = level + 1, index >> 1
            yield level, index, current
            known[(level, index)] = current
        size += 1
        # Only the frontier of the new size is ever read again.
        if len(known) > 256:
            keep = frontier(size)
            known = {key: value for key, value in known.items() if key in keep}


class Compact:
    """A tree's right edge kept in memory while its leaves are walked in order (verify)."""

    def __init__(self) -> None:
        self.size = 0
        self._edge: list[tuple[int, bytes]] = []      # (level, hash), largest first

    def add(self, leaf: bytes) -> None:
        level, current = 0, leaf
        while self._edge and self._edge[-1][0] == level:
            current = node_hash(self._edge.pop()[1], current)
            level += 1
        self._edge.append((level, current))
        self.size += 1

    def root(self) -> bytes:
        return fold([h for _, h in self._edge])
