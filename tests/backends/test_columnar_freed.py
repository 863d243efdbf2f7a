"""backends/columnar/freed.py: the heap a run will take, mapped ahead of it."""

from __future__ import annotations

import ctypes
import resource

from yibao.backends.columnar.freed import AHEAD_BLOCK, HEAP_BYTES_A_CLAIM, map_ahead

PAGE = 4096


def test_the_heap_a_run_takes_after_it_is_mapped_ahead_costs_no_page_faults():
    """Two 16 MiB blocks' claims (160 B a claim): the blocks are grown, freed and mapped;
    two arrays of a block each, written whole afterwards, take them with a page fault at
    most a few hundred pages, where taking fresh heap pages faults once a page (≈ 8,000
    here)."""
    claims = 2 * AHEAD_BLOCK // HEAP_BYTES_A_CLAIM + 1
    thread = map_ahead(claims)
    assert thread is not None
    thread.join()
    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    size = AHEAD_BLOCK - 2 * PAGE
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    blocks = [libc.malloc(size) for _ in range(2)]
    for block in blocks:
        ctypes.memset(block, 1, size)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    for block in blocks:
        libc.free(block)
    assert faults < 2 * size // PAGE // 20


def test_nothing_is_mapped_for_no_claims():
    assert map_ahead(0) is None
