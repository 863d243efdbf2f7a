"""Reading claim files (JSON Lines, ``-`` for stdin) without losing a bad line."""

from __future__ import annotations

import sys
from typing import Iterator


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
