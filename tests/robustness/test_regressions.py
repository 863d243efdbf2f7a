"""Regressions for crashes the robustness tests found (see the Robustness section of README)."""

from __future__ import annotations

import json

import pytest

from robustness.claim_space import POLICIES
from robustness.hostile_lines import GOOD_AFTER, GOOD_BEFORE
from robustness.policy_text import compile_text
from yibao.cli.main import main
from yibao.runtime.claims import ClaimError, decode_claim_line
from yibao.core.diagnostics import PolicyError
from yibao.dsl.loader import load_policy

BENXI = str(POLICIES / "benxi-2023.policy")


def _eval(tmp_path, capsys, bad: bytes):
    path = tmp_path / "claims.jsonl"
    good = [json.dumps(c, ensure_ascii=False).encode() for c in (GOOD_BEFORE, GOOD_AFTER)]
    path.write_bytes(b"\n".join([good[0], bad, good[1]]) + b"\n")
    status = main(["eval", BENXI, str(path)])
    rows = [json.loads(row) for row in capsys.readouterr().out.splitlines()]
    return status, rows


@pytest.mark.parametrize("where", ["claim_id", "person_id", "identities", "unknown"])
def test_a_lone_surrogate_escape_is_c300_and_the_batch_is_written(tmp_path, capsys, where):
    claim = dict(GOOD_BEFORE, claim_id="bad", person_id="p-x")
    if where == "identities":
        claim["identities"] = ["\udfff"]
    elif where == "unknown":
        claim["\ud800"] = 1
    else:
        claim[where] = "\ud800x"
    status, rows = _eval(tmp_path, capsys, json.dumps(claim).encode())  # \\ud800 escapes
    assert status == 1 and len(rows) == 3
    assert (rows[1]["error"], rows[1]["line"]) == ("C300", 2)
    assert rows[2]["claim_id"] == "good-after"


def test_a_surrogate_encoded_as_bytes_is_not_utf8(tmp_path, capsys):
    """Strict UTF-8 refuses an encoded surrogate, so text decoded from bytes never
    holds half a character (decode_claim_line skips its scan for one)."""
    line = json.dumps(dict(GOOD_BEFORE, claim_id="bad"), ensure_ascii=False).encode()
    status, rows = _eval(tmp_path, capsys, line.replace(b'"bad"', b'"b\xed\xa0\x80d"'))
    assert status == 1 and len(rows) == 3
    assert (rows[1]["error"], rows[1]["line"]) == ("C300", 2)
    assert "not UTF-8" in rows[1]["message"]


def test_half_a_character_in_a_text_line_is_c300():
    """A line given as text (e.g. decoded with surrogateescape) is still scanned."""
    line = json.dumps(dict(GOOD_BEFORE, person_id="p\udc80"), ensure_ascii=False)
    assert "\\u" not in line   # the surrogate is in the text itself, not escaped
    with pytest.raises(ClaimError) as raised:
        decode_claim_line(line, 3)
    assert (raised.value.code, raised.value.line_number) == ("C300", 3)
    assert "surrogate" in raised.value.message


@pytest.mark.parametrize("number", ["1e-99999999999999999999", "0E+77777777777777777777777777"])
def test_a_json_number_beyond_any_decimal_exponent_is_c300(tmp_path, capsys, number):
    bad = json.dumps(dict(GOOD_BEFORE, claim_id="bad")).replace('"40000.00"', number)
    status, rows = _eval(tmp_path, capsys, bad.encode())
    assert status == 1 and len(rows) == 3
    assert (rows[1]["error"], rows[1]["claim_id"], rows[1]["line"]) == ("C300", "bad", 2)


def test_negative_zero_money_is_written_as_zero(tmp_path, capsys):
    claim = dict(GOOD_BEFORE, claim_id="zero", person_id="p-z", total_cost="-0",
                 in_scope_cost="-0.00", paid={"基本医保": "-0", "大病保险": "0"})
    status, rows = _eval(tmp_path, capsys, json.dumps(claim, ensure_ascii=False).encode())
    assert status == 0
    assert set(rows[1]["payouts"].values()) == {"0.00"}
    assert rows[1]["total_paid"] == rows[1]["personal_burden"] == "0.00"


def test_a_long_run_of_not_is_a_diagnostic_not_a_recursion_error():
    text = ('policy deep-2024 { effective 2024-01-01 }\nclause §1 "条款"\nidentity 甲 §1\n'
            "field b: bool §1\nline L { covers 住院 §1 when " + "not " * 2000 + "b §1 rate 50% §1 }\n")
    with pytest.raises(PolicyError) as raised:
        compile_text(text)
    assert raised.value.diagnostics[0].code == "P111"


def test_a_folder_named_like_a_policy_is_p115(tmp_path):
    (tmp_path / "folder.policy").mkdir()
    with pytest.raises(PolicyError) as raised:
        load_policy(tmp_path / "folder.policy")
    assert raised.value.diagnostics[0].code == "P115"  # not a regular file (issue 21 item 8)


def test_an_extends_link_out_of_the_folder_is_refused(tmp_path):
    """A policy reads only its own folder: a symlink named like the base is refused (S225)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "base.policy").write_text("policy base { effective 2020-01-01 }\n", encoding="utf-8")
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "base.policy").symlink_to(outside / "base.policy")
    (folder / "child.policy").write_text(
        "policy child extends base { effective 2021-01-01 }\n", encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        load_policy(folder / "child.policy")
    assert raised.value.diagnostics[0].code == "S225"


def test_parentheses_in_comments_and_quotes_do_not_count_as_nesting():
    text = ('policy paren-2024 { effective 2024-01-01 }  # ' + "(" * 40 + "\n"
            'clause §1 "' + "(" * 40 + '"\nidentity 甲 §1\n')
    assert compile_text(text) is not None


@pytest.mark.parametrize("money", ["４００００", "40_000.00", "1E+2", " 12.00"])
def test_money_text_is_ascii_digits_only(tmp_path, capsys, money):
    claim = dict(GOOD_BEFORE, claim_id="bad", person_id="p-m", total_cost=money)
    status, rows = _eval(tmp_path, capsys, json.dumps(claim, ensure_ascii=False).encode())
    assert status == 1 and (rows[1]["error"], rows[1]["field"]) == ("C303", "total_cost")


@pytest.mark.parametrize("date", ["20230210", "2023-W06-5"])
def test_dates_are_written_yyyy_mm_dd(tmp_path, capsys, date):
    claim = dict(GOOD_BEFORE, claim_id="bad", person_id="p-d", date=date)
    status, rows = _eval(tmp_path, capsys, json.dumps(claim, ensure_ascii=False).encode())
    assert status == 1 and (rows[1]["error"], rows[1]["field"]) == ("C302", "date")
