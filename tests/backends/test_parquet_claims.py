"""A Parquet claims file read ahead, on a thread of its own (backends/parquet_claims.py),
as ``yibao eval CLAIMS.parquet`` reads it while its policy loads (cli/batch_io.py).

The claims are the Benxi examples (policies/examples/benxi-2023.jsonl, worked by
hand in tests/cli/test_cli_core.py: p-01's three claims pay 基本救助 7,800 / 6,000 /
6,200; bx-0013 lacks paid.基本医保 and is refused, C307), written two to a row group.
"""

from __future__ import annotations

import json
import threading

import pyarrow.parquet as pq
import pytest

from helpers import EXAMPLES, POLICIES
from yibao.backends.formats import write_records
from yibao.backends.parquet_claims import ParquetRead, ReadCancelled, read_parquet
from yibao.cli.main import main

POLICY = str(POLICIES / "benxi-2023.policy")
CLAIMS = EXAMPLES / "benxi-2023.jsonl"


@pytest.fixture()
def claims_parquet(benxi_engine, tmp_path):
    path = tmp_path / "claims.parquet"
    records = [json.loads(line) for line in CLAIMS.read_text(encoding="utf-8").splitlines()]
    write_records(records, str(path), "parquet", benxi_engine.versions)
    pq.write_table(pq.read_table(path), path, row_group_size=2)
    return path


def _reading_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "yibao-read-claims"]


def test_a_read_ahead_gives_the_table_read_parquet_gives(claims_parquet):
    read = ParquetRead(str(claims_parquet))
    table = read.table()
    assert table.equals(read_parquet(str(claims_parquet)))
    assert table.column("claim_id").num_chunks == 7          # 13 claims, two a row group
    assert table.column("claim_id").to_pylist()[:3] == ["bx-0001", "bx-0002", "bx-0003"]
    with pytest.raises(RuntimeError, match="taken already"):   # handed over, not kept
        read.table()
    assert _reading_threads() == []


def test_a_read_that_fails_raises_in_the_caller_when_the_table_is_asked_for(tmp_path):
    missing = tmp_path / "none.parquet"
    read = ParquetRead(str(missing))     # no error yet: the run may fail before it asks
    with pytest.raises(FileNotFoundError):
        read.table()


def test_a_cancelled_read_stops_before_its_next_row_group(claims_parquet):
    cancelled = threading.Event()
    cancelled.set()
    with pytest.raises(ReadCancelled):
        read_parquet(str(claims_parquet), cancelled)
    read = ParquetRead(str(claims_parquet))
    read.cancel()
    assert _reading_threads() == []
    with pytest.raises(RuntimeError, match="taken already"):   # whatever it read, let go
        read.table()


def test_the_command_settles_the_table_it_read_ahead(capsys, claims_parquet, tmp_path):
    """``yibao eval CLAIMS.parquet`` (the columnar engine, by default) takes the read it
    started before loading the policy: the results are the worked examples."""
    from yibao.backends import parquet_claims

    started = []
    original = parquet_claims.ParquetRead.__init__

    def noting(self, path):
        started.append(path)
        original(self, path)

    parquet_claims.ParquetRead.__init__ = noting
    try:
        status = main(["eval", POLICY, str(claims_parquet), "-o", str(tmp_path / "r.jsonl")])
    finally:
        parquet_claims.ParquetRead.__init__ = original
    assert status == 1 and started == [str(claims_parquet)]
    results = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [(r["payouts"]["基本救助"], r["payouts"]["倾斜救助"]) for r in results[:3]] == [
        ("7800.00", "2520.00"), ("6000.00", "2400.00"), ("6200.00", "8280.00")]
    assert results[12]["error"] == "C307"
    assert _reading_threads() == []


@pytest.mark.parametrize("argv, message", [
    (["--memory-limit", "lots"], "memory limit 'lots'"),
])
def test_a_run_refused_after_its_read_began_gives_the_read_up(capsys, claims_parquet, argv,
                                                             message):
    status = main(["eval", POLICY, str(claims_parquet), *argv])
    assert status == 2 and message in capsys.readouterr().err
    assert _reading_threads() == []


def test_a_policy_that_does_not_load_is_reported_before_the_claims(capsys, tmp_path):
    """The read of a missing claims file fails on its thread, but the run reports what
    it reported when it read after loading: the policy that does not load."""
    policy = tmp_path / "broken.policy"
    policy.write_text("policy broken {\n", encoding="utf-8")
    status = main(["eval", str(policy), str(tmp_path / "none.parquet")])
    err = capsys.readouterr().err
    assert status == 2 and "broken.policy" in err and "none.parquet" not in err
    assert _reading_threads() == []


def test_refusals_are_reported_while_the_results_are_encoded_in_the_same_order(
        capsys, claims_parquet, tmp_path):
    """Parquet results are encoded on a thread while stderr takes the report: the engine
    an auto run took, then the refusal (bx-0013, C307), then the count, as before."""
    status = main(["eval", POLICY, str(claims_parquet), "-o", str(tmp_path / "r.parquet")])
    err = capsys.readouterr().err.splitlines()
    assert status == 1 and len(err) == 3
    assert err[0].startswith("yibao: settled 12 of 13 claims with the columnar engine")
    assert "bx-0013" in err[1] and "C307" in err[1]
    assert err[2] == "yibao: 1 claim(s) failed; the others were settled"
    assert pq.read_table(tmp_path / "r.parquet").column("error").to_pylist()[12] == "C307"


def test_results_that_cannot_be_written_are_reported_before_any_refusal(
        capsys, claims_parquet, tmp_path):
    """The results file is opened before the refusals are reported beside its encoding:
    a file that cannot be written is the one thing said (exit 2)."""
    results = tmp_path / "missing" / "r.parquet"
    status = main(["eval", POLICY, str(claims_parquet), "-o", str(results)])
    assert status == 2
    assert capsys.readouterr().err == f"yibao: {results}: no such file\n"   # Arrow's unnamed


def test_a_missing_claims_file_is_named(capsys, tmp_path):
    """Arrow reports a file it cannot open without its name ("yibao: None: no such
    file" before): the read names it, as the command's other messages do (exit 2)."""
    missing = tmp_path / "none.parquet"
    assert main(["eval", POLICY, str(missing)]) == 2
    assert capsys.readouterr().err == f"yibao: {missing}: no such file\n"


def test_a_directory_given_for_parquet_results_is_refused_not_a_fault(capsys, claims_parquet,
                                                                      tmp_path):
    """Arrow's IsADirectoryError has no file name, which cli/main.py needs to say what
    it refuses: it was an internal error (exit 70); now the path is named (exit 2)."""
    status = main(["eval", POLICY, str(claims_parquet), "--output-format", "parquet",
                   "-o", str(tmp_path)])
    assert status == 2
    assert capsys.readouterr().err == f"yibao: {tmp_path}: is a directory\n"
