"""DuckDB's JSON Lines reader yields exactly the scalar reader's lines.

backends/duckdb_io.py splits a whole file with NumPy and Arrow; the scalar
path (core/jsonl.py ``read_lines``) iterates a binary file.  Both must
give the same (line number, bytes) for every line kept: split at b"\\n" only,
trailing \\r and \\n dropped, lines of white space alone skipped but counted,
and a line that is not UTF-8 kept as bytes for the validator (C300).
"""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from yibao.backends.duckdb_io import _newlines, jsonl_lines, jsonl_table
from yibao.core.jsonl import read_lines

PIECES = [b"\n", b"\r", b"\r\n", b" ", b"\t", b"\x0b", b"\x0c", b'{"a": 1}', b"x",
          b"\xef\xbb\xbf", b"\xe3\x80\x80", b"\xe2\x80\xa8", b"\xff", b"\xc3", b"\x85"]


def scalar_lines(path) -> list[tuple[int, bytes]]:
    return list(read_lines(str(path)))


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


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=40))
def test_the_lines_held_count_the_blank_ones(pieces):
    """How many lines a block holds (its reader's next block numbers on from there):
    a line is its newline, or the block's end; blank lines and lines not UTF-8 count."""
    data = b"".join(pieces)
    expected = data.count(b"\n") + (not data.endswith(b"\n"))
    assert jsonl_lines(data, {})[1] == expected


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


def test_one_writer_for_claims_and_results(tmp_path, benxi_engine):
    """Claims (formats.write_records) and results (results_io.write_results) go through
    core/jsonl.py: Chinese as it is, a str taken as JSON text already, a line each."""
    from yibao.backends.formats import write_records
    from yibao.backends.results_io import write_results
    from yibao.core.jsonl import write_lines

    values = [{"claim_id": "甲-1", "paid": {"基本医保": "1.50"}}, '{"claim_id": "乙"}']
    expected = '{"claim_id": "甲-1", "paid": {"基本医保": "1.50"}}\n{"claim_id": "乙"}\n'
    claims, results = tmp_path / "claims.jsonl", tmp_path / "results.jsonl"
    assert write_records(values, str(claims), "jsonl", benxi_engine.versions) == 2
    assert write_results(values, str(results), "jsonl", benxi_engine.versions) == 2
    assert claims.read_text(encoding="utf-8") == results.read_text(encoding="utf-8") == expected

    class Sink(list):
        def write(self, text):
            self.append(("write", text))

        def flush(self):
            self.append(("flush",))

    sink = Sink()
    assert write_lines([{"a": 1}, "2"], sink, flush=True) == 2
    assert sink == [("write", '{"a": 1}\n'), ("flush",), ("write", "2\n"), ("flush",)]
    assert list(read_lines(str(claims))) == [(1, expected.splitlines()[0].encode("utf-8")),
                                             (2, b'{"claim_id": "\xe4\xb9\x99"}')]
