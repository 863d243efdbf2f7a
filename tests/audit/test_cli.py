"""The commands: `yibao eval --record/--resume` and `yibao audit verify|replay|show`.

Claims: docs/specification.md §6's example (see conftest): 基本救助 7,800 / 6,000 / 6,200.
"""

from __future__ import annotations

import json
import re

import pytest

from helpers import POLICIES
from yibao.cli.main import EXIT_CLAIMS_FAILED, EXIT_OK, EXIT_USAGE, main

POLICY = str(POLICIES / "benxi-2023.policy")


@pytest.fixture
def claims_file(tmp_path, as_lines, domain_claims):
    path = tmp_path / "claims.jsonl"
    path.write_text("".join(line + "\n" for _, line in as_lines(domain_claims)), encoding="utf-8")
    return str(path)


@pytest.fixture
def recorded(claims_file, store_path, capsys):
    assert main(["eval", POLICY, claims_file, "--record", store_path]) == EXIT_OK
    capsys.readouterr()
    return store_path


def paid(stdout: str) -> list[str]:
    return [json.loads(line)["payouts"]["基本救助"] for line in stdout.splitlines()]


def test_eval_record_writes_results_after_their_commit(claims_file, store_path, capsys):
    assert main(["eval", POLICY, claims_file, "--record", store_path, "--commit-every", "2"]) == 0
    out, err = capsys.readouterr()
    assert paid(out) == ["7800.00", "6000.00", "6200.00"]
    assert err.splitlines() == [f"yibao: recorded #1–#2 (batch 1) in {store_path}",
                                f"yibao: recorded #3–#3 (batch 1) in {store_path}"]


def test_eval_record_output_equals_plain_eval(claims_file, store_path, capsys):
    main(["eval", POLICY, claims_file, "--trace"])
    plain = capsys.readouterr().out
    main(["eval", POLICY, claims_file, "--trace", "--record", store_path])
    assert capsys.readouterr().out == plain


def test_resume_of_a_finished_batch_reports_every_result_and_records_nothing(
        recorded, claims_file, capsys):
    assert main(["eval", POLICY, claims_file, "--record", recorded, "--resume"]) == EXIT_OK
    out, err = capsys.readouterr()
    assert paid(out) == ["7800.00", "6000.00", "6200.00"]
    assert "3 line(s) already recorded" in err and "recorded #" not in err


def test_resume_needs_a_store(claims_file, capsys):
    assert main(["eval", POLICY, claims_file, "--resume"]) == EXIT_USAGE


def test_resume_with_other_claims_is_refused(recorded, tmp_path, capsys):
    other = tmp_path / "other.jsonl"
    other.write_text("{}\n", encoding="utf-8")
    assert main(["eval", POLICY, str(other), "--record", recorded, "--resume"]) == EXIT_USAGE
    assert "line 1 differs" in capsys.readouterr().err


def test_commit_every_must_be_positive(claims_file, store_path, capsys):
    with pytest.raises(SystemExit):
        main(["eval", POLICY, claims_file, "--record", store_path, "--commit-every", "0"])
    assert "expected a whole number ≥ 1" in capsys.readouterr().err


def test_verify_passes_then_fails_after_tampering(recorded, tamper, capsys):
    assert main(["audit", "verify", recorded]) == EXIT_OK
    assert capsys.readouterr().out.startswith("ok: 3 record(s) verify; head #3 ")
    tamper(recorded, "DELETE FROM records WHERE seq = 1")
    assert main(["audit", "verify", recorded]) == EXIT_CLAIMS_FAILED
    assert "record #1 was removed" in capsys.readouterr().err


def test_replay_reports_no_difference(recorded, capsys):
    assert main(["audit", "replay", recorded, "--claim", "c"]) == EXIT_OK
    assert "replayed 1 record(s) made by yibao" in capsys.readouterr().out


def test_replay_as_json(recorded, capsys):
    assert main(["audit", "replay", recorded, "--format", "json"]) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert (report["compared"], report["differences"]) == (3, [])


def test_show_prints_the_record_and_its_explanation(recorded, capsys):
    assert main(["audit", "show", recorded, "--claim", "c"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith("record #3 (batch 1, line 3), recorded ")
    assert "理赔 c 结算说明" in out
    assert "  基本救助: 6,200.00" in out


def test_show_as_json_and_by_seq(recorded, claims_file, capsys):
    main(["eval", POLICY, claims_file, "--record", recorded])     # a second batch: #4–#6
    capsys.readouterr()
    assert main(["audit", "show", recorded, "--claim", "a", "--seq", "1", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["seq"], data["batch"], data["outcome"]["payouts"]["基本救助"]) == (1, 1, "7800.00")
    main(["audit", "show", recorded, "--claim", "a"])
    out = capsys.readouterr().out
    assert "re-records claim a: previous record #1" in out and "other records of this claim: #1" in out


def test_show_an_unknown_claim(recorded, capsys):
    assert main(["audit", "show", recorded, "--claim", "zz"]) == EXIT_USAGE
    assert "no record of claim zz" in capsys.readouterr().err


def test_audit_commands_refuse_a_missing_or_foreign_store(tmp_path, capsys):
    assert main(["audit", "verify", str(tmp_path / "none.db")]) == EXIT_USAGE
    assert "no audit store there" in capsys.readouterr().err
    foreign = tmp_path / "foreign.db"
    foreign.write_text("not a database", encoding="utf-8")
    assert main(["audit", "verify", str(foreign)]) == EXIT_USAGE
    assert "not an audit store" in capsys.readouterr().err


@pytest.mark.parametrize("form", ["markdown", "html"])
def test_show_renders_as_explain_does(recorded, claims_file, capsys, form):
    main(["explain", POLICY, claims_file, "--claim", "c", "--format", form])
    live = capsys.readouterr().out
    assert main(["audit", "show", recorded, "--claim", "c", "--format", form]) == EXIT_OK
    shown = capsys.readouterr().out
    # The same view, but for its provenance: explain names the claims file it read,
    # show reads the claim from the store and names no claims file.
    assert "申报文件 claims.jsonl" in provenance(live) and "申报文件" not in provenance(shown)
    assert without_provenance(shown) == without_provenance(live)


PROVENANCE = re.compile(r'(<p class="provenance">.*?</p>|\*由 yibao \S+ 生成 · [^\n]*\*)')


def provenance(view: str) -> str:
    return PROVENANCE.search(view).group(0)


def without_provenance(view: str) -> str:
    return PROVENANCE.sub("", view)
