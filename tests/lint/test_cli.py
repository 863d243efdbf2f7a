"""`yibao lint` and `yibao fmt` on the command line: output forms and exit status."""

from __future__ import annotations

import json

from helpers import POLICIES, ROOT
from yibao.cli.main import main


def _write(tmp_path, text: str, name: str = "t.policy"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_lint_text_is_path_line_column_code_message_then_the_hint(tmp_path, capsys, good):
    path = _write(tmp_path, good.replace("cap 2万 §(五)", "cap 2万 §五"))
    assert main(["lint", str(path)]) == 1       # L111 is an error
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{path}:21:12: L111 §五 is written differently from the declared clause §(五)"
    assert out[1] == "    hint: write §(五)"
    assert out[-1] == "Found 1 finding in 1 file: 1 error(s), 0 warning(s), 0 info."


def test_lint_exits_0_when_findings_are_warnings_only(tmp_path, capsys, good):
    path = _write(tmp_path, good.replace("take highest", "identity 因病致贫重病患者 §(一)\ntake highest"))
    assert main(["lint", "--format", "concise", str(path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{path}:8:10: L104 identity 因病致贫重病患者 receives no treatment: no line covers it"]


def test_lint_never_crashes_on_a_policy_the_checker_rejects(tmp_path, capsys, good):
    path = _write(tmp_path, good.replace("低保对象: 70%", "底保对象: 170%"))
    assert main(["lint", "--format", "json", str(path)]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert {(f["code"], f["rule"]) for f in findings} >= {("L108", "unknown-identity"),
                                                          ("L101", "rate-out-of-range")}
    assert all(f["file"] == str(path) and f["line"] == 18 for f in findings
               if f["code"] in ("L101", "L108"))


def test_lint_shares_reports_each_identitys_largest_share(capsys):
    assert main(["lint", "--format", "json", "--shares", str(POLICIES / "benxi-2023.policy")]) == 0
    shares = json.loads(capsys.readouterr().out)["shares"]
    by_identity = {s["identity"]: s for s in next(iter(shares.values()))}
    low_income = by_identity["低保对象"]
    assert low_income["assistance_share"]["share"] == "1673/2000"
    assert low_income["assistance_share"]["burden_yuan"] == "28,571.43"
    assert low_income["treated_as_it"] == ["返贫致贫人口", "监测帮扶对象"]
    assert low_income["upstream_share_passing_ceiling"] == "227/327"
    assert by_identity["特困人员"]["assistance_share"]["percent"] == "100.00%"


def test_lint_shares_as_text(capsys):
    main(["lint", "--shares", str(POLICIES / "benxi-2023.policy")])
    out = capsys.readouterr().out
    assert ("  低保边缘家庭成员 (and 其他监测范围内人口, treated as it): assistance share 77.55%, "
            "reached at a burden of 35,333.33") in out


def test_lint_lists_its_rules(capsys):
    assert main(["lint", "--rules"]) == 0
    codes = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert codes[:2] == ["L001", "L002"] and "L401" in codes


def test_lint_usage_errors_exit_2(tmp_path, capsys):
    assert main(["lint", str(tmp_path / "missing.policy")]) == 2
    bad = _write(tmp_path, '[tool.yibao.lint]\nceiling = "high"\n', "pyproject.toml")
    assert main(["lint", "--config", str(bad), str(POLICIES / "benxi-2023.policy")]) == 2
    assert "ceiling must be a percentage" in capsys.readouterr().err


MESSY = "policy t {effective 2023-01-01}\nidentity 甲 §(一)   # why\n"
TIDY = "policy t {\n    effective 2023-01-01\n}\nidentity 甲 §(一)  # why\n"


def test_fmt_check_lists_files_that_would_change_and_changes_nothing(tmp_path, capsys):
    messy, tidy = _write(tmp_path, MESSY, "a.policy"), _write(tmp_path, TIDY, "b.policy")
    assert main(["fmt", "--check", str(tmp_path)]) == 1
    assert capsys.readouterr().out == f"would reformat {messy}\n"
    assert messy.read_text(encoding="utf-8") == MESSY
    assert main(["fmt", "--check", str(tidy)]) == 0


def test_fmt_rewrites_in_place_and_diff_shows_the_change(tmp_path, capsys):
    path = _write(tmp_path, MESSY)
    assert main(["fmt", "--diff", str(path)]) == 1
    assert "+    effective 2023-01-01\n" in capsys.readouterr().out
    assert main(["fmt", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == TIDY


def test_fmt_refuses_a_file_that_does_not_parse(tmp_path, capsys):
    path = _write(tmp_path, 'policy t {\n    title "unclosed\n}\n')
    assert main(["fmt", str(path)]) == 2
    assert "P1" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == 'policy t {\n    title "unclosed\n}\n'


def test_the_commands_ci_runs_on_the_shipped_policies(capsys, monkeypatch):
    """`yibao lint policies/` exits 0; `yibao fmt --check` exits 0 on the formatted ones."""
    monkeypatch.chdir(ROOT)
    assert main(["lint", "--format", "concise", "policies/"]) == 0
    formatted = [str(p) for p in sorted(POLICIES.glob("*.policy"))]
    assert main(["fmt", "--check", *formatted]) == 0
    capsys.readouterr()
