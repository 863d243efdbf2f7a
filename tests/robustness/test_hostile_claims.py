"""Hostile and broken claims through `yibao eval`: an error object each, the rest settled.

Every bad line sits between two good claims of other people in a file written
to tmp_path; ``yibao.cli.main.main(["eval", …])`` must print one JSON line per
claim line in input order (the bad one an error object with its stable code,
claim id when one can be read, field and line number), settle both good
claims to the fen, and exit with 1 (some claims failed).

The good claims, worked from Benxi §(五) (基本救助 and 倾斜救助 by identity):
- good-before, 低保对象, in-scope 35,000, 基本医保 17,000 + 大病保险 3,000:
  burden 15,000; 基本救助 70% × 15,000 = 10,500 (no deductible, cap 20,000);
  倾斜救助 70% × (15,000 − 10,500 − 3,000) = 1,050; paid 31,550 of 40,000,
  burden 8,450 ≥ 5,000: 因病返贫风险 (§(八)).
- good-after, 特困人员, in-scope 10,000, 基本医保 6,000: 基本救助 70% × 4,000
  = 2,800; 倾斜救助 100% × 1,200 = 1,200 (no deductible); paid 10,000 of
  12,000, burden 2,000, no alert.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from robustness.claim_space import POLICIES, batches, loadable_engines
from robustness.hostile_lines import GOOD_AFTER, GOOD_BEFORE, HOSTILE, line
from robustness.profiles import scaled
from yibao.api import ClaimError, evaluate_claims, outcome_to_json
from yibao.cli.main import main

BENXI = str(POLICIES / "benxi-2023.policy")

SETTLED = {
    "good-before": ("10500.00", "1050.00", "31550.00", "8450.00", ["因病返贫风险"]),
    "good-after": ("2800.00", "1200.00", "10000.00", "2000.00", []),
}


def settle_file(tmp_path, capsys, content: bytes, *options: str):
    path = tmp_path / "claims.jsonl"
    path.write_bytes(content)
    status = main(["eval", *options, BENXI, str(path)])
    captured = capsys.readouterr()
    return status, [json.loads(row) for row in captured.out.splitlines()], captured.err


def assert_good(result: dict) -> None:
    expected = SETTLED[result["claim_id"]]
    payouts = result["payouts"]
    assert (payouts["基本救助"], payouts["倾斜救助"], result["total_paid"],
            result["personal_burden"], result["alerts"]) == expected


def good(claim: dict) -> bytes:
    return json.dumps(claim, ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_bad_line_is_an_error_object_and_the_batch_goes_on(tmp_path, capsys, case):
    bad, code, claim_id, field = HOSTILE[case]
    status, rows, err = settle_file(tmp_path, capsys,
                                    b"\n".join([good(GOOD_BEFORE), bad, good(GOOD_AFTER)]) + b"\n")
    assert status == 1
    assert len(rows) == 3
    assert_good(rows[0])
    assert_good(rows[2])
    error = rows[1]
    assert (error["error"], error["claim_id"], error["field"], error["line"]) == (
        code, claim_id, field, 2)
    assert error["message"]
    assert "1 claim(s) failed" in err


@pytest.mark.parametrize("options", [(), ("--stream", "--ids-in-memory", "1")])
def test_a_duplicated_claim_id_settles_the_first_and_rejects_the_second(tmp_path, capsys,
                                                                         options):
    # --ids-in-memory 1: the first id has moved to the temporary file when its copy comes
    status, rows, _ = settle_file(
        tmp_path, capsys, b"\n".join([good(GOOD_BEFORE), good(GOOD_BEFORE), good(GOOD_AFTER)]),
        *options)
    assert status == 1
    assert_good(rows[0])
    assert (rows[1]["error"], rows[1]["claim_id"], rows[1]["field"], rows[1]["line"]) == (
        "C312", "good-before", "claim_id", 2)
    assert_good(rows[2])


def test_blank_lines_are_skipped_and_line_numbers_kept(tmp_path, capsys):
    content = b"\n".join([b"", good(GOOD_BEFORE), b"   ", b"\t", good(GOOD_AFTER),
                          line(total_cost="-1"), b""])
    status, rows, _ = settle_file(tmp_path, capsys, content)
    assert status == 1
    assert [row["claim_id"] for row in rows] == ["good-before", "good-after", "bad"]
    assert rows[2]["line"] == 6


def test_crlf_line_endings_settle_as_lf(tmp_path, capsys):
    content = good(GOOD_BEFORE) + b"\r\n" + good(GOOD_AFTER) + b"\r\n"
    status, rows, err = settle_file(tmp_path, capsys, content)
    assert status == 0 and err == ""
    for row in rows:
        assert_good(row)


def test_a_byte_order_mark_at_the_start_of_the_file_is_ignored(tmp_path, capsys):
    """A UTF-8 BOM (as Windows editors save) before the first line is not part of the
    claim: the file settles as if it were not there."""
    content = b"\xef\xbb\xbf" + good(GOOD_BEFORE) + b"\n" + good(GOOD_AFTER) + b"\n"
    status, rows, _ = settle_file(tmp_path, capsys, content)
    assert status == 0
    assert_good(rows[0])
    assert_good(rows[1])


@pytest.mark.parametrize("options", [(), ("--stream",), ("--stream", "--ids-in-memory", "1")])
def test_every_bad_line_in_one_file(tmp_path, capsys, options):
    """All the bad lines above in one batch (dated in order, for --stream too)."""
    bad_lines = [HOSTILE[case][0] for case in sorted(HOSTILE)]
    content = b"\n".join([good(GOOD_BEFORE), *bad_lines, good(GOOD_AFTER)]) + b"\n"
    status, rows, err = settle_file(tmp_path, capsys, content, *options)
    assert status == 1
    assert len(rows) == len(bad_lines) + 2
    assert_good(rows[0])
    assert_good(rows[-1])
    assert [row["error"] for row in rows[1:-1]] == [HOSTILE[case][1] for case in sorted(HOSTILE)]
    assert f"{len(bad_lines)} claim(s) failed" in err


ENGINES = loadable_engines()


@pytest.mark.parametrize("name", sorted(ENGINES))
@scaled(0.4)
@given(data=st.data())
def test_bad_lines_anywhere_change_no_other_claim(name, data):
    """One bad claim never stops a batch, nor changes another claim's result."""
    engine = ENGINES[name]
    batch = [json.dumps(claim, ensure_ascii=False) for claim in data.draw(batches(engine))]
    expected = [outcome_to_json(o, trace=False) for o in evaluate_claims(engine, batch)]
    noisy = list(batch)
    bad = data.draw(st.lists(st.sampled_from(sorted(HOSTILE)), min_size=1, max_size=5))
    for case in bad:
        noisy.insert(data.draw(st.integers(0, len(noisy))), HOSTILE[case][0].decode("utf-8", "replace"))
    outcomes = evaluate_claims(engine, noisy)
    kept = [outcome_to_json(o, trace=False) for o, raw in zip(outcomes, noisy) if raw in batch]
    for row in kept + expected:
        row.pop("line", None)
    assert kept == expected
    assert sum(isinstance(o, ClaimError) for o in outcomes) >= len(bad)
