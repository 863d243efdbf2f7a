"""Claim validation (runtime/claims.py): each C3xx code, with the claim id and the field.

docs/claims.md is the contract: the required fields, money ≥ 0 with at most 2
decimals read exactly (never via float), in_scope_cost ≤ total_cost, identities
the policy knows, `paid` for the upstream lines only, unknown fields rejected.
Claims go in as JSON text, as a claims file gives them, and one bad claim never
stops the batch (the last claim of every batch here is a good one).
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from yibao.api import evaluate_claims
from yibao.runtime.claims import MAX_TEXT, ClaimError, _text, decode_claim_line

GOOD = {
    "claim_id": "c-1", "person_id": "p-1", "date": "2023-03-01", "identities": ["低保对象"],
    "scheme": "居民医保", "visit": "住院", "total_cost": "12000.00", "in_scope_cost": "11000.00",
    "paid": {"基本医保": "5000.00", "大病保险": "0.00"},
}


def record(**changes) -> dict:
    data = json.loads(json.dumps(GOOD))
    for key, value in changes.items():
        if value is DROP:
            del data[key]
        else:
            data[key] = value
    return data


DROP = object()


def text(**changes) -> str:
    return json.dumps(record(**changes), ensure_ascii=False)


def outcome_of(engine, line: str):
    """Settle ``line`` followed by a good claim; the good one must still be settled.

    The good claim (低保对象, B = 11,000 − 5,000 = 6,000) pays 基本救助 70% = 4,200
    (Benxi §(五)) whatever happened to the bad one.
    """
    bad, good = evaluate_claims(engine, [line, text(claim_id="ok", person_id="other")])
    assert good.payout("基本救助") == Decimal("4200.00")
    return bad


def rejected(engine, line: str, code: str, claim_id, field):
    error = outcome_of(engine, line)
    assert isinstance(error, ClaimError), error
    assert (error.code, error.claim_id, error.field) == (code, claim_id, field)
    assert error.line_number == 1
    return error


# ---- C300: not a JSON object ---------------------------------------------------------------

def test_c300_truncated_line_salvages_the_claim_id(benxi_engine):
    truncated = text(claim_id="bx-77")[:60]
    error = rejected(benxi_engine, truncated, "C300", "bx-77", None)
    assert "not valid JSON" in error.message


def test_c300_not_an_object(benxi_engine):
    error = rejected(benxi_engine, '["低保对象"]', "C300", None, None)
    assert "JSON object" in error.message


def test_c300_bare_nan_is_not_json(benxi_engine):
    """NaN is not a JSON value (RFC 8259); the line is rejected as JSON, claim id salvaged."""
    line = text(claim_id="bx-nan").replace('"12000.00"', "NaN")
    rejected(benxi_engine, line, "C300", "bx-nan", None)


def test_c300_bytes_that_are_not_utf8(benxi_engine):
    [error] = benxi_engine.evaluate_records([(7, text().encode("gbk"))])
    assert (error.code, error.claim_id, error.field, error.line_number) == ("C300", None, None, 7)
    assert "UTF-8" in error.message


# ---- C301, C302: missing fields and wrong types --------------------------------------------

@pytest.mark.parametrize("field", [
    "claim_id", "person_id", "date", "identities", "scheme", "visit", "total_cost",
    "in_scope_cost"])
def test_c301_missing_required_field(benxi_engine, field):
    claim_id = None if field == "claim_id" else "c-1"
    error = rejected(benxi_engine, text(**{field: DROP}), "C301", claim_id, field)
    assert field in error.message


@pytest.mark.parametrize("field, value", [
    ("identities", "低保对象"),          # a string, not a list
    ("identities", [1]),
    ("total_cost", True),
    ("total_cost", ["12000.00"]),
    ("in_scope_cost", {"amount": "1"}),
    ("person_id", ""),
    ("person_id", 17),
    ("date", "2023-02-30"),             # not a calendar date
    ("date", 20230301),
    ("paid", ["5000.00"]),
    ("mental_disorder", "yes"),         # a bool field of the policy
    ("bed_days", 1.5),                  # a count field of the policy
    ("bed_days", -1),
])
def test_c302_wrong_type(benxi_engine, field, value):
    rejected(benxi_engine, text(**{field: value}), "C302", "c-1", field)


def test_a_record_built_in_python_may_give_a_count_as_an_int(benxi_engine):
    """JSON gives whole numbers as Decimal; a dict built in Python gives int.  Both are
    counts (a bool is not: True is an int in Python)."""
    settled, = evaluate_claims(benxi_engine, [record(bed_days=12)])
    assert settled.payout("基本救助") == Decimal("4200.00")
    rejected(benxi_engine, text(bed_days=True), "C302", "c-1", "bed_days")


def test_c302_empty_claim_id_has_no_id_to_report(benxi_engine):
    rejected(benxi_engine, text(claim_id=""), "C302", None, "claim_id")


# ---- C302: ids that look like another (issue 21, item 6) -------------------------------------

# Each was settled as a new id: a new claim (no C312) and, as a person, a fresh cap.
LOOK_ALIKE_IDS = [
    ("c-1\u200b", "U+200B ZERO WIDTH SPACE", "an invisible format character"),
    ("\u202ec-1", "U+202E RIGHT-TO-LEFT OVERRIDE", "an invisible format character"),
    ("\ufeffc-1", "U+FEFF ZERO WIDTH NO-BREAK SPACE", "an invisible format character"),
    ("c\u2060-1", "U+2060 WORD JOINER", "an invisible format character"),
    ("c\u00ad-1", "U+00AD SOFT HYPHEN", "an invisible format character"),
    ("c-1\u0085", "U+0085", "a control character"),
    ("c-1\u2028", "U+2028 LINE SEPARATOR", "a line separator"),
    ("c-\u00a01", "U+00A0 NO-BREAK SPACE", "a space"),
    ("c-1 ", "U+0020 SPACE", "a space"),
    ("c 1", "U+0020 SPACE", "a space"),
    ("c-1\u3000", "U+3000 IDEOGRAPHIC SPACE", "a space"),
]


@pytest.mark.parametrize("field", ["claim_id", "person_id"])
@pytest.mark.parametrize("value, character, kind", LOOK_ALIKE_IDS)
def test_c302_an_id_holding_an_invisible_character(benxi_engine, field, value, character, kind):
    claim_id = None if field == "claim_id" else "c-1"
    error = rejected(benxi_engine, text(**{field: value}), "C302", claim_id, field)
    assert error.message == f"holds {kind} ({character})"
    assert "remove it" in error.hint


@pytest.mark.parametrize("field", ["claim_id", "person_id"])
@pytest.mark.parametrize("value, plain, character", [
    ("ｃ-1", "c-1", "U+FF43 FULLWIDTH LATIN SMALL LETTER C"),
    ("ｐ－１", "p-1", "U+FF50 FULLWIDTH LATIN SMALL LETTER P"),
    ("c-①", "c-1", "U+2460 CIRCLED DIGIT ONE"),
    ("c-\ufa5b", "c-\u8005", "U+FA5B CJK COMPATIBILITY IDEOGRAPH-FA5B"),   # 者
    ("cafe\u0301", "caf\u00e9", None),   # e + combining acute: NFKC composes them
])
def test_c302_an_id_not_in_nfkc_form(benxi_engine, field, value, plain, character):
    claim_id = None if field == "claim_id" else "c-1"
    error = rejected(benxi_engine, text(**{field: value}), "C302", claim_id, field)
    which = f" ({character})" if character else ""
    assert error.message == (f"'{value}' is not in Unicode NFKC form{which}: it reads as "
                             f"'{plain}' but is another id")
    assert error.hint == f"write the id in plain characters, e.g. '{plain}'"


@pytest.mark.parametrize("value", ["c-1", "本溪-0001", "患者张三", "c_1.2/3", "é-1", "Ω-𝄞"])
def test_plain_ids_in_any_script_are_accepted(benxi_engine, value):
    settled = outcome_of(benxi_engine, text(claim_id=value, person_id=value))
    assert settled.claim_id == value and settled.payout("基本救助") == Decimal("4200.00")


def test_a_look_alike_person_id_no_longer_opens_a_fresh_cap(benxi_engine):
    """The report: each variant of p-1 paid a fresh 20,000.00 基本救助 (Benxi §(五): cap
    2万 a year).  B = 45,000 − 5,000 = 40,000 at 70% would be 28,000: capped at 20,000;
    the variant is refused, and p-1's next claim finds the cap used up."""
    big = dict(total_cost="50000.00", in_scope_cost="45000.00",
               paid={"基本医保": "5000.00", "大病保险": "0.00"})
    first, variant, again = evaluate_claims(benxi_engine, [
        text(claim_id="c-1", person_id="p-1", **big),
        text(claim_id="c-2", person_id="p-1\u200b", **big),
        text(claim_id="c-3", person_id="p-1", **big)])
    assert first.payout("基本救助") == Decimal("20000.00")
    assert isinstance(variant, ClaimError) and (variant.code, variant.field) == ("C302",
                                                                               "person_id")
    assert again.payout("基本救助") == Decimal("0.00")


def test_a_look_alike_claim_id_is_not_a_new_claim(benxi_engine):
    outcomes = evaluate_claims(benxi_engine, [text(claim_id="c-1"), text(claim_id="ｃ-1"),
                                              text(claim_id="c-1")])
    assert [getattr(o, "code", None) for o in outcomes] == [None, "C302", "C312"]


# ---- one error for all of a claim's problems (issue 21, item 13) ------------------------------

def test_every_missing_field_is_reported_in_one_error(benxi_engine):
    error = rejected(benxi_engine, text(person_id=DROP, date=DROP, total_cost=DROP),
                     "C301", "c-1", "person_id")
    assert [(p.code, p.field) for p in error.problems] == [
        ("C301", "person_id"), ("C301", "date"), ("C301", "total_cost")]
    assert error.message == (
        "missing required field person_id; also C301 date: missing required field date; "
        "C301 total_cost: missing required field total_cost")
    data = error.to_json()
    assert (data["error"], data["field"], data["line"]) == ("C301", "person_id", 1)
    assert data["problems"] == [
        {"error": "C301", "field": field, "message": f"missing required field {field}",
         "hint": "docs/claims.md lists the required fields"}
        for field in ("person_id", "date", "total_cost")]


def test_every_bad_field_is_reported_in_one_error_each_with_its_code(benxi_engine):
    error = rejected(benxi_engine, text(
        person_id="p-1\u200b", identities=["外星人"], visit="急诊", total_cost="12,000",
        in_scope_cost="-1", bed_days=1.5, colour=True,
        paid={"基本医保": "1e", "大病险": "0.00"}), "C302", "c-1", "person_id")
    assert [(p.code, p.field) for p in error.problems] == [
        ("C302", "person_id"), ("C305", "identities"), ("C313", "visit"),
        ("C303", "total_cost"), ("C303", "in_scope_cost"), ("C302", "bed_days"),
        ("C306", "colour"), ("C306", "paid.大病险"), ("C303", "paid.基本医保"),
        ("C307", "paid.大病保险")]
    assert error.hint == error.problems[0].hint
    for problem in error.problems[1:]:
        assert f"{problem.code} {problem.field}: {problem.message}" in error.message


def test_in_scope_above_total_is_reported_beside_other_problems(benxi_engine):
    error = rejected(benxi_engine, text(scheme="公费", total_cost="10.00", in_scope_cost="20.00"),
                     "C313", "c-1", "scheme")
    assert [(p.code, p.field) for p in error.problems] == [("C313", "scheme"),
                                                           ("C304", "in_scope_cost")]


def test_an_unreadable_date_leaves_the_version_checks_for_later(benxi_engine):
    """Which version's identities, fields and lines apply depends on the date: a claim
    whose date cannot be read is not checked against a guessed version."""
    error = rejected(benxi_engine, text(date="2023-3-1", identities=["外星人"], visit="急诊"),
                     "C302", "c-1", "date")
    assert [(p.code, p.field) for p in error.problems] == [("C302", "date"), ("C313", "visit")]


def test_an_error_with_several_problems_reads_back_from_an_audit_store(benxi_engine):
    """The audit store keeps outcomes as JSON; replay and show read them back
    (audit/restore.py): every problem must come back, not the first alone."""
    from yibao.audit.restore import outcome_from_json

    error = rejected(benxi_engine, text(person_id=DROP, visit="急诊"), "C301", "c-1",
                     "person_id")
    assert len(error.problems) == 2
    restored = outcome_from_json(error.to_json())   # (exceptions compare by identity)
    assert restored.to_json() == error.to_json()
    assert [(p.code, p.field, p.message, p.hint) for p in restored.problems] == [
        (p.code, p.field, p.message, p.hint) for p in error.problems]


def test_a_claim_with_one_problem_has_no_list_of_problems(benxi_engine):
    error = rejected(benxi_engine, text(visit="急诊"), "C313", "c-1", "visit")
    assert error.problems == () and "problems" not in error.to_json()


# ---- C303: amounts ---------------------------------------------------------------------------

@pytest.mark.parametrize("field, value, words", [
    ("total_cost", "-1.00", "negative"),
    ("in_scope_cost", -0.01, "negative"),
    ("total_cost", "NaN", "finite"),
    ("total_cost", "Infinity", "finite"),
    ("total_cost", "12000.005", "2 decimals"),
    ("total_cost", "twelve", "not an amount"),
    ("total_cost", "1000000000000.01", "beyond"),
])
def test_c303_bad_amount(benxi_engine, field, value, words):
    error = rejected(benxi_engine, text(**{field: value}), "C303", "c-1", field)
    assert words in error.message


def test_c303_three_decimals_as_a_json_number(benxi_engine):
    line = text().replace('"12000.00"', "12000.005")
    error = rejected(benxi_engine, line, "C303", "c-1", "total_cost")
    assert "12000.005" in error.message


def test_c303_huge_json_number(benxi_engine):
    line = text().replace('"12000.00"', "1e13")
    rejected(benxi_engine, line, "C303", "c-1", "total_cost")


def test_c303_bad_upstream_payout_names_the_line(benxi_engine):
    line = text(paid={"基本医保": "-5.00", "大病保险": "0.00"})
    rejected(benxi_engine, line, "C303", "c-1", "paid.基本医保")


# ---- C304 … C313 ------------------------------------------------------------------------------

def test_c304_in_scope_above_total(benxi_engine):
    error = rejected(benxi_engine, text(in_scope_cost="12000.01"), "C304", "c-1", "in_scope_cost")
    assert "12000.01" in error.message and "12000.00" in error.message


def test_c305_unknown_identity_with_suggestion(benxi_engine):
    error = rejected(benxi_engine, text(identities=["低保边缘家庭"]), "C305", "c-1", "identities")
    assert "低保边缘家庭" in error.message
    assert error.hint == "did you mean 低保边缘家庭成员?"


def test_c305_unknown_identity_lists_the_known_ones(benxi_engine):
    error = rejected(benxi_engine, text(identities=["新市民"]), "C305", "c-1", "identities")
    assert "因病致贫重病患者" in error.hint


def test_c306_unknown_field_with_suggestion(benxi_engine):
    error = rejected(benxi_engine, text(bed_day=3), "C306", "c-1", "bed_day")
    assert error.hint == "did you mean bed_days?"


def test_c306_unknown_paid_line(benxi_engine):
    line = text(paid={"基本医保": "5000.00", "大病保险": "0.00", "大病医保": "0.00"})
    error = rejected(benxi_engine, line, "C306", "c-1", "paid.大病医保")
    assert "基本医保, 大病保险" in error.hint


@pytest.mark.parametrize("paid, field", [
    ({"基本医保": "5000.00"}, "paid.大病保险"),
    ({"大病保险": "0.00"}, "paid.基本医保"),
    (DROP, "paid.基本医保"),
])
def test_c307_missing_upstream_payout(benxi_engine, paid, field):
    """docs/specification.md §7: a missing upstream payout is an error, never 0."""
    error = rejected(benxi_engine, text(paid=paid), "C307", "c-1", field)
    assert "never taken as 0" in error.hint


def test_c308_upstream_payouts_above_in_scope(benxi_engine):
    """docs/specification.md §17: upstream payouts whose sum exceeds in_scope_cost are an error.

    In-scope 11,000 − 基本医保 10,000 leaves 1,000 that 大病保险 may pay; it paid 1,000.01.
    """
    line = text(paid={"基本医保": "10000.00", "大病保险": "1000.01"})
    error = rejected(benxi_engine, line, "C308", "c-1", "paid.大病保险")
    assert "1000.01" in error.message


def test_c308_not_raised_when_upstream_equals_in_scope(benxi_engine):
    """B = 0 exactly: nothing to assist, not an error."""
    line = text(paid={"基本医保": "10000.00", "大病保险": "1000.00"})
    result = outcome_of(benxi_engine, line)
    assert result.payout("基本救助") == Decimal("0.00")


def test_c309_paid_for_a_computed_line(benxi_engine):
    line = text(paid={"基本医保": "5000.00", "大病保险": "0.00", "基本救助": "100.00"})
    rejected(benxi_engine, line, "C309", "c-1", "paid.基本救助")


def test_c310_date_before_the_policy(benxi_engine):
    error = rejected(benxi_engine, text(date="2022-12-31"), "C310", "c-1", "date")
    assert "2023-01-01" in error.message


def test_c312_duplicate_claim_id_keeps_the_first(benxi_engine):
    """The first claim with the id is settled (70% × 6,000 = 4,200); the second is rejected."""
    first, second = evaluate_claims(benxi_engine, [text(), text(person_id="p-2")])
    assert first.payout("基本救助") == Decimal("4200.00")
    assert (second.code, second.claim_id, second.field, second.line_number) == (
        "C312", "c-1", "claim_id", 2)


@pytest.mark.parametrize("field, value, hint", [
    ("visit", "门诊", "did you mean 普通门诊?"),
    ("scheme", "新农合", "one of 居民医保, 职工医保"),
])
def test_c313_unknown_visit_or_scheme(benxi_engine, field, value, hint):
    error = rejected(benxi_engine, text(**{field: value}), "C313", "c-1", field)
    assert error.hint == hint


# ---- money read exactly ------------------------------------------------------------------------

def test_json_numbers_are_read_exactly_0_1_plus_0_2(benxi_engine):
    """docs/claims.md: money as JSON numbers is read exactly.

    paid 0.1 + 0.2 is exactly in_scope 0.3 (as floats, 0.30000000000000004 > 0.3 would be
    a C308).  特困人员 with in-scope 10,000.30 and the same upstream: B = 10,000.00 →
    基本救助 70% = 7,000.00, 倾斜救助 100% of 3,000.00 (Benxi §(五)).
    """
    tiny = ('{"claim_id": "tiny", "person_id": "p", "date": "2023-03-01", "identities": ["特困人员"],'
            ' "scheme": "居民医保", "visit": "住院", "total_cost": 0.3, "in_scope_cost": 0.3,'
            ' "paid": {"基本医保": 0.1, "大病保险": 0.2}}')
    big = ('{"claim_id": "big", "person_id": "q", "date": "2023-03-01", "identities": ["特困人员"],'
           ' "scheme": "居民医保", "visit": "住院", "total_cost": 10000.3, "in_scope_cost": 10000.3,'
           ' "paid": {"基本医保": 0.1, "大病保险": 0.2}}')
    small, large = evaluate_claims(benxi_engine, [tiny, big])
    assert small.payout("基本救助") == Decimal("0.00")
    assert small.total_paid == Decimal("0.30") and small.personal_burden == Decimal("0.00")
    assert (large.payout("基本救助"), large.payout("倾斜救助")) == (
        Decimal("7000.00"), Decimal("3000.00"))
    assert large.total_paid == Decimal("10000.30") and large.personal_burden == Decimal("0.00")


def test_decoded_numbers_are_decimals_not_floats():
    data = decode_claim_line('{"a": 0.1, "b": 17000, "c": 1.10}')
    assert data == {"a": Decimal("0.1"), "b": Decimal("17000"), "c": Decimal("1.10")}
    assert all(type(value) is Decimal for value in data.values())


# ---- ids and codes: the printable fast path says what the full checks say ----------
def _text_rule(value) -> bool:
    """docs/claims.md's rule for ids and codes, spelled out: a string, not blank (Python's
    whitespace), at most MAX_TEXT characters, no control character."""
    return (isinstance(value, str) and bool(value.strip()) and len(value) <= MAX_TEXT
            and not any(c < "\x20" or c == "\x7f" for c in value))


@settings(max_examples=500, deadline=None)
@given(st.one_of(
    st.text(max_size=5),
    st.text(alphabet=st.sampled_from(" \t\u3000\u00a0\u2028\u0085a名\x7f\x1c"), max_size=4),
    st.text(min_size=199, max_size=201, alphabet="ab "),
))
def test_text_fields_are_accepted_exactly_by_the_rule(value):
    try:
        accepted = _text({"claim_id": value}, "claim_id", None) == value
    except ClaimError as error:
        assert error.code == "C302"
        accepted = False
    assert accepted == _text_rule(value)
