"""JSON Lines, read and written one way for every path (scalar, batch, audit, CLI).

Reading (docs/claims.md): a file is split at b"\\n"; a line holding only white
space (``bytes.strip()``'s) is skipped but counted, so that a claim's line
number is its line in the file; a line's b"\\r\\n" or b"\\n" ending is not part
of it.  The lines stay bytes: each is decoded on its own (runtime/claims.py),
so a line that is not UTF-8 refuses that claim alone (C300).  The DuckDB
reader (backends/duckdb_io.py) splits a whole file at once with NumPy and
Arrow by exactly this rule.

Writing: one JSON text a line, ``json.dumps(value, ensure_ascii=False)`` —
Chinese stays Chinese — then b"\\n", UTF-8.  A value already written as JSON
text (a str, or an :class:`Encoded` object, which carries its text) is written as
it is.
"""

from __future__ import annotations

import json
import sys
from typing import IO, Iterable, Iterator

STDIN = "-"


def read_lines(path: str) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) of each line that is not blank; ``-`` reads standard input."""
    stream = sys.stdin.buffer if path == STDIN else open(path, "rb")
    try:
        for number, raw in enumerate(stream, 1):
            if raw.strip():
                yield number, raw.rstrip(b"\r\n")
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def dumps(value) -> str:
    """One line's JSON text (no newline)."""
    return json.dumps(value, ensure_ascii=False)


class Encoded(dict):
    """A JSON object that carries its line's text (``text``: what :func:`dumps` writes for
    it), built where that was cheaper than encoding the object here (the book's run
    worker: audit/work_ahead.py).  Written as that text; otherwise a dict."""

    __slots__ = ("text",)


def text_of(value) -> str:
    """A line's JSON text: a str as it is, an Encoded object's own text, else dumps."""
    if isinstance(value, str):
        return value
    if type(value) is Encoded:
        return value.text
    return dumps(value)


def write_lines(values: Iterable, out: IO[str], flush: bool = False) -> int:
    """Each value (JSON-able, or a str already JSON text) as a line of ``out``; how many.

    ``flush``: each line is flushed as it is written, for a reader that follows the
    output while the run goes on (``yibao eval --stream``, ``--record``)."""
    count = 0
    for value in values:
        out.write(text_of(value) + "\n")
        if flush:
            out.flush()
        count += 1
    return count


def write_file(values: Iterable, path: str) -> int:
    """:func:`write_lines` into a new UTF-8 file at ``path``; how many lines."""
    with open(path, "w", encoding="utf-8") as out:
        return write_lines(values, out)
