"""Work shared by a few threads, taken in order: the readers' blocks, the writers' chunks.

Arrow's and NumPy's kernels release the GIL, so a reader typing blocks of a claims
file, or a writer turning result chunks into text, keeps both cores busy with a
thread each while the main thread reads or writes the file.  What is built and not
yet taken is bounded, whatever the file's size.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, TypeVar

_Item = TypeVar("_Item")
_Built = TypeVar("_Built")


def cores() -> int:
    """The cores this process may run on (a container's share, not the machine's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:   # not on Linux
        return os.cpu_count() or 1


def built_in_order(build: Callable[[_Item], _Built], items: Iterable[_Item],
                   workers: int) -> Iterator[_Built]:
    """``build(item)`` for each item, on ``workers`` threads (at most the cores), yielded
    in the items' order; at most ``workers + 1`` built and not yet taken, so ``items``
    is drawn on (a file read) only as fast as the builds are taken."""
    workers = max(1, min(workers, cores()))
    with ThreadPoolExecutor(workers) as pool:
        pending: deque = deque()
        try:
            for item in items:
                pending.append(pool.submit(build, item))
                if len(pending) > workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:   # an error, or the caller stopped: what was not started is not built
            for future in pending:
                future.cancel()
