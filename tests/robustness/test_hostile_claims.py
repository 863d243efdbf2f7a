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
from robustness.profiles import scaled
from yibao.api import ClaimError, evaluate_claims, outcome_to_json
from yibao.cli.main import main

BENXI = str(POLICIES / "benxi-2023.policy")

GOOD_BEFORE = {
    "claim_id": "good-before", "person_id": "p-a", "date": "2023-03-01",
    "identities": ["低保对象"], "scheme": "居民医保", "visit": "住院",
    "total_cost": "40000.00", "in_scope_cost": "35000.00",
    "paid": {"基本医保": "17000.00", "大病保险": "3000.00"},
}
GOOD_AFTER = {
    "claim_id": "good-after", "person_id": "p-b", "date": "2023-04-01",
    "identities": ["特困人员"], "scheme": "居民医保", "visit": "住院",
    "total_cost": "12000.00", "in_scope_cost": "10000.00",
    "paid": {"基本医保": "6000.00", "大病保险": "0.00"},
}
SETTLED = {
    "good-before": ("10500.00", "1050.00", "31550.00", "8450.00", ["因病返贫风险"]),
    "good-after": ("2800.00", "1200.00", "10000.00", "2000.00", []),
}


def line(**changes) -> bytes:
    """A claim of person p-x changed as given (``...`` drops a field)."""
    data = dict(GOOD_BEFORE, claim_id="bad", person_id="p-x")
    for key, value in changes.items():
        if value is ...:
            data.pop(key)
        else:
            data[key] = value
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def text(raw: str) -> bytes:
    return raw.encode("utf-8")


# (bad line, code, claim id read from it, field)
HOSTILE = {
    "money of the wrong type": (line(total_cost=[40000]), "C302", "bad", "total_cost"),
    "money as true": (line(total_cost=True), "C302", "bad", "total_cost"),
    "identities not a list": (line(identities="低保对象"), "C302", "bad", "identities"),
    "date as a number": (line(date=20230301), "C302", "bad", "date"),
    "impossible date": (line(date="2023-02-30"), "C302", "bad", "date"),
    "negative money": (line(total_cost="-1.00"), "C303", "bad", "total_cost"),
    "NaN as a string": (line(in_scope_cost="NaN"), "C303", "bad", "in_scope_cost"),
    "Infinity as a string": (line(total_cost="Infinity"), "C303", "bad", "total_cost"),
    "NaN as a bare JSON word": (text('{"claim_id": "bad", "total_cost": NaN}'), "C300", "bad", None),
    "three decimals": (line(in_scope_cost="35000.005"), "C303", "bad", "in_scope_cost"),
    "in-scope above total": (line(in_scope_cost="40000.01"), "C304", "bad", "in_scope_cost"),
    "unknown identity": (line(identities=["外星人"]), "C305", "bad", "identities"),
    "unknown field": (line(colour="red"), "C306", "bad", "colour"),
    "date before the policy": (line(date="2022-12-31"), "C310", "bad", "date"),
    "truncated JSON": (line()[:70], "C300", "bad", None),
    "huge amount as a string": (line(total_cost="1e400"), "C303", "bad", "total_cost"),
    "huge JSON number": (text(line().decode().replace('"40000.00"', "1e400")), "C303", "bad",
                         "total_cost"),
    "huge integer": (line(total_cost=10 ** 40), "C303", "bad", "total_cost"),
    "non-UTF-8 bytes": (b'{"claim_id": "bad", "person_id": "\xff\xfe"}', "C300", None, None),
    "deeply nested arrays": (b"[" * 100_000 + b"]" * 100_000, "C300", None, None),
    "deeply nested objects": (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "C300", None, None),
    "an array instead of an object": (text(f"[{line().decode()}]"), "C300", None, None),
    "a bare string": (text('"claim"'), "C300", None, None),
    "null": (text("null"), "C300", None, None),
    "missing person": (line(person_id=...), "C301", "bad", "person_id"),
    "missing upstream payout": (line(paid={"基本医保": "17000.00"}), "C307", "bad", "paid.大病保险"),
    "upstream beyond the in-scope cost": (
        line(paid={"基本医保": "30000.00", "大病保险": "6000.00"}), "C308", "bad", "paid.大病保险"),
    "a payout yibao computes": (
        line(paid={"基本医保": "0", "大病保险": "0", "基本救助": "1"}), "C309", "bad", "paid.基本救助"),
    "unknown visit": (line(visit="急诊"), "C313", "bad", "visit"),
    "claim id too long": (line(claim_id="x" * 201), "C302", None, "claim_id"),
    "claim id a number": (line(claim_id=7), "C302", None, "claim_id"),
    "bool field as text": (line(in_province="yes"), "C302", "bad", "in_province"),
    "count field with a fraction": (line(bed_days=1.5), "C302", "bad", "bed_days"),
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


def test_a_duplicated_claim_id_settles_the_first_and_rejects_the_second(tmp_path, capsys):
    status, rows, _ = settle_file(
        tmp_path, capsys, b"\n".join([good(GOOD_BEFORE), good(GOOD_BEFORE), good(GOOD_AFTER)]))
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


def test_a_byte_order_mark_makes_its_line_an_error_not_the_file(tmp_path, capsys):
    """A UTF-8 BOM (as Windows editors save) is not JSON: the first line is C300,
    its claim id still read; the next lines settle."""
    content = b"\xef\xbb\xbf" + good(GOOD_BEFORE) + b"\n" + good(GOOD_AFTER) + b"\n"
    status, rows, _ = settle_file(tmp_path, capsys, content)
    assert status == 1
    assert (rows[0]["error"], rows[0]["claim_id"], rows[0]["line"]) == ("C300", "good-before", 1)
    assert_good(rows[1])


@pytest.mark.parametrize("options", [(), ("--stream",)])
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
