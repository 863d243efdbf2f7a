"""The claim ids a stream has seen (C312), in bounded memory.

A repeated claim id is refused anywhere in a batch (docs/claims.md), so a
stream must remember every id it settled.  Held in a Python set, that costs
about 100 bytes an id: a city's year of claims would need gigabytes.  So the
most recent ``in_memory`` ids stay in a set, and the rest move, in sorted
runs, to a SQLite file in the temporary directory that the set closes with
the stream.  A fixed-size Bloom filter over the moved ids answers "certainly
new" for almost every new id, so the file is read only for ids that may have
been seen; it alone decides, so the answer stays exact.  Memory is bounded by
``in_memory`` ids and the filter's 16 MiB, whatever the number of claims.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile

DEFAULT_IN_MEMORY = 1_000_000   # ≈ 100 MB of ids before the first move to disk
FILTER_BITS = 1 << 27           # 16 MiB: under 2% false positives at 10^7 moved ids
_POSITION = FILTER_BITS - 1


class ClaimIds:
    """``add(claim_id)``: True when the id is new (and now seen), False when seen."""

    def __init__(self, in_memory: int = DEFAULT_IN_MEMORY, directory: str | None = None):
        if in_memory < 1:
            raise ValueError("in_memory must be at least 1")
        self.in_memory = in_memory
        self.directory = directory
        self.recent: set[str] = set()
        self.moved = 0
        self.disk_reads = 0
        self._filter: bytearray | None = None
        self._db: sqlite3.Connection | None = None
        self._path: str | None = None

    def add(self, claim_id: str) -> bool:
        recent = self.recent
        if claim_id in recent:
            return False
        if self._filter is not None and self._maybe_moved(claim_id) and self._on_disk(claim_id):
            return False
        if len(recent) >= self.in_memory:
            self._move_to_disk()
            recent = self.recent
        recent.add(claim_id)
        return True

    def __len__(self) -> int:
        return len(self.recent) + self.moved

    def close(self) -> None:
        """Delete the file; the set is then empty (a stream's ids die with the stream)."""
        if self._db is not None:
            self._db.close()
            os.unlink(self._path)
        self._db = self._path = self._filter = None
        self.recent = set()
        self.moved = 0

    def __enter__(self) -> "ClaimIds":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- the filter: two bits from the string's own hash (cached on the string,
    # stable within the process, which is all the filter lives) ----
    def _maybe_moved(self, claim_id: str) -> bool:
        bits = self._filter
        first, second = _bits(claim_id)
        return bool(bits[first >> 3] >> (first & 7) & 1 and bits[second >> 3] >> (second & 7) & 1)

    def _on_disk(self, claim_id: str) -> bool:
        self.disk_reads += 1
        return self._db.execute("SELECT 1 FROM ids WHERE id = ?", (claim_id,)).fetchone() is not None

    def _move_to_disk(self) -> None:
        if self._db is None:
            self._open()
        bits = self._filter
        for claim_id in self.recent:
            first, second = _bits(claim_id)
            bits[first >> 3] |= 1 << (first & 7)
            bits[second >> 3] |= 1 << (second & 7)
        with self._db:
            self._db.executemany("INSERT INTO ids VALUES (?)",
                                 ((claim_id,) for claim_id in sorted(self.recent)))
        self.moved += len(self.recent)
        self.recent = set()

    def _open(self) -> None:
        handle, self._path = tempfile.mkstemp(prefix="yibao-claim-ids-", suffix=".sqlite",
                                              dir=self.directory)
        os.close(handle)
        # Scratch data that dies with the stream: no journal, no fsync.
        self._db = sqlite3.connect(self._path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute("PRAGMA cache_size = -8192")   # KiB: bounded, like the rest
        self._db.execute("CREATE TABLE ids (id TEXT PRIMARY KEY) WITHOUT ROWID")
        self._db.isolation_level = ""   # `with self._db` then commits each move
        self._filter = bytearray(FILTER_BITS // 8)


def _bits(claim_id: str) -> tuple[int, int]:
    """The id's two positions in the filter."""
    h = hash(claim_id)
    return h & _POSITION, (h >> 32) & _POSITION
