"""Reading claim files (JSON Lines, ``-`` for stdin) without losing a bad line, and
the text file results go to."""

from __future__ import annotations

import contextlib
import sys
from typing import Iterator, TextIO


def read_claim_lines(path: str) -> Iterator[tuple[int, bytes]]:
    """Yield (line number, raw bytes) of each non-blank line; decoding is per claim."""
    stream = sys.stdin.buffer if path == "-" else open(path, "rb")
    try:
        for number, raw in enumerate(stream, 1):
            if raw.strip():
                yield number, raw.rstrip(b"\r\n")
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


@contextlib.contextmanager
def output_file(path: str | None) -> Iterator[TextIO]:
    """``path`` opened for text, or standard output (left open) when there is none."""
    if not path:
        yield sys.stdout
        return
    with open(path, "w", encoding="utf-8") as out:
        yield out
