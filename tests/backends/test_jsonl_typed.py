"""JSON Lines typed once by Arrow (backends/jsonl_typed.py): which lines it vouches for.

A line Arrow types must hold exactly what the JSON decoder reads from it; every
line Arrow could misread (a null, a key twice, an unknown key, a trailing comma,
money as a JSON number, …) must be left to the careful path, and no other line
of the file with it.  And the DuckDB backend must still refuse what the scalar
path refuses when most lines take the fast path.
"""

from __future__ import annotations

import json

import pytest

from robustness.hostile_lines import (GOOD_AFTER, GOOD_BEFORE, HOSTILE, MISREAD,
                                      write_claims_among_bad_lines)
from yibao.backends import jsonl_typed
from yibao.backends.columns import ClaimColumns
from yibao.backends.duckdb_io import jsonl_table
from yibao.backends.formats import read_records
from yibao.backends.run import run_backend
from yibao.runtime.results import outcome_to_json

GOOD = json.dumps(GOOD_BEFORE, ensure_ascii=False).encode("utf-8")


def _present(row: dict) -> dict:
    """A typed row as the decoder's dict: a NULL column (or paid line) is a key absent."""
    return {key: _present(value) if isinstance(value, dict) else value
            for key, value in row.items() if value is not None}


def _typed(benxi_engine, lines: list[bytes]):
    table = jsonl_table(b"\n".join(lines) + b"\n", {})
    return jsonl_typed.typed_lines(table.column("raw").combine_chunks(),
                                   ClaimColumns.of(benxi_engine.versions))


@pytest.mark.parametrize("case", sorted(MISREAD))
def test_a_line_arrow_could_misread_is_careful_and_only_it(benxi_engine, monkeypatch, case):
    monkeypatch.setattr(jsonl_typed, "CAREFUL_LINES", 1)   # cut failing blocks to a line
    typed, careful = _typed(benxi_engine, [GOOD, MISREAD[case], GOOD])
    assert careful.tolist() == [False, True, False]
    assert typed.column("pos").to_pylist() == [0, 2]


def test_every_hostile_line_is_careful_or_typed_as_the_decoder_reads_it(benxi_engine,
                                                                          monkeypatch):
    """The hostile lines the validator refuses: each is careful, or Arrow read exactly the
    values the decoder reads (the checks after it then refuse them alike)."""
    monkeypatch.setattr(jsonl_typed, "CAREFUL_LINES", 1)
    lines = [HOSTILE[case][0] for case in sorted(HOSTILE)]
    typed, careful = _typed(benxi_engine, lines)
    for row in typed.to_pylist():
        decoded = json.loads(lines[row.pop("pos")])
        assert _present(row) == decoded


def test_typed_values_are_the_decoders(benxi_engine):
    escaped = GOOD.decode().replace('"good-before"', '"g\\u00e9 \\"q\\" \\\\ \\/ 低保"')
    claim = dict(GOOD_AFTER, bed_days=12, referred=True, in_province=False)
    lines = [GOOD, escaped.encode(), json.dumps(claim, ensure_ascii=False).encode(),
             json.dumps(claim).encode()]   # \\uXXXX escapes for every Chinese character
    typed, careful = _typed(benxi_engine, lines)
    assert not careful.any()
    for row in typed.to_pylist():
        decoded = json.loads(lines[row.pop("pos")])
        assert _present(row) == decoded
    assert typed.column("claim_id")[1].as_py() == 'gé "q" \\ / 低保'


def test_a_bad_line_among_many_leaves_only_its_neighbourhood_careful(benxi_engine):
    lines = [GOOD] * 20_000
    lines[7_000] = MISREAD["a key twice"]
    lines[19_999] = MISREAD["money as a JSON number"]
    typed, careful = _typed(benxi_engine, lines)
    assert careful[7_000] and careful[19_999]
    assert careful.sum() <= 2 * jsonl_typed.CAREFUL_LINES
    assert typed.num_rows == 20_000 - careful.sum()
    assert sorted(typed.column("pos").to_pylist()) == typed.column("pos").to_pylist()


def test_duckdb_refuses_as_the_scalar_path_with_bad_lines_among_typed_ones(benxi_engine,
                                                                         tmp_path):
    """20,000 claims, two blocks: the bad lines (every hostile and misread one, spread
    over both blocks) reach the validator, the others are settled from Arrow's types."""
    path = tmp_path / "claims.jsonl"
    bad = write_claims_among_bad_lines(benxi_engine, path)
    scalar = [outcome_to_json(o, trace=False)
              for o in benxi_engine.evaluate_records(read_records(str(path), "jsonl"))]
    got = list(run_backend(benxi_engine, str(path), "jsonl", "duckdb").exchange())
    assert got == scalar
    assert sum("error" in o for o in got) >= bad
