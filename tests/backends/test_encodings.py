"""Claims files from Chinese Excel: GBK, GB18030, a UTF-8 byte-order mark (issue 21, item 9).

The Benxi examples (policies/examples/benxi-2023.jsonl; worked by hand in
tests/cli/test_cli_core.py: bx-0001 … bx-0003 pay 基本救助 7,800 / 6,000 / 6,200 and
倾斜救助 2,520 / 2,400 / 8,280, Benxi §(五); bx-0013 lacks paid.基本医保, C307) are
written as UTF-8, then re-encoded with Python's own codecs, as Excel on a Chinese
Windows saves them.  Every backend must settle them as it settles the UTF-8 file,
or, when the encoding is not given, refuse the file with a code and a hint, never
a traceback.
"""

from __future__ import annotations

import json

import pytest

from helpers import EXAMPLES, POLICIES
from yibao.backends.encodings import ClaimsFileError, utf8_claims
from yibao.backends.formats import write_records
from yibao.cli.main import main

POLICY = str(POLICIES / "benxi-2023.policy")
EXAMPLE_LINES = [json.loads(line)
                 for line in (EXAMPLES / "benxi-2023.jsonl").read_text("utf-8").splitlines()]


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, [json.loads(line) for line in out.splitlines()], err


@pytest.fixture(scope="module")
def utf8_files(tmp_path_factory):
    from yibao.api import load_engine

    directory = tmp_path_factory.mktemp("encodings")
    engine = load_engine(POLICY)
    files = {}
    for fmt in ("csv", "jsonl"):
        files[fmt] = directory / f"utf8.{fmt}"
        write_records(EXAMPLE_LINES, str(files[fmt]), fmt, engine.versions)
    return files


def _reencoded(utf8_files, tmp_path, fmt: str, encoding: str):
    path = tmp_path / f"{encoding}.{fmt}"
    path.write_bytes(utf8_files[fmt].read_text("utf-8").encode(encoding))
    return str(path)


def _worked_by_hand(outcomes: list[dict]) -> None:
    paid = {o["claim_id"]: (o["payouts"]["基本救助"], o["payouts"]["倾斜救助"])
            for o in outcomes if "payouts" in o}
    assert [paid[c] for c in ("bx-0001", "bx-0002", "bx-0003")] == [
        ("7800.00", "2520.00"), ("6000.00", "2400.00"), ("6200.00", "8280.00")]
    assert next(o for o in outcomes if o["claim_id"] == "bx-0013")["error"] == "C307"


@pytest.mark.parametrize("backend", ["scalar", "duckdb"])
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "GBK"])
def test_a_gbk_file_with_its_encoding_settles_as_the_utf8_file(capsys, tmp_path, utf8_files,
                                                               backend, fmt, encoding):
    _, expected, _ = run(capsys, "eval", POLICY, str(utf8_files[fmt]), "--backend", backend)
    path = _reencoded(utf8_files, tmp_path, fmt, encoding.lower())
    assert open(path, "rb").read() != utf8_files[fmt].read_bytes()   # really other bytes
    status, got, _ = run(capsys, "eval", POLICY, path, "--backend", backend,
                         "--encoding", encoding)
    assert status == 1 and got == expected   # bx-0013 refused, C307, on its own line
    _worked_by_hand(got)


@pytest.mark.parametrize("backend", ["scalar", "duckdb"])
def test_a_gbk_csv_without_the_flag_is_refused_with_a_hint(capsys, tmp_path, utf8_files,
                                                           backend):
    """It crashed with a UnicodeDecodeError (scalar) or an ArrowInvalid (DuckDB)."""
    path = _reencoded(utf8_files, tmp_path, "csv", "gbk")
    status, got, err = run(capsys, "eval", POLICY, path, "--backend", backend)
    assert (status, got) == (2, [])
    assert "C330 line 1 is not UTF-8" in err          # the header names paid.基本医保
    assert "pass --encoding gbk" in err and "Traceback" not in err


@pytest.mark.parametrize("backend", ["scalar", "duckdb"])
def test_a_gbk_json_lines_file_without_the_flag_is_refused_claim_by_claim(
        capsys, tmp_path, utf8_files, backend):
    """JSON Lines are decoded line by line: each GBK line is its claim's C300, with the
    hint; an ASCII-only line would still be settled."""
    path = _reencoded(utf8_files, tmp_path, "jsonl", "gbk")
    status, got, _ = run(capsys, "eval", POLICY, path, "--backend", backend)
    assert status == 1 and len(got) == len(EXAMPLE_LINES)
    assert {o["error"] for o in got} == {"C300"}
    assert all("pass --encoding gbk" in o["hint"] for o in got)


@pytest.mark.parametrize("backend", ["scalar", "duckdb"])
@pytest.mark.parametrize("encoding", [None, "utf-8", "utf-8-sig"])
def test_a_utf8_csv_with_a_byte_order_mark_settles_as_without(capsys, tmp_path, utf8_files,
                                                              backend, encoding):
    """The scalar reader took the mark into the first column's name and refused every
    row (C301 missing claim_id) while DuckDB settled them."""
    _, expected, _ = run(capsys, "eval", POLICY, str(utf8_files["csv"]))
    path = _reencoded(utf8_files, tmp_path, "csv", "utf-8-sig")
    assert open(path, "rb").read(3) == b"\xef\xbb\xbf"
    flag = ["--encoding", encoding] if encoding else []
    status, got, _ = run(capsys, "eval", POLICY, path, "--backend", backend, *flag)
    assert status == 1 and got == expected
    _worked_by_hand(got)


def test_the_scalar_csv_reader_itself_skips_a_byte_order_mark(tmp_path, utf8_files):
    from yibao.backends.formats import read_records

    path = _reencoded(utf8_files, tmp_path, "csv", "utf-8-sig")
    first = next(iter(read_records(path, "csv")))[1]
    assert first["claim_id"] == "bx-0001"


def test_a_utf8_file_said_to_be_gbk_is_refused_when_it_has_a_byte_order_mark(
        capsys, tmp_path, utf8_files):
    path = _reencoded(utf8_files, tmp_path, "csv", "utf-8-sig")
    status, _, err = run(capsys, "eval", POLICY, path, "--encoding", "gbk")
    assert status == 2 and "C330" in err and "drop --encoding" in err


def test_a_byte_gbk_cannot_read_refuses_the_file_naming_its_line(tmp_path, utf8_files):
    path = tmp_path / "broken.csv"
    lines = utf8_files["csv"].read_text("utf-8").encode("gbk").split(b"\n")
    lines[3] = lines[3] + b"\x80"   # 0x80 is no GBK lead byte
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(ClaimsFileError) as caught:
        with utf8_claims(str(path), "csv", "gbk"):
            pass
    assert (caught.value.code, str(caught.value).split(": ", 1)[1]) == (
        "C330", f"C330 line 4 is not GBK (byte {len(lines[3])} of the line)")


def test_parquet_claims_take_no_encoding(capsys, tmp_path):
    status, _, err = run(capsys, "eval", POLICY, str(tmp_path / "x.parquet"), "--encoding", "gbk")
    assert status == 2 and "--encoding is for JSON Lines and CSV" in err


@pytest.mark.parametrize("command", ["explain", "demo"])
def test_explain_and_demo_read_gbk_claims(capsys, tmp_path, utf8_files, command):
    path = _reencoded(utf8_files, tmp_path, "jsonl", "gbk")
    extra = ["--claim", "bx-0001"] if command == "explain" else []
    status = main([command, POLICY, path, "--encoding", "gbk", *extra])
    out, _ = capsys.readouterr()
    assert status == 0 and "7800.00" in out          # bx-0001's 基本救助
