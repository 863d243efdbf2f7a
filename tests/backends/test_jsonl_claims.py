"""JSON Lines as the columnar engine's typed table (backends/jsonl_claims.py).

``--backend columnar`` reads JSON Lines into a flat typed Arrow table (Arrow's
strict reader) and judges the lines Arrow cannot vouch for with the validator,
then settles without SQL (ColumnarRunner.settle_typed).  Every outcome must be
the scalar path's: the same results, and for each refused line the same code,
claim id, field, message, hint and line number.
"""

from __future__ import annotations

import json

import pytest

from robustness.hostile_lines import (GOOD_AFTER, GOOD_BEFORE, HOSTILE, MISREAD,
                                      write_claims_among_bad_lines)
from yibao.backends import jsonl_claims, jsonl_typed
from yibao.backends.columns import ClaimColumns
from yibao.backends.formats import read_records
from yibao.backends.jsonl_claims import line_blocks, read_typed_claims
from yibao.backends.run import run_backend
from yibao.runtime.results import outcome_to_json

GOOD = [json.dumps(claim, ensure_ascii=False).encode("utf-8")
        for claim in (GOOD_BEFORE, GOOD_AFTER)]


def _scalar(engine, path) -> list[dict]:
    return [outcome_to_json(o, trace=False)
            for o in engine.evaluate_records(read_records(str(path), "jsonl"))]


def _columnar(engine, path) -> list[dict]:
    return list(run_backend(engine, str(path), "jsonl", "columnar").exchange())


def test_every_hostile_and_misread_line_is_refused_as_the_scalar_path_refuses_it(
        benxi_engine, tmp_path, monkeypatch):
    """One file, every bad line between good ones, a blank line and a line not UTF-8:
    the outcomes line for line, with each error's line number."""
    monkeypatch.setattr(jsonl_typed, "CAREFUL_LINES", 1)   # bad lines alone are careful
    bad = [HOSTILE[case][0] for case in sorted(HOSTILE)] + [MISREAD[c] for c in sorted(MISREAD)]
    lines = [GOOD[0], b"", b"   ", b"{\"claim_id\": \"\xff\"}"]
    for k, raw in enumerate(bad):
        lines += [raw, GOOD[k % 2].replace(b'"good-', b'"good-%d-' % k)]
    path = tmp_path / "claims.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\r\n")
    scalar = _scalar(benxi_engine, path)
    assert _columnar(benxi_engine, path) == scalar
    assert sum("error" in o for o in scalar) >= len(HOSTILE) + 1   # + the line not UTF-8


def test_accepted_careful_lines_are_settled_with_the_values_the_validator_read(
        benxi_engine, tmp_path):
    """Lines Arrow leaves careful but the validator accepts (a declared field given as
    null, money as a JSON number, a byte-order mark on the first line): settled as the
    scalar path settles them, in their places between typed lines."""
    accepted = [
        b"\xef\xbb\xbf" + GOOD[0].replace(b'"good-before"', b'"bom"'),
        GOOD[1][:-1].replace(b'"good-after"', b'"null-days"') + b', "bed_days": null}',
        GOOD[0].replace(b'"40000.00"', b"40000.5").replace(b'"good-before"', b'"number"'),
        GOOD[1].replace(b'"good-after"', b'"\\u597d-after"'),
    ]
    path = tmp_path / "claims.jsonl"
    path.write_bytes(b"\n".join(accepted + GOOD) + b"\n")
    scalar = _scalar(benxi_engine, path)
    assert not any("error" in o for o in scalar), [o for o in scalar if "error" in o]
    got = _columnar(benxi_engine, path)
    assert got == scalar
    assert [o["claim_id"] for o in got] == ["bom", "null-days", "number", "好-after",
                                            "good-before", "good-after"]


def test_the_table_holds_each_line_once_in_input_order(benxi_engine, tmp_path, monkeypatch):
    monkeypatch.setattr(jsonl_typed, "CAREFUL_LINES", 1)
    path = tmp_path / "claims.jsonl"
    path.write_bytes(b"\n".join([GOOD[0], MISREAD["a key twice"], b"", GOOD[1],
                                 GOOD[1][:-1] + b', "referred": null}']) + b"\n")
    claims = read_typed_claims(benxi_engine, ClaimColumns.of(benxi_engine.versions),
                               str(path))
    # line 2 refused (C300, a key twice); line 3 blank; the others in the table
    assert list(claims.refusals) == [1] and claims.refusals[1].code == "C300"
    assert claims.lines.tolist() == [1, 4, 5]
    assert claims.table.column("claim_id").to_pylist() == ["good-before", "good-after",
                                                           "good-after"]
    assert claims.table.column("paid.基本医保").to_pylist() == ["17000.00", "6000.00",
                                                             "6000.00"]
    assert claims.table.column("referred").to_pylist() == [None, None, False]


def test_20000_claims_with_bad_lines_settle_as_the_scalar_path(benxi_engine, tmp_path,
                                                                monkeypatch):
    """20,000 synthetic claims (two of Arrow's blocks and more), every hostile and
    misread line spread over them, read in 27 blocks of 256 KiB (a person's claims,
    and Arrow's blocks, cut by the file's): the columnar engine's outcomes are the
    scalar path's."""
    monkeypatch.setattr(jsonl_claims, "READ_BYTES", 256 << 10)
    path = tmp_path / "claims.jsonl"
    bad = write_claims_among_bad_lines(benxi_engine, path)
    scalar = _scalar(benxi_engine, path)
    assert _columnar(benxi_engine, path) == scalar
    assert sum("error" in o for o in scalar) >= bad


def _claim(base: dict, claim_id: str, date: str) -> bytes:
    return json.dumps(dict(base, claim_id=claim_id, date=date),
                      ensure_ascii=False).encode("utf-8")


# One person's claims through the year (each one's payout depends on those before it:
# the year-to-date lines), a byte-order mark on the first line, blank lines, a line not
# UTF-8, bad lines, a claim id given again (C312: its line number is the typed table's),
# and a last line, bad, without its newline.
MIXED = [b"\xef\xbb\xbf" + _claim(GOOD_BEFORE, "a-1", "2023-01-10"),
         _claim(GOOD_AFTER, "b-1", "2023-01-11"), b"", b"  \t",
         _claim(GOOD_BEFORE, "a-2", "2023-02-10"), MISREAD["a key twice"],
         b'{"claim_id": "\xff"}', _claim(GOOD_BEFORE, "a-3", "2023-05-10"),
         _claim(GOOD_AFTER, "b-2", "2023-06-11"), b"",
         _claim(GOOD_BEFORE, "a-4", "2023-08-10"), _claim(GOOD_BEFORE, "a-5", "2023-11-10"),
         _claim(GOOD_AFTER, "b-1", "2023-12-01"), MISREAD["a trailing comma"]]


@pytest.mark.parametrize("cores", [1, 2, 3])
@pytest.mark.parametrize("size", [1, 200, 700, 4 << 20])
def test_blocks_of_any_size_settle_as_the_scalar_path(benxi_engine, tmp_path, monkeypatch,
                                                      size, cores):
    """The file read in blocks of ``size`` bytes (1: a block a line; 200 and 700: blocks
    cut in the middle of one person's year, of a bad line's neighbourhood, of the blank
    lines; 4 MiB: one block), typed on one thread or several: outcomes and refusals
    (codes, fields, messages, line numbers) the scalar path's, the same whatever the
    size and the threads (the bad last line, without its newline, in the last block)."""
    from yibao.backends import threads

    monkeypatch.setattr(jsonl_claims, "READ_BYTES", size)
    monkeypatch.setattr(threads, "cores", lambda: cores)
    path = tmp_path / "claims.jsonl"
    path.write_bytes(b"\n".join(MIXED))
    scalar = _scalar(benxi_engine, path)
    assert _columnar(benxi_engine, path) == scalar
    refused = [(o["error"], o["line"]) for o in scalar if "error" in o]
    assert refused == [("C300", 6), ("C300", 7), ("C312", 13), ("C300", 14)]
    assert [o["claim_id"] for o in scalar if "error" not in o] == [
        "a-1", "b-1", "a-2", "a-3", "b-2", "a-4", "a-5"]


@pytest.mark.parametrize("size", [1, 5, 64])
def test_line_blocks_are_whole_lines_that_join_to_the_file(tmp_path, size):
    data = b"\n".join([b"a" * 150, b"", b"bb", b"c" * 3, b"\r", b"tail without newline"])
    path = tmp_path / "claims.jsonl"
    path.write_bytes(data)
    blocks = [bytes(block) for block in line_blocks(str(path), size)]
    assert b"".join(blocks) == data
    assert all(block.endswith(b"\n") for block in blocks[:-1])   # whole lines
    assert blocks[-1].endswith(b"tail without newline")
    assert len(blocks) > 1
