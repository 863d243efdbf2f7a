"""The text file results go to, and a standard output that never takes a cut write
for a whole one.  Claims files are read by core/jsonl.py (JSON Lines) and
backends/formats.py (CSV, Parquet)."""

from __future__ import annotations

import contextlib
import io
import sys
from typing import Iterator, TextIO


@contextlib.contextmanager
def output_file(path: str | None) -> Iterator[TextIO]:
    """``path`` opened for text, or standard output (left open) when there is none."""
    if not path:
        yield sys.stdout
        return
    with open(path, "w", encoding="utf-8") as out:
        yield out


class _WholeWrites(io.BufferedWriter):
    """A binary stream whose ``write`` writes all it is given or raises.

    Python's own standard output may return a short count from a large write to a
    pipe whose reader has gone (measured: 65,536 of 6,000,000 bytes, no error), and
    a text stream above it ignores the count: a cut output would pass for a whole
    one.  Writing the rest makes the next system call fail with BrokenPipeError."""

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        total = len(view)
        while view:
            written = super().write(view)
            if not written:   # non-blocking and full: nothing of ours does that
                raise BlockingIOError("standard output accepted no bytes")
            view = view[written:]
        return total


def whole_writes_stdout() -> None:
    """Replace ``sys.stdout`` by the same text stream over :class:`_WholeWrites`, so
    that a cut output is always an error (the ``yibao`` command, cli/main.py)."""
    old = sys.stdout
    try:
        descriptor = old.fileno()
    except (AttributeError, OSError, ValueError):   # already replaced (a test's capture)
        return
    old.flush()
    binary = _WholeWrites(io.FileIO(descriptor, "w", closefd=False))
    sys.stdout = io.TextIOWrapper(binary, encoding=old.encoding, errors=old.errors,
                                  line_buffering=old.line_buffering)
