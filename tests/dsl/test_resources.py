"""Issue 21 item 7: a policy full of mistakes, or very long, is checked in linear time
and reported in bounded space.

A file repeating one mistake 1,000 times is reported by its first 200
diagnostics and one S299 note counting the rest; a long line is quoted once,
not once per diagnostic on it.  Checking 4 times as many parameters takes about
4 times as long (the checker rebuilt the set of known names per parameter).
"""

from __future__ import annotations

import time

from yibao.core.diagnostics import MAX_DIAGNOSTICS_PER_FILE, PolicyError, render_all
from yibao.core.span import display_width
from yibao.dsl.checker import check_policy
from yibao.dsl.parser import parse_policy
from yibao.lint.config import LintConfig
from yibao.lint.runner import lint_source

HEAD = (
    "policy big-2023 {\n    effective 2023-01-01\n}\n"
    'clause §(一) "对特困人员给予救助"\n'
    "identity 特困人员 §(一)\n"
    "line 救助 {\n    covers 住院 §(一)\n    rate 70% §(一)\n"
)


def unknown_names(count: int) -> str:
    names = ", ".join(f"未知人员{i}" for i in range(count))
    return HEAD + f"    identities {names} §(一)\n}}\n"


def params(count: int) -> str:
    return HEAD + "}\n" + "".join(f"param 参数{i} 100 §(一)\n" for i in range(count))


def test_a_thousand_unknown_names_give_200_diagnostics_and_one_note_counting_the_rest():
    result = check_policy(parse_policy(unknown_names(1000), "big.policy"))
    *listed, note = result.diagnostics
    assert len(listed) == MAX_DIAGNOSTICS_PER_FILE == 200
    assert {d.code for d in listed} == {"S203"}
    assert [d.message for d in listed[:2]] == ["unknown identity 未知人员0", "unknown identity 未知人员1"]
    assert note.code == "S299"
    assert note.message == "and 800 more diagnostics in this file, not listed"
    assert note.span.file == "big.policy"


def test_lint_caps_its_findings_the_same_way():
    findings = lint_source(unknown_names(1000), "big.policy", LintConfig())
    assert len(findings) == 201
    assert findings[-1].code == "S299"
    assert findings[-1].message == "and 800 more diagnostics in this file, not listed"


def test_a_long_line_is_quoted_once_not_once_per_diagnostic():
    source = unknown_names(300)
    long_line = source.splitlines()[8]
    assert len(long_line) > 2000
    result = check_policy(parse_policy(source, "big.policy"))
    text = render_all(result.diagnostics, {"big.policy": source})
    assert text.count("9 | ") == 1              # the line is shown once ...
    assert text.count("(line 9 is quoted above)") == 199
    assert len(text) < 60_000                   # ... and cut around the first spot:
    first = text.split("\n\n")[0].splitlines()
    assert first[3].startswith("9 |     identities 未知人员0, 未知人员1")
    assert first[3].endswith("…")
    assert first[4] == "  |" + " " * 16 + "^" * 9   # 未知人员0 under its 9 cells


def test_a_caret_far_into_a_long_line_is_under_its_name():
    source = HEAD + "    identities " + "特困人员, " * 400 + "未知 §(一)\n}\n"
    [error] = check_policy(parse_policy(source, "big.policy")).diagnostics
    lines = render_all([error], {"big.policy": source}).splitlines()
    quoted = lines[3].removeprefix("9 | ")
    underline = lines[4].removeprefix("  | ")
    assert quoted.startswith("…") and len(quoted) <= 162
    assert underline.strip() == "^^^^"          # 未知: two characters, four cells
    cells = len(underline) - len(underline.lstrip(" "))
    prefix = 0
    while display_width(quoted[:prefix]) < cells:
        prefix += 1
    assert display_width(quoted[:prefix]) == cells
    assert quoted[prefix:prefix + 2] == "未知"


def _check_seconds(source: str) -> float:
    tree = parse_policy(source, "big.policy")
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        check_policy(tree)
        best = min(best, time.process_time() - start)
    return best


def test_checking_grows_linearly_with_the_number_of_params():
    # Linear: 4x the params, ~4x the time; the quadratic checker took ~16x.
    # The bound is generous (8x) so a busy machine does not fail it.
    small, large = _check_seconds(params(2000)), _check_seconds(params(8000))
    assert large < 8 * small + 0.05


def test_a_policy_error_of_the_loader_carries_the_capped_list(tmp_path):
    from yibao.dsl.loader import load_policy

    path = tmp_path / "big-2023.policy"
    path.write_text(unknown_names(250), encoding="utf-8")
    try:
        load_policy(path)
    except PolicyError as error:
        assert len(error.diagnostics) == 201
        assert error.diagnostics[-1].message == "and 50 more diagnostics in this file, not listed"
    else:
        raise AssertionError("the policy was accepted")
