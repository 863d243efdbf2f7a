"""Syntax errors (dsl/syntax_errors.py): the slips drafters make, each with a stable P1xx code.

Each test gives a broken policy, and asserts the code, the message, the hint and
where it points (line and column count from 1; columns in characters).  The
rendered diagnostic must put its caret under the spot by display width: a
Chinese character takes two terminal cells (core/diagnostics.render_full).
"""

from __future__ import annotations

import pytest

from yibao.core.diagnostics import Diagnostic, PolicyError, render_full
from yibao.dsl.parser import parse_policy

HEADER = "policy t-2023 {\n    effective 2023-01-01\n}\n"


def syntax_error(source: str) -> Diagnostic:
    with pytest.raises(PolicyError) as raised:
        parse_policy(source, "broken.policy")
    [diagnostic] = raised.value.diagnostics
    return diagnostic


def where(diagnostic: Diagnostic) -> tuple[str, int, int]:
    return diagnostic.span.file, diagnostic.span.line, diagnostic.span.column


def test_p100_misspelt_keyword_suggests_the_keyword():
    source = HEADER + (
        "line 基本救助 {\n"
        "    covers 住院 §(四)\n"
        "    deductable 2000 §(五)\n"
        "}\n")
    error = syntax_error(source)
    assert error.code == "P100"
    assert where(error) == ("broken.policy", 6, 5)
    assert error.message.startswith("unexpected 'deductable': expected ")
    assert "'deductible'" in error.message and "'rate'" in error.message
    assert error.hint == "did you mean 'deductible'?"
    assert render_full(error, source).splitlines() == [
        "error[P100]: " + error.message,
        "  --> broken.policy:6:5",
        "  |",
        "6 |     deductable 2000 §(五)",
        "  |     ^^^^^^^^^^",
        "  = hint: did you mean 'deductible'?",
    ]


def test_p100_misspelt_item_keyword():
    error = syntax_error(HEADER + "idenity 低保对象 §(一)\n")
    assert (error.code, where(error)) == ("P100", ("broken.policy", 4, 1))
    assert error.hint == "did you mean 'identity'?"


def test_p100_citation_without_section_sign():
    # "identity 低保对象 " is 14 characters: the '(' is at column 15.
    error = syntax_error(HEADER + "identity 低保对象 (一)\n")
    assert (error.code, where(error)) == ("P100", ("broken.policy", 4, 15))
    assert error.message.startswith("unexpected '(': expected ")
    assert "a citation such as §(五)" in error.message
    assert error.hint == "citations start with §, e.g. §(五)"


def test_p101_unexpected_character():
    error = syntax_error(HEADER + "identity 低保对象 §(一) @\n")
    assert (error.code, where(error)) == ("P101", ("broken.policy", 4, 20))
    assert error.message.startswith("unexpected character '@'")


def test_p102_full_width_colon_caret_under_chinese_text():
    source = HEADER + (
        "line 基本救助 {\n"
        "    covers 住院 §(四)\n"
        "    rate §(五) {\n"
        "        低保对象： 70%\n"
        "    }\n"
        "}\n")
    error = syntax_error(source)
    assert (error.code, where(error)) == ("P102", ("broken.policy", 7, 13))
    assert error.message == "full-width '：' where the language uses ':'"
    assert error.hint == "replace '：' with the half-width ':'"
    # 8 spaces + 低保对象 (4 characters, 8 cells) = 16 cells before the caret; '：' is 2 wide.
    assert render_full(error, source).splitlines() == [
        "error[P102]: full-width '：' where the language uses ':'",
        "  --> broken.policy:7:13",
        "  |",
        "7 |         低保对象： 70%",
        "  |                 ^^",
        "  = hint: replace '：' with the half-width ':'",
    ]


@pytest.mark.parametrize("line, column, char, meant", [
    ("identity 低保对象， 特困人员 §(一)", 14, "，", ","),
    ("line 基本救助 {\n    covers 住院 §(四)\n    rate 70％ §(五)\n}", 12, "％", "%"),
])
def test_p102_other_full_width_punctuation(line, column, char, meant):
    error = syntax_error(HEADER + line + "\n")
    assert error.code == "P102"
    assert error.span.column == column
    assert error.message == f"full-width '{char}' where the language uses '{meant}'"


def test_p104_unterminated_string():
    # 'clause §(五) ' is 12 characters: the quote is at column 13.
    error = syntax_error(HEADER + 'clause §(五) "合理确定医疗救助待遇水平\n')
    assert (error.code, where(error)) == ("P104", ("broken.policy", 4, 13))
    assert error.message == "a quoted text is not closed on its line"
    assert error.hint == 'close the quote with " before the end of the line'


def test_p105_file_ends_early():
    """The header's '{' is never closed; the error points at the last thing written."""
    error = syntax_error("policy t-2023 {\n    effective 2023-01-01\n")
    assert error.code == "P105"
    assert where(error) == ("broken.policy", 2, 15)
    assert error.message.startswith("the file ends too early: expected ")
    assert "'}'" in error.message
    assert error.hint == "a '{' may be missing its closing '}'"


def test_p106_impossible_date():
    error = syntax_error("policy t-2023 {\n    effective 2023-02-30\n}\n")
    assert (error.code, where(error)) == ("P106", ("broken.policy", 2, 15))
    assert error.span.end_column == 25
    assert error.message == "'2023-02-30' is not a calendar date"
    assert error.hint == "write the date as YYYY-MM-DD, e.g. 2023-01-01"


# ---- P109: a missing comma (issue 21 item 14) --------------------------------------------


def test_p109_two_covered_visits_without_a_comma():
    """Before: P100 listing 35 tokens, with the hint "citations start with §"."""
    source = HEADER + "line 基本救助 {\n    covers 住院 门诊慢特病 §(四)\n}\n"
    error = syntax_error(source)
    assert error.code == "P109"
    assert error.message == "the names 住院 and 门诊慢特病 have no comma between them"
    assert error.hint == "separate the names of a list with commas: 住院, 门诊慢特病"
    # "    covers 住院 " is 14 characters: 门诊慢特病 starts at column 15.
    assert (where(error), error.span.end_column) == (("broken.policy", 5, 15), 20)


def test_p109_in_a_list_of_identities_and_a_table_entry():
    error = syntax_error(HEADER + "line 基本救助 {\n    identities 低保对象, 特困人员 孤儿 §(一)\n}\n")
    assert (error.code, error.hint) == ("P109", "separate the names of a list with commas: 特困人员, 孤儿")
    error = syntax_error(HEADER + "param 比例 §(三) {\n    低保对象 特困人员: 75%\n}\n")
    assert (error.code, where(error)) == ("P109", ("broken.policy", 5, 10))


def test_a_misspelt_keyword_after_a_list_is_still_p100_did_you_mean():
    source = HEADER + "line 基本救助 {\n    covers 住院\n    deductable 2000 §(五)\n}\n"
    error = syntax_error(source)
    assert (error.code, error.hint) == ("P100", "did you mean 'deductible'?")


def test_a_claims_file_given_as_the_policy_says_the_arguments_are_swapped():
    source = '{"claim_id": "c-1", "person_id": "p-1", "total_cost": "100.00"}\n'
    error = syntax_error_at(source, "claims.jsonl")
    assert error.hint == ("this looks like a claims file, not a policy: the policy comes first, "
                          "as in yibao eval POLICY CLAIMS (yibao check takes the policy alone)")
    csv = "claim_id,person_id,date,total_cost\nc-1,p-1,2023-01-01,100.00\n"
    assert syntax_error_at(csv, "claims.txt").hint == error.hint


def syntax_error_at(source: str, path: str) -> Diagnostic:
    with pytest.raises(PolicyError) as raised:
        parse_policy(source, path)
    [diagnostic] = raised.value.diagnostics
    return diagnostic
