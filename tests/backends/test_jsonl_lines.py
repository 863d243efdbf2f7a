"""DuckDB's JSON Lines reader yields exactly the scalar reader's lines.

backends/duckdb_io.py splits a whole file with NumPy and Arrow; the scalar
path (backends/formats.py ``_read_jsonl``) iterates a binary file.  Both must
give the same (line number, bytes) for every line kept: split at b"\\n" only,
trailing \\r and \\n dropped, lines of white space alone skipped but counted,
and a line that is not UTF-8 kept as bytes for the validator (C300).
"""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from yibao.backends.duckdb_io import _newlines, jsonl_table
from yibao.backends.formats import _read_jsonl

PIECES = [b"\n", b"\r", b"\r\n", b" ", b"\t", b"\x0b", b"\x0c", b'{"a": 1}', b"x",
          b"\xef\xbb\xbf", b"\xe3\x80\x80", b"\xe2\x80\xa8", b"\xff", b"\xc3", b"\x85"]


def scalar_lines(path) -> list[tuple[int, bytes]]:
    return list(_read_jsonl(str(path)))


def duckdb_lines(data: bytes) -> list[tuple[int, bytes]]:
    undecodable: dict[int, bytes] = {}
    table = jsonl_table(data, undecodable)
    return [(number, raw.encode("utf-8").rstrip(b"\r\n") if raw is not None
             else undecodable[idx])
            for idx, number, raw in zip(table["idx"].to_pylist(),
                                        table["line_number"].to_pylist(),
                                        table["raw"].to_pylist())]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40))
def test_the_same_lines_as_the_scalar_reader(tmp_path_factory, pieces):
    data = b"".join(pieces)
    path = tmp_path_factory.mktemp("lines") / "claims.jsonl"
    path.write_bytes(data)
    assert duckdb_lines(data) == scalar_lines(path)


def test_worked_examples():
    data = b'{"a":1}\r\n\n  \t\n\xff bad\n{"b":2}\r\r\n\xe3\x80\x80\nlast'
    assert duckdb_lines(data) == [(1, b'{"a":1}'), (4, b"\xff bad"), (5, b'{"b":2}'),
                                  (6, b"\xe3\x80\x80"), (7, b"last")]
    assert duckdb_lines(b"") == [] and duckdb_lines(b"\n \n") == []


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200).map(lambda b: b.replace(b"\x00", b"\n")),
       st.integers(1, 16))
def test_newlines_are_found_across_the_search_chunks(data, chunk):
    """The search goes a chunk at a time (a MiB in use): every newline is found once,
    in order, wherever the chunk boundaries fall."""
    import numpy as np

    bytes_ = np.frombuffer(data, dtype=np.uint8)
    expected = [i for i, byte in enumerate(data) if byte == ord("\n")]
    assert _newlines(bytes_, chunk).tolist() == expected
