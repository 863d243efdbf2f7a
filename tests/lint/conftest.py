"""Lint a policy written in a test: ``lint(text)`` → findings, default settings."""

from __future__ import annotations

import textwrap

import pytest

from yibao.lint.config import LintConfig
from yibao.lint.runner import lint_file

# A small valid policy that lint finds nothing in; tests change one thing.
GOOD = """\
policy t-2023 {
    effective 2023-01-01
}
clause §(一) "救助对象"
clause §(五) "待遇水平"
identity 低保对象 §(一)
identity 低保边缘家庭成员 §(一)
take highest §(一)
line 基本医保 upstream §(五)
line 基本救助 {
    covers 住院 §(五)
    base remaining §(五)
    deductible §(五) {
        低保对象: 0
        低保边缘家庭成员: 2000
    }
    rate §(五) {
        低保对象: 70%
        低保边缘家庭成员: 60%
    }
    cap 2万 §(五)
}
"""
#  1 policy t-2023 {                 12     base remaining §(五)
#  2     effective 2023-01-01        13     deductible §(五) {
#  3 }                               14         低保对象: 0
#  4 clause §(一) "救助对象"          15         低保边缘家庭成员: 2000
#  5 clause §(五) "待遇水平"          16     }
#  6 identity 低保对象 §(一)          17     rate §(五) {
#  7 identity 低保边缘家庭成员 §(一)  18         低保对象: 70%
#  8 take highest §(一)              19         低保边缘家庭成员: 60%
#  9 line 基本医保 upstream §(五)    20     }
# 10 line 基本救助 {                 21     cap 2万 §(五)
# 11     covers 住院 §(五)           22 }


@pytest.fixture
def lint(tmp_path):
    """lint(text, config=None, name="t.policy", **others): findings of ``text``;
    ``others`` are more files beside it (e.g. the version it extends)."""

    def run(text: str, config: LintConfig | None = None, name: str = "t.policy", **others):
        for other, other_text in others.items():
            (tmp_path / other).write_text(textwrap.dedent(other_text), encoding="utf-8")
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return lint_file(path, config or LintConfig()).findings

    return run


@pytest.fixture
def good() -> str:
    return GOOD


@pytest.fixture
def at():
    """at(findings, code): where the findings of ``code`` point, as (line, column) pairs."""
    return lambda findings, code: [(f.span.line, f.span.column) for f in findings
                                   if f.code == code]
