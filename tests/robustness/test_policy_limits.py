"""The bounds of dsl/limits.py and the loader, at and just past each limit.

A policy file is data written by hand; the bounds keep parsing, checking and
compiling shallow and finite whatever a file holds: its size in bytes (P110),
parentheses in conditions (P111), readable UTF-8 (P112, P113), identities and
lines of defence (P114), and versions extending each other (S225).
"""

from __future__ import annotations

import pytest

from robustness.policy_text import assert_clean, compile_text
from yibao.core.diagnostics import PolicyError
from yibao.dsl.limits import MAX_IDENTITIES, MAX_LINES_OF_DEFENCE, MAX_NESTING, MAX_SOURCE_BYTES
from yibao.dsl.loader import MAX_CHAIN, load_policy

HEAD = 'policy bound-2024 { effective 2024-01-01 }\nclause §1 "条款"\n'


def rejected(text: str, code: str, path: str = "fuzz.policy"):
    with pytest.raises(PolicyError) as raised:
        compile_text(text, path)
    assert_clean(raised.value, path)
    first = raised.value.diagnostics[0]
    assert first.code == code, first
    return first


def padded(size: int) -> str:
    """The header and a comment, ``size`` bytes in all."""
    return HEAD + "#" + "x" * (size - len(HEAD.encode()) - len("#\n")) + "\n"


def test_a_file_of_exactly_the_size_limit_is_read_one_byte_more_is_p110(tmp_path):
    at_limit = padded(MAX_SOURCE_BYTES)
    assert len(at_limit.encode()) == MAX_SOURCE_BYTES
    compile_text(at_limit)
    over = at_limit + "\n"
    rejected(over, "P110")
    path = tmp_path / "big.policy"
    path.write_text(over, encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert raised.value.diagnostics[0].code == "P110"


def test_the_size_limit_counts_bytes_not_characters():
    """A CJK character is 3 bytes in UTF-8: fewer characters than the limit still exceed it."""
    count = (MAX_SOURCE_BYTES - len(HEAD.encode()) - len("#\n")) // 3 + 1
    text = HEAD + "#" + "条" * count + "\n"
    assert len(text) < MAX_SOURCE_BYTES < len(text.encode())
    rejected(text, "P110")


def _nested_condition(depth: int) -> str:
    condition = "(" * depth + "in_province" + ")" * depth
    return (HEAD + "identity 低保对象 §1\nfield in_province: bool default true §1\n"
            "line 救助 {\n    covers 住院 §1\n    when " + condition + " §1\n"
            "    rate 70% §1\n}\n")


def test_conditions_nest_up_to_the_limit_and_p111_names_the_first_paren_too_many():
    compile_text(_nested_condition(MAX_NESTING))
    text = _nested_condition(MAX_NESTING + 1)
    first = rejected(text, "P111")
    line_start = text.rfind("\n", 0, text.index("(")) + 1
    assert (first.span.line, first.span.column) == (
        text.count("\n", 0, text.index("(")) + 1, text.index("(") - line_start + MAX_NESTING + 1)


def test_not_undoes_not_up_to_the_nesting_limit():
    """``not not in_province`` is in_province: an even run of `not` compiles to the same line."""
    text = _nested_condition(1).replace("when (in_province)", "when " + "not " * MAX_NESTING
                                        + "in_province")
    graph = compile_text(text)
    assert graph.policy.line("救助").condition is not None


def test_not_utf8_is_p113_at_the_line_and_column_of_the_bad_byte(tmp_path):
    path = tmp_path / "gbk.policy"
    # 保 in GBK is B1 A3: B1 cannot start a UTF-8 sequence.  Columns count characters.
    path.write_bytes(HEAD.encode() + "# 条款".encode() + "保".encode("gbk") + b"\n")
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    first = raised.value.diagnostics[0]
    assert (first.code, first.span.line, first.span.column) == ("P113", 3, 5)
    assert_clean(raised.value, str(path))


def test_a_missing_file_is_p112(tmp_path):
    with pytest.raises(PolicyError) as raised:
        load_policy(tmp_path / "absent.policy")
    assert raised.value.diagnostics[0].code == "P112"


def _identities(count: int) -> str:
    return HEAD + "".join(f"identity 身份{index} §1\n" for index in range(count))


def test_identities_up_to_the_limit_then_p114():
    assert len(compile_text(_identities(MAX_IDENTITIES)).policy.identities) == MAX_IDENTITIES
    rejected(_identities(MAX_IDENTITIES + 1), "P114")


def _lines(count: int) -> str:
    return HEAD + "".join(f"line 防线{index} upstream §1\n" for index in range(count))


def test_lines_of_defence_up_to_the_limit_then_p114():
    assert len(compile_text(_lines(MAX_LINES_OF_DEFENCE)).policy.lines) == MAX_LINES_OF_DEFENCE
    rejected(_lines(MAX_LINES_OF_DEFENCE + 1), "P114")


def _chain(folder, count: int):
    """``count`` versions, each extending the one before, a year apart."""
    for index in range(count):
        extends = f" extends chain-{index - 1}" if index else ""
        (folder / f"chain-{index}.policy").write_text(
            f"policy chain-{index}{extends} {{ effective {2000 + index}-01-01 }}\n",
            encoding="utf-8")
    return folder / f"chain-{count - 1}.policy"


def test_versions_chain_up_to_the_limit_then_s225(tmp_path):
    (tmp_path / "ok").mkdir()
    assert len(load_policy(_chain(tmp_path / "ok", MAX_CHAIN)).versions) == MAX_CHAIN
    (tmp_path / "long").mkdir()
    with pytest.raises(PolicyError) as raised:
        load_policy(_chain(tmp_path / "long", MAX_CHAIN + 1))
    assert raised.value.diagnostics[0].code == "S225"


def test_versions_that_extend_each_other_in_a_cycle_are_s225(tmp_path):
    (tmp_path / "ring-a.policy").write_text(
        "policy ring-a extends ring-b { effective 2021-01-01 }\n", encoding="utf-8")
    (tmp_path / "ring-b.policy").write_text(
        "policy ring-b extends ring-a { effective 2020-01-01 }\n", encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        load_policy(tmp_path / "ring-a.policy")
    assert raised.value.diagnostics[0].code == "S225"
