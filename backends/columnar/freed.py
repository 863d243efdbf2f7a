"""The memory a run frees: kept for the run's own next arrays, then given back to the system.

**Kept** (:func:`keep_freed`).  glibc maps a large block (above a threshold it raises as
blocks are freed, from 128 kB) fresh from the system and unmaps it when freed, and it
returns the top of its heap to the system once more than twice that threshold is free
there.  A run at 10^6 claims makes and drops hundreds of 1–8 MB arrays (a mask is 1 MB):
each block taken fresh from the system is mapped page by page on its first touch, a page
fault each 4 kB (≈ 5–10 µs each on the shared machine, zeroing and all).  With blocks
below 32 MB taken from the heap and the heap kept (trimmed only past 1 GiB free), the
run's arrays reuse the pages its earlier arrays freed: 54,000–57,000 page faults at 10^6
claims against 43,000–46,000, and 0.3–0.6 s of system time against 0.2–0.4 (fresh
processes, `benchmarks/measure.py`, load 4–6).  Set once for the process (the settings
are the process's allocator's); what the run freed is given back at its end, below.

**Given back** (:func:`give_back`).  The window path's blocks gather their columns and
evaluate on worker threads (ColumnarRunner.settle_rows), and glibc's allocator keeps what
a thread freed in that thread's arena: ≈ 180 MiB after settling 10^6 claims, resident
while the results are written, which then counts in the run's peak (measured at 10^6
claims, the process's peak with the results written to Parquet: 642 MiB without this,
599 with it, 594 when the blocks did not gather on the workers).  ``malloc_trim(0)``
returns every arena's free pages; it takes ≈ 15 ms of CPU at 10^6, so it runs beside
the results (ctypes lets go of the interpreter lock during the call).  Once more when
the run returns (ColumnarRunner._settle_held), with Arrow's pool's free pages: what was
freed after the settle stage (the input's arrays, the results' makings; ≈ 110 MiB of the
heap and ≈ 55 MiB of Arrow's pool at 10^6 claims) stayed resident while the caller wrote
the results file, whose buffers came on top of it: the process tree's peak with the
results written to Parquet 588 [561–613] MiB, over the settle stage's ≈ 515, and 515
[510–515] with it (bench_batch, 10^6 claims, 5 fresh processes each).

**Mapped ahead** (:func:`map_ahead`).  What the run's arrays take beyond the heap's pages
is still mapped page by page, and in a fresh process that is most of it: ≈ 170 MiB of the
main thread's heap at 10^6 claims, ≈ 15,000 faults in admission and routing.  A fault
cost 2-25 µs there (fresh processes, `benchmarks/measure.py`, load 4-5: routing's 6,000
faults took 0.15 s of system time in the slow runs, routing 0.25 s where it takes 0.12).
So the heap is grown by the pages the run will take and they are mapped in one call a
block (``madvise(MADV_POPULATE_WRITE)``, ≈ 2 µs a page) on a thread of its own while the
file is read (pyarrow's threads leave part of a core free).  Medians of 8 interleaved
fresh runs at 10^6, load 4: admission's and routing's system time 0.15 → 0.02 s, their
CPU 0.33 → 0.20 s, their wall time 0.51 → 0.33 s, the read's 0.36 → 0.44 s; the run
1.56 → 1.41 s, its peak the same (515 MiB).  At load 2.7 (8 rounds): routing 0.23 →
0.09 s (its 5,900 faults had taken 0.16 s of system time), admission 0.075 → 0.062 s,
the read 0.14 → 0.18 s, the run 0.96 → 0.64 s.

Where the C library is not glibc (no ``mallopt`` or ``malloc_trim``) nothing is done.
"""

from __future__ import annotations

import ctypes
import threading

# glibc's malloc.h
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20   # glibc's largest (DEFAULT_MMAP_THRESHOLD_MAX on 64 bits)
TRIM_THRESHOLD = 1 << 30
MADV_POPULATE_WRITE = 23    # Linux 5.14; an older kernel refuses it (EINVAL): no harm
HEAP_BYTES_A_CLAIM = 160    # the main thread's heap at its largest, 10^6 claims: 172 MiB
AHEAD_BLOCK = 16 << 20      # grown by blocks below MMAP_THRESHOLD, which the heap serves

_kept = False


def _libc(name: str):
    try:
        return getattr(ctypes.CDLL(None), name)
    except (AttributeError, OSError):
        return None


def keep_freed() -> None:
    """Take blocks below 32 MB from the heap and keep the heap's free top (up to 1 GiB)
    for the process's next arrays; once a process."""
    global _kept
    if _kept:
        return
    _kept = True
    mallopt = _libc("mallopt")
    if mallopt is not None:
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)


def give_back() -> threading.Thread | None:
    """Start returning the freed memory; join the thread returned (None: nothing to do)."""
    trim = _libc("malloc_trim")
    if trim is None:
        return None
    thread = threading.Thread(target=trim, args=(0,), name="malloc_trim", daemon=True)
    thread.start()
    return thread


def map_ahead(claims: int) -> threading.Thread | None:
    """Grow the heap (keep_freed's) by what a run of ``claims`` claims will take and map
    its pages on a thread (join it to wait; None: nothing to do).  The blocks are freed at
    once, into the heap's free top, which keep_freed keeps: the run's arrays take them,
    mapped or not yet, and the pages are resident no sooner than the run's own would be
    at its largest."""
    keep_freed()
    malloc, free, madvise = _libc("malloc"), _libc("free"), _libc("madvise")
    if claims <= 0 or None in (malloc, free, madvise):
        return None
    malloc.restype, malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    free.argtypes = [ctypes.c_void_p]
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    page = 4096
    blocks = [malloc(AHEAD_BLOCK) for _ in range(claims * HEAP_BYTES_A_CLAIM // AHEAD_BLOCK)]
    spans = [((block + page - 1) & -page, AHEAD_BLOCK - page) for block in blocks if block]
    for block in blocks:
        free(block)
    if not spans:
        return None

    def populate() -> None:
        for start, length in spans:
            madvise(start, length, MADV_POPULATE_WRITE)

    thread = threading.Thread(target=populate, name="map_ahead", daemon=True)
    thread.start()
    return thread
