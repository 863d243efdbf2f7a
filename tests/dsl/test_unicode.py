"""Issue 21 items 4 and 5: digits and names a reader would misread.

Digits: a policy writes numbers with 0–9 only.  Before, ``cap ৪000`` (Bengali
four, which looks like 8) compiled to a cap of 4000.00 and ``rate ৪0%`` to
40%, ``2०००`` (Devanagari zeros) to 2000, ``𝟐万`` and ``２万`` to 20000, while a
claim refuses such digits (C303).  Now each is P107 at its line and column,
with the ASCII spelling as the hint.

Names: a name must be unchanged by NFKC (P108), and two declared names with
equal UTS #39 skeletons are S231 (both spans).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from yibao.runtime.claims import ClaimError, parse_money
from yibao.core.diagnostics import Diagnostic, PolicyError
from yibao.dsl import ast
from yibao.dsl.checker import check_policy
from yibao.dsl.parser import parse_policy

HEAD = ('policy t-2023 {\n    effective 2023-01-01\n}\n'
        'clause §(一) "对因病致贫重病患者给予救助"\n'
        "identity 因病致贫重病患者 §(一)\n")


def line_with(rule: str) -> str:
    return HEAD + "line 救助 {\n    covers 住院 §(一)\n" + rule + "}\n"


def refused(source: str) -> Diagnostic:
    with pytest.raises(PolicyError) as raised:
        parse_policy(source, "t.policy")
    [error] = raised.value.diagnostics
    return error


@pytest.mark.parametrize("rule, column, width, message, hint", [
    ("    rate 70% §(一)\n    cap ৪000 §(一)\n", 9, 4,
     "'৪' (bengali digit four)", "write 4000 instead of ৪000"),
    ("    rate ৪0% §(一)\n", 10, 2, "'৪' (bengali digit four)", "write 40% instead of ৪0%"),
    ("    rate 70% §(一)\n    cap 2०००元 §(一)\n", 9, 4,
     "'०' (devanagari digit zero)", "write 2000元 instead of 2०००元"),
    ("    rate 70% §(一)\n    cap 𝟐万 §(一)\n", 9, 1,
     "'𝟐' (mathematical bold digit two)", "write 2万 instead of 𝟐万"),
    ("    rate 70% §(一)\n    cap ２万 §(一)\n", 9, 1,
     "'２' (fullwidth digit two)", "write 2万 instead of ２万"),
])
def test_a_digit_outside_0_to_9_is_p107_with_the_ascii_spelling(rule, column, width, message, hint):
    source = line_with(rule)
    error = refused(source)
    line = source[:source.index(hint.split()[-1])].count("\n") + 1
    assert error.code == "P107"
    assert error.message == f"{message} is not one of the digits 0–9 a policy is written with"
    assert (error.span.file, error.span.line, error.span.column) == ("t.policy", line, column)
    assert error.span.end_column - error.span.column == width
    assert error.hint == hint


def test_the_same_digits_in_ascii_compile_to_the_values_the_hint_names():
    source = line_with("    rate 40% §(一)\n    cap 4000 §(一)\n")
    tree = parse_policy(source, "t.policy")
    [line] = tree.of_type(ast.ComputedLine)
    values = {type(rule).__name__: rule.spec.value.value for rule in line.rules
              if isinstance(rule, (ast.Rate, ast.Cap))}
    assert values == {"Rate": Decimal("0.4"), "Cap": Decimal("4000")}
    assert check_policy(tree).ok


def test_a_date_with_a_foreign_digit_is_p107():
    error = refused("policy t-2023 {\n    effective ২023-01-01\n}\n")
    assert (error.code, error.span.line, error.span.column) == ("P107", 2, 15)
    assert error.hint == "write 2023 instead of ২023"


def test_digits_in_quoted_text_and_comments_are_the_notice_s_words_and_allowed():
    source = HEAD.replace('"对因病', '"２万对因病') + "# 上限２万元\n"
    parse_policy(source, "t.policy")


def test_claims_refuse_the_same_digits():
    """The other side of the rule: a claim's amount in Bengali digits is C303."""
    with pytest.raises(ClaimError) as raised:
        parse_money("৪000", "c-1", "total_cost")
    assert raised.value.code == "C303"


def test_a_compatibility_ideograph_in_a_name_is_p108_naming_the_unified_character():
    source = HEAD + "identity 因病致贫重病患\ufa5b §(一)\n"
    error = refused(source)
    assert error.code == "P108"
    assert (error.span.line, error.span.column, error.span.end_column) == (6, 10, 18)
    assert error.hint == "replace U+FA5B \ufa5b with U+8005 者"


def test_full_width_letters_in_a_name_are_p108():
    error = refused(HEAD + "field ｉｎ_province: bool §(一)\n")
    assert error.code == "P108"
    assert error.hint == "replace U+FF49 ｉ with U+0069 i; U+FF4E ｎ with U+006E n"


def test_the_issue_s_two_identities_no_longer_pass(tmp_path):
    """The reported file: 因病致贫重病患者 twice, once with U+FA5B, paid 10% and 90%."""
    source = (HEAD + "identity 因病致贫重病患\ufa5b §(一)\n"
              "line 救助 {\n    covers 住院 §(一)\n    rate §(一) {\n"
              "        因病致贫重病患者: 10%\n        因病致贫重病患\ufa5b: 90%\n    }\n}\n")
    assert refused(source).code == "P108"


def checked(source: str) -> list[Diagnostic]:
    return list(check_policy(parse_policy(source, "t.policy")).diagnostics)


def test_two_names_with_equal_confusable_skeletons_are_s231_with_both_spans():
    # 值 U+503C and 値 U+5024 are distinct, NFKC-stable, and confusable (UTS #39).
    source = HEAD + "identity 值班人员 §(一)\nidentity 値班人员 §(一)\n"
    [error] = checked(source)
    assert error.code == "S231"
    assert (error.span.line, error.span.column) == (7, 10)
    [(note, first)] = error.related
    assert (first.line, first.column) == (6, 10)
    assert "U+503C" in error.hint and "U+5024" in error.hint


def test_look_alikes_across_kinds_latin_and_cyrillic():
    # A field in Latin letters and a param with a Cyrillic а (U+0430).
    source = HEAD + "field disabled: bool §(一)\nparam disаbled 10% §(一)\n"
    [error] = checked(source)
    assert error.code == "S231"
    assert error.related[0][1].line == 6
    assert "a U+0061 / а U+0430" in error.hint


def test_names_that_differ_visibly_are_not_look_alikes():
    source = HEAD + "identity 低保对象 §(一)\nidentity 特困人员 §(一)\n"
    assert checked(source) == []


# ---- a field's display name is read as a name is (issue 24 item 7) ---------------------

FIELDS = 'policy t-2023 {\n    effective 2023-01-01\n}\n'


def test_a_display_name_not_in_nfkc_is_p108_at_the_quoted_words():
    error = refused(FIELDS + 'field patient "重病患\ufa5b": bool §(一)\n')
    assert error.code == "P108"
    assert (error.span.line, error.span.column) == (4, 15)
    assert error.hint == "replace U+FA5B \ufa5b with U+8005 者"


def test_two_display_names_a_reader_cannot_tell_apart_are_s231():
    # Latin A and Cyrillic А: the views would show two fields under one name.
    source = FIELDS + ('field grade_a "A类人员": bool §(一)\n'
                       'field grade_b "\u0410类人员": bool §(一)\n')
    [error] = [d for d in check_policy(parse_policy(source, "t.policy")).diagnostics
               if d.code == "S231"]
    assert (error.span.line, error.span.column) == (5, 15)
    assert error.related[0][1].line == 4
    assert "A U+0041 / \u0410 U+0410" in error.hint
