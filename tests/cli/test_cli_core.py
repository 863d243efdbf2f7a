"""The `yibao` command's core: check, eval, explain, demo (cli/).

Called through ``yibao.cli.main.main([...])`` with pytest's capsys, and once
through the installed console script.  Figures are the hand-worked ones of the
Benxi examples (tests/explain/test_benxi_snapshots.py lists them): p-01's three
claims pay 基本救助 7,800 / 6,000 / 6,200 and 倾斜救助 2,520 / 2,400 / 8,280
(Benxi §(五)); bx-0013 lacks paid.基本医保 and is rejected (C307).
"""

from __future__ import annotations

import io
import json
import pathlib
import subprocess
import sys

import pytest

from helpers import EXAMPLES, POLICIES
from yibao.cli.main import main

POLICY = str(POLICIES / "benxi-2023.policy")
CLAIMS = str(EXAMPLES / "benxi-2023.jsonl")
EXAMPLE_LINES = pathlib.Path(CLAIMS).read_text(encoding="utf-8").splitlines()
P01 = "\n".join(EXAMPLE_LINES[:3]) + "\n"   # bx-0001..3, one person's year, all valid


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def results_by_id(jsonl: str) -> dict:
    return {r["claim_id"]: r for r in map(json.loads, jsonl.splitlines())}


def feed_stdin(monkeypatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8")),
                                                       encoding="utf-8"))


# ---- check ------------------------------------------------------------------------------

def test_check_lists_the_unspecified_per_bed_day_amount(capsys):
    """Benxi §(五) gives no per-bed-day amount: `check` lists it with its clause."""
    status, out, err = run(capsys, "check", POLICY)
    assert (status, err) == (0, "")
    assert out.startswith("ok benxi-2023: 本溪市人民政府办公室关于健全本溪市重特大疾病医疗保险")
    assert "lines: 基本医保（上游）, 大病保险（上游）, 精神障碍床日定额救助, 基本救助, 倾斜救助" in out
    assert "unspecified values: 1" in out
    assert "精神障碍床日定额救助.定额标准" in out and "§(五)" in out


def test_check_json(capsys):
    status, out, _ = run(capsys, "check", "--format", "json", POLICY)
    report = json.loads(out)
    assert status == 0
    assert report["policy"] == "benxi-2023" and report["versions"] == ["benxi-2023"]
    assert [u["value"] for u in report["unspecified"]] == ["精神障碍床日定额救助.定额标准"]
    assert report["unspecified"][0]["clause"] == "§(五)"


def test_check_broken_policy_exits_2_with_the_diagnostic_on_stderr(capsys, tmp_path):
    broken = tmp_path / "broken.policy"
    broken.write_text("policy t-2023 {\n    effective 2023-01-01\n}\n"
                      "identity 低保对象： §(一)\n", encoding="utf-8")
    status, out, err = run(capsys, "check", str(broken))
    assert (status, out) == (2, "")
    assert f"error[P102]: full-width '：' where the language uses ':'\n  --> {broken}:4:14" in err
    # "identity 低保对象" is 9 + 8 = 17 cells wide: the caret under '：' starts after it.
    assert "4 | identity 低保对象： §(一)\n  | " + " " * 17 + "^^\n" in err


def test_check_json_prints_the_diagnostics_of_a_failing_policy(capsys, tmp_path):
    """Issue 21 item 14: `check --format json` printed nothing on stdout for a broken policy."""
    broken = tmp_path / "broken.policy"
    broken.write_text(pathlib.Path(POLICY).read_text(encoding="utf-8").replace(
        "特困人员, 孤儿, 低保对象: 70%", "特困人员, 孤儿, 低保对象: 170%"), encoding="utf-8")
    status, out, err = run(capsys, "check", "--format", "json", str(broken))
    assert status == 2
    report = json.loads(out)
    assert (report["ok"], report["policy_file"]) == (False, str(broken))
    [diagnostic] = report["diagnostics"]
    # "        特困人员, 孤儿, 低保对象: " is 24 characters: 170% starts at column 25.
    assert (diagnostic["code"], diagnostic["line"], diagnostic["column"]) == ("S209", 76, 25)
    assert diagnostic["message"].endswith("rate 170% is outside 0–100%")
    # The hint lint's L101 gives; `check` gave none.
    assert diagnostic["hint"] == "a rate is a share between 0% and 100%"
    assert err.startswith(f"{broken}:76:25: S209 ")


def test_claims_given_as_the_policy_get_a_hint_that_the_arguments_are_swapped(capsys):
    status, out, err = run(capsys, "eval", CLAIMS, POLICY)
    assert (status, out) == (2, "")
    assert "= hint: this looks like a claims file, not a policy: the policy comes first" in err


def test_missing_policy_file_exits_2(capsys, tmp_path):
    status, out, err = run(capsys, "eval", str(tmp_path / "none.policy"), CLAIMS)
    assert (status, out) == (2, "")
    assert "none.policy" in err


# ---- eval -------------------------------------------------------------------------------

def test_eval_jsonl_prints_every_claim_and_exits_1_when_one_fails(capsys):
    status, out, err = run(capsys, "eval", POLICY, CLAIMS)
    assert status == 1
    lines = out.splitlines()
    assert [json.loads(line)["claim_id"] for line in lines] == [
        f"bx-{n:04d}" for n in range(1, 14)]
    results = results_by_id(out)
    assert results["bx-0003"]["payouts"]["基本救助"] == "6200.00"
    assert results["bx-0003"]["payouts"]["倾斜救助"] == "8280.00"
    assert results["bx-0011"]["alerts"] == ["因病致贫风险"]
    assert "trace" not in results["bx-0001"]
    assert results["bx-0013"]["error"] == "C307"
    assert results["bx-0013"]["field"] == "paid.基本医保"
    assert "bx-0013" in err and "C307" in err and "(line 13)" in err
    assert "1 claim(s) failed; the others were settled" in err


def test_eval_json_is_one_array(capsys):
    status, out, _ = run(capsys, "eval", "--format", "json", POLICY, CLAIMS)
    data = json.loads(out)
    assert status == 1 and len(data) == 13
    assert data[0]["payouts"] == {
        "基本医保": "17000.00", "大病保险": "3000.00", "精神障碍床日定额救助": "0.00",
        "基本救助": "7800.00", "倾斜救助": "2520.00"}
    assert data[0]["total_paid"] == "30320.00" and data[0]["personal_burden"] == "9680.00"


def test_eval_text_is_a_payout_table(capsys):
    status, out, _ = run(capsys, "eval", "--format", "text", POLICY, CLAIMS)
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert status == 1
    assert out.splitlines()[0].split()[:2] == ["理赔", "适用身份"]
    assert rows["bx-0001"][1:] == ["低保边缘家庭成员", "17,000.00", "3,000.00", "0.00", "7,800.00",
                                   "2,520.00", "30,320.00", "9,680.00", "因病返贫风险"]
    assert rows["bx-0013"][1:3] == ["错误", "C307:"]


def test_eval_from_stdin_all_valid_exits_0(capsys, monkeypatch):
    feed_stdin(monkeypatch, P01)
    status, out, err = run(capsys, "eval", POLICY, "-")
    assert (status, err) == (0, "")
    results = results_by_id(out)
    assert [results[c]["payouts"]["基本救助"] for c in ("bx-0001", "bx-0002", "bx-0003")] == [
        "7800.00", "6000.00", "6200.00"]


def test_eval_bad_line_on_stdin_is_reported_in_place(capsys, monkeypatch):
    """A truncated line is C300 with its claim id; the others are settled, in input order."""
    lines = P01.splitlines()
    feed_stdin(monkeypatch, "\n".join([lines[0], lines[1][:50], lines[2]]) + "\n")
    status, out, err = run(capsys, "eval", POLICY, "-")
    outcomes = [json.loads(line) for line in out.splitlines()]
    assert status == 1
    assert [o["claim_id"] for o in outcomes] == ["bx-0001", "bx-0002", "bx-0003"]
    assert outcomes[1]["error"] == "C300" and outcomes[1]["line"] == 2
    # Without bx-0002 (B 10,000), bx-0003 takes C 15,000 → 35,000: 60% × 33,000 = 19,800,
    # less the 7,800 paid: 12,000 (cap room 12,200 not reached).
    assert outcomes[2]["payouts"]["基本救助"] == "12000.00"
    assert "C300" in err


def test_eval_trace_and_output_file(capsys, tmp_path):
    target = tmp_path / "out.jsonl"
    status, out, _ = run(capsys, "eval", "--trace", "-o", str(target), POLICY, CLAIMS)
    assert (status, out) == (1, "")
    results = results_by_id(target.read_text(encoding="utf-8"))
    steps = {s["node"]: s for s in results["bx-0002"]["trace"] if s.get("candidate")}
    ytd = steps["基本救助.ytd"]["facts"]
    assert (ytd["before"], ytd["this_claim"], ytd["after"]) == ("15000.00", "10000.00", "25000.00")
    assert steps["基本救助.slice"]["facts"]["payout"] == "6000.00"


# ---- explain ----------------------------------------------------------------------------

def test_explain_one_claim_with_year_to_date_figures(capsys):
    """bx-0003: 基本救助 C 25,000 → 45,000, G 25,800 − 13,800 = 12,000, capped at 6,200."""
    status, out, err = run(capsys, "explain", POLICY, CLAIMS, "--claim", "bx-0003")
    assert (status, err) == (0, "")
    assert out.startswith("理赔 bx-0003 结算说明\n")
    assert "基本救助年度累计基数: 25000.00 → 45000.00" in out
    assert "G(45000.00) − G(25000.00) = 25800.00 − 13800.00 = 12000.00" in out
    assert "= 6200.00，已达年度限额" in out
    assert "  基本救助: 6,200.00\n" in out and "  倾斜救助: 8,280.00\n" in out
    assert "§(五)「自2023年1月起，基本救助年度救助限额按2万元执行」" in out


def test_explain_without_quotes(capsys):
    status, out, _ = run(capsys, "explain", "--no-quotes", POLICY, CLAIMS, "--claim", "bx-0003")
    assert status == 0
    assert "§(五)" in out and "「" not in out


def test_explain_json(capsys):
    status, out, _ = run(capsys, "explain", "--format", "json", POLICY, CLAIMS,
                         "--claim", "bx-0007")
    result = json.loads(out)
    assert status == 0
    assert result["identity"] == "低保边缘家庭成员"
    chosen = next(s for s in result["trace"] if s["node"] == "take_highest")
    # bx-0007: 低保边缘家庭成员 17,800 against 因病致贫重病患者 13,500 (test_text_lang.py)
    assert chosen["facts"]["totals"] == [["低保边缘家庭成员", "17800.00"],
                                         ["因病致贫重病患者", "13500.00"]]
    assert chosen["facts"]["winner"] == "低保边缘家庭成员"


def test_explain_failed_claim_exits_1(capsys):
    status, out, err = run(capsys, "explain", POLICY, CLAIMS, "--claim", "bx-0013")
    assert (status, out) == (1, "")
    assert "C307" in err


def test_explain_unknown_claim_exits_2(capsys):
    status, out, err = run(capsys, "explain", POLICY, CLAIMS, "--claim", "bx-9999")
    assert (status, out) == (2, "")
    assert "no claim bx-9999" in err


# ---- demo -------------------------------------------------------------------------------

def test_demo_prints_the_table_then_every_explanation(capsys):
    status, out, err = run(capsys, "demo", POLICY, CLAIMS)
    assert status == 0
    table, *explanations = out.split("\n" + "=" * 72 + "\n")
    assert len(explanations) == 12
    assert [e.splitlines()[0] for e in explanations] == [
        f"理赔 bx-{n:04d} 结算说明" for n in range(1, 13)]
    assert "bx-0013  错误 C307" in table
    assert "bx-0013" in err and "1 claim(s) failed" in err


# ---- the installed console script ------------------------------------------------------

def test_console_script_runs_eval():
    # The script beside the interpreter running the tests: .venv/bin/yibao under `make test`.
    script = pathlib.Path(sys.executable).parent / "yibao"
    assert script.exists(), "install yibao (make setup: pip install -e .) to get the console script"
    done = subprocess.run([str(script), "eval", POLICY, "-"], input=P01.encode("utf-8"),
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode("utf-8")
    results = results_by_id(done.stdout.decode("utf-8"))
    assert [results[c]["payouts"]["倾斜救助"] for c in ("bx-0001", "bx-0002", "bx-0003")] == [
        "2520.00", "2400.00", "8280.00"]


@pytest.mark.parametrize("argv", [["--version"], ["eval", "--help"]])
def test_help_and_version_exit_0(capsys, argv):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 0
    assert "yibao" in capsys.readouterr().out


def test_refused_claims_are_reported_in_a_few_writes(monkeypatch):
    """Each refused claim's line, in order, then the count; written a few thousand lines
    at a time (print() made two system calls a line: 25,000 for 10^6 synthetic claims)."""
    import io

    from yibao.cli import outcomes
    from yibao.runtime.claims import ClaimError

    class Counting(io.StringIO):
        writes = 0

        def write(self, text):
            Counting.writes += 1
            return super().write(text)

    failures = [ClaimError("C311", f"c-{n}", "identities", "两个身份", hint="拆分" if n % 2 else "",
                           line_number=n + 2 if n % 3 else None) for n in range(10)]
    stream = Counting()
    monkeypatch.setattr(outcomes.sys, "stderr", stream)
    monkeypatch.setattr(outcomes, "REPORTED_AT_ONCE", 4)
    outcomes.report_failures(failures)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "yibao: claim c-0, field identities: C311 两个身份"
    assert lines[1] == "yibao: claim c-1, field identities: C311 两个身份 (line 3) — 拆分"
    assert lines[3] == "yibao: claim c-3, field identities: C311 两个身份 — 拆分"
    assert [line.split(",")[0] for line in lines[:10]] == [f"yibao: claim c-{n}" for n in range(10)]
    assert lines[10:] == ["yibao: 10 claim(s) failed; the others were settled"]
    assert Counting.writes <= 3 + 2   # three batches of four, then the count's print


def test_the_encoding_option_offers_the_encodings_the_readers_take():
    """cli/outcomes.py names the encodings itself (the readers' module imports attrs,
    which a Parquet run does not want before it starts reading)."""
    from yibao.backends.encodings import ENCODINGS
    from yibao.cli.outcomes import ENCODING_CHOICES

    assert ENCODING_CHOICES == ENCODINGS


def test_the_command_leaves_nothing_for_the_shutdown_to_collect(tmp_path):
    """``yibao`` collects what a run left in reference cycles and freezes the rest before
    it exits (cli/main.py, collect_before_exit): the interpreter's shutdown would
    otherwise walk every object again.  At exit, the collector tracks only what was
    made after (a few hundred objects; ≈ 60,000 after a batch run without it)."""
    script = ("import atexit, gc, sys\n"
              "atexit.register(lambda: print(len(gc.get_objects()), file=sys.stderr))\n"
              "sys.argv = ['yibao', *sys.argv[1:]]\n"
              "from yibao.cli.main import entry\n"
              "entry()\n")
    run = subprocess.run([sys.executable, "-c", script, "eval",
                          str(POLICIES / "benxi-2023.policy"),
                          str(EXAMPLES / "benxi-2023.jsonl"), "-o", str(tmp_path / "r.jsonl")],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 1, run.stderr          # bx-0013 is refused (C307)
    assert int(run.stderr.splitlines()[-1]) < 1_000
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 13
