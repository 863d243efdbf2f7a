"""`yibao eval` with --backend, --input-format, --output-format and --progress.

The Benxi examples (policies/examples/benxi-2023.jsonl) are worked by hand in
tests/cli/test_cli_core.py: p-01's claims pay 基本救助 7,800 / 6,000 / 6,200 and
倾斜救助 2,520 / 2,400 / 8,280 (§(五)); bx-0013 lacks paid.基本医保 (C307).
Every backend and format must give the scalar evaluator's lines.
"""

from __future__ import annotations

import json
import shutil

import pyarrow.parquet as pq
import pytest

from helpers import EXAMPLES, POLICIES
from yibao.backends.formats import write_records
from yibao.cli.main import main

POLICY = str(POLICIES / "benxi-2023.policy")
CLAIMS = str(EXAMPLES / "benxi-2023.jsonl")


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture(scope="module")
def scalar_lines():
    from yibao.api import load_engine
    from yibao.runtime.results import outcome_to_json
    from yibao.backends.formats import read_records

    engine = load_engine(POLICY)
    return [outcome_to_json(o, trace=False)
            for o in engine.evaluate_records(read_records(CLAIMS, "jsonl"))]


def test_the_examples_settle_as_worked_by_hand(capsys, scalar_lines):
    status, out, _ = run(capsys, "eval", POLICY, CLAIMS, "--backend", "duckdb")
    got = lines(out)
    assert status == 1 and got == scalar_lines          # bx-0013 is refused (C307)
    p01 = [o["payouts"] for o in got if o.get("claim_id") in ("bx-0001", "bx-0002", "bx-0003")]
    assert [(p["基本救助"], p["倾斜救助"]) for p in p01] == [
        ("7800.00", "2520.00"), ("6000.00", "2400.00"), ("6200.00", "8280.00")]
    assert got[12]["error"] == "C307"


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_csv_and_parquet_claims_give_the_same_results(capsys, tmp_path, fmt, scalar_lines):
    """The same examples written flat; only each error's line number may differ (a CSV
    header is line 1)."""
    records = [json.loads(line) for line in open(CLAIMS, encoding="utf-8")]
    path = tmp_path / f"claims.{fmt}"
    from yibao.api import load_engine

    write_records(records, str(path), fmt, load_engine(POLICY).versions)
    for backend in ("scalar", "duckdb"):
        status, out, _ = run(capsys, "eval", POLICY, str(path), "--backend", backend)
        got = [{k: v for k, v in o.items() if k != "line"} for o in lines(out)]
        assert got == [{k: v for k, v in o.items() if k != "line"} for o in scalar_lines]


def test_the_default_backend_picks_the_columnar_engine_for_a_batch_and_says_so(
        capsys, tmp_path, scalar_lines):
    """--backend auto: Parquet claims go to the columnar engine, which names itself on
    stderr (12 of the 13 examples settled: bx-0013 is refused, C307); JSON Lines in and
    out stay with the scalar evaluator, which says nothing of it."""
    records = [json.loads(line) for line in open(CLAIMS, encoding="utf-8")]
    path = tmp_path / "claims.parquet"
    from yibao.api import load_engine

    write_records(records, str(path), "parquet", load_engine(POLICY).versions)
    status, out, err = run(capsys, "eval", POLICY, str(path))
    got = [{k: v for k, v in o.items() if k != "line"} for o in lines(out)]
    assert status == 1 and got == [{k: v for k, v in o.items() if k != "line"}
                                   for o in scalar_lines]
    # bx-0007 holds two identities (take highest): settled under the first declared,
    # presumed the winner, and checked over NumPy (backends/columnar/presumed.py)
    assert ("settled 12 of 13 claims with the columnar engine, 0 of them walked by NumPy, "
            "1 under a presumed winner, checked") in err
    assert "(--backend auto)" in err
    status, out, err = run(capsys, "eval", POLICY, CLAIMS)
    assert status == 1 and lines(out) == scalar_lines and "--backend auto" not in err


def test_auto_takes_the_columnar_engine_for_a_large_json_lines_file(capsys, monkeypatch,
                                                                    tmp_path, scalar_lines):
    """JSON Lines in and out: a file of COLUMNAR_JSON_LINES_BYTES or more is settled by
    the columnar engine, which says so; the same lines stay with the scalar evaluator
    from standard input or without the batch extra (quietly).  The threshold is
    lowered to the examples' size (a real one is ≈ 6,000 claims)."""
    from yibao.cli import batch_io

    size = (EXAMPLES / "benxi-2023.jsonl").stat().st_size
    monkeypatch.setattr(batch_io, "COLUMNAR_JSON_LINES_BYTES", size)
    status, out, err = run(capsys, "eval", POLICY, CLAIMS)
    assert status == 1 and lines(out) == scalar_lines
    assert "settled 12 of 13 claims with the columnar engine" in err
    assert "(--backend auto)" in err
    output = tmp_path / "results.jsonl"
    status, _, err = run(capsys, "eval", POLICY, CLAIMS, "-o", str(output))
    assert status == 1 and lines(output.read_text(encoding="utf-8")) == scalar_lines
    assert "with the columnar engine" in err
    # one byte short of the threshold: the scalar evaluator, which says nothing
    monkeypatch.setattr(batch_io, "COLUMNAR_JSON_LINES_BYTES", size + 1)
    status, out, err = run(capsys, "eval", POLICY, CLAIMS)
    assert status == 1 and lines(out) == scalar_lines and "--backend auto" not in err
    # without the batch extra's libraries a large file still settles, by the scalar path
    monkeypatch.setattr(batch_io, "COLUMNAR_JSON_LINES_BYTES", size)
    monkeypatch.setattr(batch_io, "BATCH_MODULES", ("yibao_no_such_module",))
    status, out, err = run(capsys, "eval", POLICY, CLAIMS)
    assert status == 1 and lines(out) == scalar_lines and "--backend auto" not in err


def test_auto_leaves_json_lines_from_standard_input_to_the_scalar_evaluator(
        capsys, monkeypatch, scalar_lines):
    import io
    import sys

    from yibao.cli import batch_io

    monkeypatch.setattr(batch_io, "COLUMNAR_JSON_LINES_BYTES", 1)
    data = (EXAMPLES / "benxi-2023.jsonl").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    status, out, err = run(capsys, "eval", POLICY, "-")
    assert status == 1 and lines(out) == scalar_lines and "--backend auto" not in err


def test_the_columnar_backend_settles_the_examples(capsys, scalar_lines):
    status, out, err = run(capsys, "eval", POLICY, CLAIMS, "--backend", "columnar")
    assert status == 1 and lines(out) == scalar_lines
    assert "--backend auto" not in err   # asked for by name: nothing to report


def test_parquet_results_and_a_progress_bar(capsys, tmp_path, scalar_lines):
    out = tmp_path / "results.parquet"
    status, _, err = run(capsys, "eval", POLICY, CLAIMS, "--backend", "duckdb", "--progress",
                         "-o", str(out))
    assert status == 1 and "yibao duckdb" in err and "C307" in err
    assert "7/7" in err and "write" in err          # six stages of settlement, then the file
    rows = pq.read_table(out).to_pylist()
    assert [r["claim_id"] for r in rows] == [o["claim_id"] for o in scalar_lines]
    assert f"{rows[0]['payout.基本救助']:.2f}" == "7800.00"
    assert rows[12]["error"] == "C307"


def test_spark_settles_the_examples(capsys, spark, tmp_path, scalar_lines):
    copy = tmp_path / "claims.jsonl"
    shutil.copy(CLAIMS, copy)
    status, out, _ = run(capsys, "eval", POLICY, str(copy), "--backend", "spark")
    assert status == 1 and lines(out) == scalar_lines


def test_the_scalar_path_keeps_its_trace_with_a_progress_bar(capsys):
    status, out, err = run(capsys, "eval", POLICY, CLAIMS, "--trace", "--progress")
    assert status == 1 and "trace" in lines(out)[0] and "yibao scalar" in err


@pytest.mark.parametrize("argv, message", [
    (["--backend", "duckdb", "--trace"], "settles without traces"),
    (["--backend", "duckdb", "--stream"], "--stream"),
    (["--output-format", "parquet"], "give -o PATH"),
    (["--backend", "duckdb", "--format", "text"], "--format text"),
])
def test_options_that_do_not_go_together(capsys, argv, message):
    status, _, err = run(capsys, "eval", POLICY, CLAIMS, *argv)
    assert status == 2 and message in err


def test_results_to_a_stdout_without_a_byte_buffer(scalar_lines):
    """A program that replaces sys.stdout by a StringIO still gets the JSON Lines."""
    import contextlib
    import io

    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        status = main(["eval", POLICY, CLAIMS, "--backend", "duckdb"])
    assert status == 1 and lines(captured.getvalue()) == scalar_lines
