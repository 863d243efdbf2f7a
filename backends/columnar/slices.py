"""A batch's row-aligned arrays put together from its slices, as threads work them out.

The masks (admit.py) and the routing's columns (prepare.py) of a claim are its own,
so each slice of a table (a Parquet row group) is worked out on its own, on both
cores, while the next is read.  Joining the slices' arrays at the end held them all
twice over and, worse, kept the slices' memory in the worker threads' malloc arenas
(≈ 120 MiB more at 10^6 claims): here each slice's arrays are copied into the whole
batch's as soon as they are made, and let go, so a thread's next slice reuses their
memory.  A whole array is allocated at the first slice that brings it, of that
slice's dtype.
"""

from __future__ import annotations

import threading

import numpy as np


class Whole:
    """Arrays of ``count`` rows, by key, filled slice by slice from any thread."""

    def __init__(self, count: int):
        self.count = count
        self.arrays: dict = {}
        self._lock = threading.Lock()

    def put(self, key, lo: int, values: np.ndarray) -> None:
        """``values`` at rows [lo, lo + len(values)) of the array ``key``."""
        with self._lock:
            whole = self.arrays.get(key)
            if whole is None:
                whole = self.arrays[key] = np.empty(self.count, dtype=values.dtype)
        whole[lo:lo + len(values)] = values

    def pop(self, key) -> np.ndarray:
        return self.arrays.pop(key)

    def keys(self, kind: str) -> list:
        """The keys ``(kind, name)``, in the order the slices brought them."""
        return [key for key in self.arrays if isinstance(key, tuple) and key[0] == kind]
