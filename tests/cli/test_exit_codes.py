"""The `yibao` command's exit status (docs/exit-codes.md), each code from a real process.

0 every claim settled; 1 some claims refused; 2 input or usage refused; 70 an
internal error (a short message, the traceback in a file); 141 the output cut
(the reader of standard output went away).  Every run goes through the
installed console script, as a shell runs it: the status a pipeline sees,
and standard output and error as they are written.  The internal error is a
fault injected into settlement in a `python -c` process that then runs the
console script's own entry point.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

from helpers import EXAMPLES, POLICIES
from yibao.api import load_engine
from yibao.backends.formats import write_records
from yibao.backends.synthetic import synthetic_claims
from yibao.cli.main import EXIT_INTERNAL, EXIT_OUTPUT_CUT

POLICY = str(POLICIES / "benxi-2023.policy")
CLAIMS = str(EXAMPLES / "benxi-2023.jsonl")
P01 = "".join(pathlib.Path(CLAIMS).read_text(encoding="utf-8").splitlines(True)[:3])
SCRIPT = pathlib.Path(sys.executable).parent / "yibao"
INJECTED = """
import sys
from yibao.runtime.batch import Engine

def broken(*args, **kwargs):
    raise ZeroDivisionError("a fault injected into settlement")

Engine.settle_line = broken
sys.argv = ["yibao", *sys.argv[1:]]
from yibao.cli.main import entry
entry()
"""


def yibao(*argv, stdin: str | None = None, env: dict | None = None, script=(str(SCRIPT),)):
    return subprocess.run([*script, *argv], input=stdin, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})}, check=False)


@pytest.fixture(scope="module")
def many_claims(tmp_path_factory) -> str:
    """3,000 Benxi synthetic claims in date order: about 1.5 MB of results, far more than
    a pipe holds, so a writer cannot finish before its reader goes."""
    path = tmp_path_factory.mktemp("claims") / "benxi-3000.jsonl"
    engine = load_engine(POLICIES / "benxi-2023.policy")
    write_records(synthetic_claims(engine.loaded, 3_000, seed=2023), str(path), "jsonl",
                  engine.versions)
    return str(path)


def read_one_line_then_close(argv, stderr_path: pathlib.Path) -> tuple[int, str, str]:
    """What `yibao … | head -1` does: read a line, close the pipe, wait for the status."""
    with open(stderr_path, "w", encoding="utf-8") as errors:
        process = subprocess.Popen([str(SCRIPT), *argv], stdout=subprocess.PIPE, stderr=errors)
        first = process.stdout.readline().decode("utf-8")
        process.stdout.close()
        status = process.wait(timeout=120)
    return status, first, stderr_path.read_text(encoding="utf-8")


# ---- 0, 1, 2 ---------------------------------------------------------------------------

def test_0_when_every_claim_is_settled():
    done = yibao("eval", POLICY, "-", stdin=P01)
    assert (done.returncode, done.stderr) == (0, "")
    assert len(done.stdout.splitlines()) == 3


def test_1_when_some_claims_are_refused():
    """bx-0013 lacks paid.基本医保 (C307); the other twelve are settled in their places."""
    done = yibao("eval", POLICY, CLAIMS)
    assert done.returncode == 1
    outcomes = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(outcomes) == 13 and outcomes[12]["error"] == "C307"
    assert "1 claim(s) failed; the others were settled" in done.stderr


@pytest.mark.parametrize("argv, message", [
    (["eval", "missing.policy", CLAIMS], "missing.policy"),
    (["eval", POLICY, "missing.jsonl"], "missing.jsonl: no such file"),
    (["eval", POLICY, str(EXAMPLES)], f"{EXAMPLES}: is a directory"),
    (["eval", POLICY, CLAIMS, "--jobs", "0"], "expected a whole number ≥ 1"),
    (["eval", POLICY, CLAIMS, "--resume"], "--resume continues a recorded batch"),
    (["no-such-command"], "invalid choice"),
], ids=["no-policy-file", "no-claims-file", "claims-a-directory", "bad-option-value",
        "options-clash", "unknown-command"])
def test_2_when_the_input_or_the_command_line_is_refused(argv, message):
    done = yibao(*argv)
    assert (done.returncode, done.stdout) == (2, "")
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_2_for_a_policy_that_does_not_load(tmp_path):
    broken = tmp_path / "broken.policy"
    broken.write_text("policy t-2023 {\n    effective 2023-01-01\n}\n"
                      "identity 低保对象： §(一)\n", encoding="utf-8")
    done = yibao("check", str(broken))
    assert done.returncode == 2 and "error[P102]" in done.stderr


# ---- 70: an internal error ---------------------------------------------------------------

def test_70_names_the_file_holding_the_traceback(tmp_path):
    """By default the traceback goes to a new file in the temporary directory."""
    done = yibao("eval", POLICY, CLAIMS, script=(sys.executable, "-c", INJECTED),
                 env={"TMPDIR": str(tmp_path), "YIBAO_TRACEBACK": ""})
    assert done.returncode == EXIT_INTERNAL == 70
    assert done.stdout == ""
    first, second = done.stderr.splitlines()
    assert first == "yibao: internal error: ZeroDivisionError: a fault injected into settlement"
    [written] = tmp_path.glob("yibao-traceback-*.txt")
    assert f"the traceback is in {written} (set YIBAO_TRACEBACK=- to print it here)" in second
    text = written.read_text(encoding="utf-8")
    assert text.startswith("yibao 0.1.0, Python ")
    assert f"command: yibao eval {POLICY} {CLAIMS}" in text
    assert "Traceback (most recent call last)" in text and "in broken" in text
    assert "Traceback" not in done.stderr


def test_70_with_the_traceback_where_yibao_traceback_says(tmp_path):
    chosen = tmp_path / "crash.txt"
    done = yibao("eval", POLICY, CLAIMS, script=(sys.executable, "-c", INJECTED),
                 env={"YIBAO_TRACEBACK": str(chosen)})
    assert done.returncode == 70
    assert f"the traceback is in {chosen}" in done.stderr
    assert "ZeroDivisionError: a fault injected into settlement" in chosen.read_text("utf-8")
    printed = yibao("eval", POLICY, CLAIMS, script=(sys.executable, "-c", INJECTED),
                    env={"YIBAO_TRACEBACK": "-"})
    assert printed.returncode == 70
    assert "Traceback (most recent call last)" in printed.stderr
    assert printed.stderr.rstrip().endswith(
        "yibao: internal error: ZeroDivisionError: a fault injected into settlement")


# ---- 141: the output cut -----------------------------------------------------------------

def test_141_when_the_reader_is_gone_before_a_short_report_is_flushed(tmp_path):
    """A short report (lint's 2 kB) sits in stdout's buffer until the end: a reader that
    left before it was flushed cut it too.  Python's own flush at exit failed with
    "Exception ignored … BrokenPipeError" and status 120 before."""
    with open(tmp_path / "err.txt", "w", encoding="utf-8") as errors:
        process = subprocess.Popen([str(SCRIPT), "lint", "--shares", POLICY],
                                   stdout=subprocess.PIPE, stderr=errors)
        process.stdout.close()      # `yibao lint … | true`: the reader never reads
        status = process.wait(timeout=120)
    assert status == EXIT_OUTPUT_CUT
    assert (tmp_path / "err.txt").read_text(encoding="utf-8").splitlines() == [
        "yibao: output cut: the reader of standard output went away before every result "
        "was written"]


@pytest.mark.parametrize("options", [
    ("--stream",), ("--format", "json"), ("--jobs", "2"), ("--backend", "duckdb"),
], ids=["stream", "json", "jobs", "duckdb"])
def test_141_when_the_reader_goes_away(many_claims, tmp_path, options):
    """`yibao eval … | head -1`.  DuckDB's results go out in a few large writes, whose
    short count Python's own stdout returned without an error: exit 1 before."""
    status, first, err = read_one_line_then_close(
        ["eval", POLICY, many_claims, *options], tmp_path / "err.txt")
    assert status == EXIT_OUTPUT_CUT == 141
    assert first.strip() in ("[", "") or json.loads(first)["claim_id"] == "syn-0000001"
    assert err.splitlines() == ["yibao: output cut: the reader of standard output went away "
                                "before every result was written"]


def test_141_with_record_keeps_whole_transactions_and_resume_finishes(many_claims, tmp_path):
    """The issue's run, `yibao eval P c.jsonl --record s.db --stream | head -1` (exit 0
    before).  Results are written only once their transaction has committed, so the
    store holds the first transaction's 300 lines (95 KB of results: more than the
    pipe holds, so the second cannot have begun); it verifies, and --resume records
    the other 600 without recording a line twice."""
    claims = tmp_path / "benxi-900.jsonl"
    with open(many_claims, encoding="utf-8") as source:
        claims.write_text("".join(next(source) for _ in range(900)), encoding="utf-8")
    store = str(tmp_path / "s.db")
    status, first, err = read_one_line_then_close(
        ["eval", POLICY, str(claims), "--record", store, "--stream", "--commit-every", "300"],
        tmp_path / "err.txt")
    assert status == 141
    assert json.loads(first)["claim_id"] == "syn-0000001"
    assert err.splitlines() == [
        f"yibao: recorded #1–#300 (batch 1) in {store}",
        "yibao: output cut: the reader of standard output went away before every result "
        "was written",
        f"yibao: {store}: batch 1 holds the first 300 claim line(s) of the input, every "
        "record committed; run again with --resume to record the rest"]
    verified = yibao("audit", "verify", store)
    assert verified.returncode == 0 and verified.stdout.startswith("ok: 300 record(s) verify")
    resumed = yibao("eval", POLICY, str(claims), "--record", store, "--stream", "--resume",
                    "-o", str(tmp_path / "rest.jsonl"))
    assert resumed.returncode in (0, 1), resumed.stderr   # 1: claims needing §(五)'s quota
    assert "300 line(s) already recorded" in resumed.stderr
    verified = yibao("audit", "verify", store)
    assert verified.stdout.startswith("ok: 900 record(s) verify")
