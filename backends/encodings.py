"""The text encoding of a claims file: UTF-8, or the one ``--encoding`` names.

Claims files are UTF-8 (docs/claims.md).  Excel on a Chinese Windows saves CSV in
GBK (code page 936) unless told otherwise, and some exports start with a UTF-8
byte-order mark; both reach yibao.  So every reader — scalar, DuckDB, Spark —
is handed a file that is UTF-8 without a byte-order mark, prepared here once,
the same way for all of them:

- UTF-8 JSON Lines go as they are: each line is decoded on its own, and a line
  that is not UTF-8 is that claim's C300 (one bad claim never stops a batch); a
  byte-order mark before the first line is skipped (runtime/claims.py).
- UTF-8 CSV is checked whole first: a CSV row may span lines (a quoted cell), so
  a byte that is not UTF-8 cannot be pinned on one claim, and the file is
  refused (C330, with the line and the hint ``--encoding gbk`` when the bytes
  read as GBK).  A byte-order mark is dropped (into a temporary copy), so that
  every reader sees ``claim_id`` as the first column's name.
- A file in GBK or GB18030 is decoded line by line into a temporary UTF-8 copy.
  Their bytes never hold a newline inside a character (lead bytes ≥ 0x81, trail
  bytes ≥ 0x30), so the copy's lines are the file's lines, numbered alike.  A
  byte the named encoding cannot read refuses the whole file (C330): the user
  said what the file is, and it is not.

``utf-8-sig`` is accepted as the name Python gives UTF-8 with a byte-order mark;
it reads as ``utf-8`` does, the mark being detected either way.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import sys
import tempfile
from typing import BinaryIO, Iterator

import attrs

from yibao.runtime.claims import not_utf8_hint

ENCODINGS = ("utf-8", "utf-8-sig", "gbk", "gb18030")
UTF8 = ("utf-8", "utf-8-sig")
BOM = codecs.BOM_UTF8
CHUNK = 1 << 20


@attrs.frozen
class ClaimsFileError(Exception):
    """A claims file no claim can be read from: a file-level refusal (exit 2)."""

    code: str
    path: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {self.code} {self.message}"


@contextlib.contextmanager
def utf8_claims(path: str, fmt: str, encoding: str | None = None) -> Iterator[str]:
    """A path to the claims as UTF-8 without a byte-order mark: ``path`` itself, or a
    temporary copy deleted on leaving.  Raises ClaimsFileError."""
    encoding = (encoding or "utf-8").lower()
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown claims encoding {encoding}")
    if fmt == "parquet" or (encoding in UTF8 and (fmt == "jsonl" or path == "-")):
        # Parquet text is UTF-8 by its specification; JSON Lines are decoded line by
        # line; only JSON Lines come from stdin (cli/batch_io.py refuses the rest)
        yield path
        return
    if encoding in UTF8:   # CSV
        found = _first_undecodable(path)
        if found is not None:
            raise not_readable(path, *found, "utf-8")
        if not _starts_with_bom(path):
            yield path
            return
    handle, copy = tempfile.mkstemp(prefix="yibao-claims-", suffix="." + fmt)
    try:
        with os.fdopen(handle, "wb") as out, _opened(path) as source:
            _copy_as_utf8(source, out, path, encoding)
        yield copy
    finally:
        os.unlink(copy)


@contextlib.contextmanager
def _opened(path: str) -> Iterator[BinaryIO]:
    if path == "-":
        yield sys.stdin.buffer
        return
    with open(path, "rb") as stream:
        yield stream


def _starts_with_bom(path: str) -> bool:
    with open(path, "rb") as stream:
        return stream.read(len(BOM)) == BOM


def _first_undecodable(path: str) -> tuple[int, bytes, int] | None:
    """(line number, line, byte offset) of the first bytes that are not UTF-8, or None.

    A MiB at a time (the common case: all UTF-8); line by line only to find where."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as stream:
            while chunk := stream.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return None
    except UnicodeDecodeError:
        pass
    with open(path, "rb") as stream:
        for number, line in enumerate(stream, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as error:
                return number, line, error.start
    return None   # unreachable: the whole file did not decode, so some line does not


def _copy_as_utf8(source: BinaryIO, out: BinaryIO, path: str, encoding: str) -> None:
    for number, line in enumerate(source, 1):
        if number == 1 and line.startswith(BOM):
            if encoding not in UTF8:
                raise ClaimsFileError(
                    "C330", path, f"the file starts with a UTF-8 byte-order mark, but "
                    f"--encoding {encoding} says it is {encoding.upper()}",
                    "the file is UTF-8: drop --encoding")
            line = line[len(BOM):]
        try:
            text = line.decode("utf-8" if encoding in UTF8 else encoding)
        except UnicodeDecodeError as error:
            raise not_readable(path, number, line, error.start, encoding) from None
        out.write(text.encode("utf-8"))


def not_readable(path: str, number: int, line: bytes, offset: int,
                 encoding: str) -> ClaimsFileError:
    if encoding in UTF8:
        return ClaimsFileError("C330", path, f"line {number} is not UTF-8 (byte {offset + 1} "
                               "of the line)", not_utf8_hint(line))
    return ClaimsFileError("C330", path, f"line {number} is not {encoding.upper()} (byte "
                           f"{offset + 1} of the line)",
                           "check the file's encoding: --encoding utf-8, gbk or gb18030")

