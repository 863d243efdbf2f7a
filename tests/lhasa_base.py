"""A made-up Tibet-wide base for Lhasa 2020 (policies/notices/lhasa-2020.txt amends 《西藏自治区医疗保障
扶贫工作实施方案（2019-2020年）》, which the seeds do not contain), for tests only: its
figures are not any real notice's.

基本医保 covers 普通门诊 as well as 住院 and 门诊慢特病, 70% above 0 with a 2万 cap, so
that §四(四)一's +5 points (住院、门诊特殊病 only) can be told from the base's rate and
a year of mixed visits crosses the cap.  ``tibet_base`` writes the same base with
another 基本医保 (tests/policies/test_lhasa.py has its own).
"""

from __future__ import annotations

import pathlib
import shutil

from helpers import POLICIES

HEAD = """
policy xizang-2019 {
    title "测试用西藏基础政策（虚构）"
    effective 2019-01-01
}
identity 建档立卡贫困人口 §一 "测试"
"""
# The lines above 基本医保, alike in every made-up base: 大病保险 60% above 1万 (cap
# 30万); 医疗救助 70% (cap 6万); 重特大医疗救助 50% (cap 15万).
UPPER_LINES = """line 大病保险 {
    covers 住院, 门诊慢特病 §二
    base remaining §二
    deductible 1万 §二
    rate 60% §二
    cap 30万 §二
}
line 医疗救助 {
    covers 住院, 门诊慢特病 §三
    base remaining §三
    deductible 0 §三
    rate 70% §三
    cap 6万 §三
}
line 重特大医疗救助 {
    covers 住院, 门诊慢特病 §三
    base remaining §三
    deductible 0 §三
    rate 50% §三
    cap 15万 §三
}
"""


def tibet_base(basic_line: str) -> str:
    """A made-up xizang-2019 whose 基本医保 is ``basic_line`` (its whole ``line`` block)."""
    return HEAD + basic_line + UPPER_LINES


BASE = tibet_base("""line 基本医保 {
    covers 住院, 门诊慢特病, 普通门诊 §一
    base in_scope_cost §一
    deductible 0 §一
    rate 70% §一
    cap 2万 §一
}
""")


def lhasa_folder(folder: pathlib.Path, base: str = BASE) -> pathlib.Path:
    """``folder`` holding the shipped lhasa-2020.policy and ``base`` as xizang-2019.policy;
    returns the Lhasa file."""
    (folder / "xizang-2019.policy").write_text(base, encoding="utf-8")
    shutil.copy(POLICIES / "lhasa-2020.policy", folder / "lhasa-2020.policy")
    return folder / "lhasa-2020.policy"
