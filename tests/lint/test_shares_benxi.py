"""Over-protection of benxi-2023, each identity's largest share worked by hand (§(五)).

One claim in a fresh year; B is the in-scope burden 基本医保 and 大病保险 (settled
upstream) leave.  基本救助 and 倾斜救助 cover 住院 and 门诊慢特病; 倾斜救助 works on
what 基本救助 leaves.  (精神障碍床日定额救助's amount is unspecified: not analysed.)

* 特困人员, 孤儿 — 基本救助 70% from 0 (cap 2万), 倾斜救助 100% from 0 (no cap):
  倾斜救助 pays all 基本救助 leaves, A(B) = B: 100% from the first yuan.
* 低保对象 — 基本救助 70% from 0 (cap 2万), 倾斜救助 70% above 3,000 (no cap).
  For 10,000 ≤ B ≤ 200,000/7: A = 0.7B + 0.7(0.3B − 3,000) = 0.91B − 2,100, a share
  0.91 − 2,100/B that rises; beyond, 基本救助 is at its cap and A = 20,000 +
  0.7(B − 23,000) = 0.7B + 3,900, a share that falls.  Largest at B = 200,000/7 =
  28,571.43: A = 23,900 (20,000 + 3,900), 23,900·7/200,000 = 83.65%.
* 低保边缘家庭成员 — 基本救助 60% above 2,000 (cap 2万, reached at B = 2,000 +
  20,000/60% = 106,000/3), 倾斜救助 60% above 3,000 (no cap).  Below the cap
  A = 0.6(B − 2,000) + 0.6(0.4B + 1,200 − 3,000) = 0.84B − 2,280 (rising share);
  above, A = 0.6B + 6,200 (falling).  Largest at B = 35,333.33: A = 27,400 (20,000 +
  7,400), 27,400·3/106,000 = 411/530 = 77.55%.  (60% + 60% × 40% = 84% is the
  marginal rate; the deductibles and the cap keep the share below it.)
* 因病致贫重病患者 — 基本救助 50% above 5,000 (cap 2万, reached at 45,000),
  倾斜救助 50% above 10,000 (cap 2万).  For 15,000 ≤ B ≤ 45,000: A = 0.75B − 6,250
  (rising); then 0.5B + 5,000 (falling).  Largest at 45,000: A = 27,500 (20,000 +
  7,500), 11/18 = 61.11%.
* 脱贫人口 — no line pays (§(六)).

With the upstream lines paying a share s of the in-scope cost the combined share
is at most s + (1 − s)·α, so it passes 95% once s > (95% − α)/(1 − α): 低保对象
0.1135/0.1635 = 227/327 (69.42%), 低保边缘家庭成员 185/238 (77.73%), 因病致贫重病患者
61/70 (87.14%); 特困人员 and 孤儿 are at 100% whatever s.
"""

from __future__ import annotations

import re
from fractions import Fraction

import pytest

from helpers import POLICIES
from yibao.dsl.loader import load_policy
from yibao.lint.config import LintConfig
from yibao.lint.runner import lint_file
from yibao.lint.shares import ProtectionAnalysis, treated_as

CEILING = Fraction(95, 100)


@pytest.fixture(scope="module")
def benxi():
    policy = load_policy(POLICIES / "benxi-2023.policy").latest
    return policy, {share.identity: share for share in ProtectionAnalysis(policy).shares}


@pytest.mark.parametrize("identity, share, burden, tilted, passing", [
    ("低保对象", Fraction(1673, 2000), Fraction(200000, 7), Fraction(3900), Fraction(227, 327)),
    ("低保边缘家庭成员", Fraction(411, 530), Fraction(106000, 3), Fraction(7400),
     Fraction(185, 238)),
    ("因病致贫重病患者", Fraction(11, 18), Fraction(45000), Fraction(7500), Fraction(61, 70)),
])
def test_largest_share_where_the_basic_assistance_cap_is_reached(benxi, identity, share, burden,
                                                                  tilted, passing):
    _, shares = benxi
    found = shares[identity]
    assert found.assistance.share == share and found.assistance.reached
    settlement = found.assistance.settlement
    assert settlement.burden == burden
    assert settlement.payout("基本救助") == 20000 and settlement.payout("倾斜救助") == tilted
    assert found.assistance_scenario.visit == "住院"
    assert found.combined.share == share   # the default upstream share is 0%
    assert found.upstream_share_passing(CEILING) == passing


@pytest.mark.parametrize("identity", ["特困人员", "孤儿"])
def test_the_destitute_and_orphans_are_paid_everything_from_the_first_yuan(benxi, identity):
    _, shares = benxi
    found = shares[identity]
    assert found.assistance.share == 1
    assert found.assistance.reached and found.assistance.first_piece
    assert found.upstream_share_passing(CEILING) is None
    assert found.unknown == (("精神障碍床日定额救助", "定额标准"),)


def test_identities_without_assistance_and_those_treated_as_others(benxi):
    policy, shares = benxi
    assert shares["脱贫人口"].assistance is None and shares[None].assistance is None
    assert treated_as(policy, "低保对象") == ["返贫致贫人口", "监测帮扶对象"]
    assert treated_as(policy, "低保边缘家庭成员") == ["其他监测范围内人口"]


def test_lint_warns_of_full_cover_and_with_an_upstream_share_of_over_95_percent(tmp_path):
    """At an upstream share of 70% 低保对象 reaches 70% + 30% × 83.65% = 95.095%, above
    95%; 低保边缘家庭成员 70% + 30% × 77.55% = 93.26%, not.  (The shipped file
    suppresses L202 beside §(五); the copy linted here has no suppressions.)"""
    source = (POLICIES / "benxi-2023.policy").read_text(encoding="utf-8")
    path = tmp_path / "benxi-2023.policy"
    path.write_text(re.sub(r"  # yibao: disable=[^\n]*", "", source), encoding="utf-8")
    findings = lint_file(path, LintConfig()).findings
    assert "yibao: disable" in source
    full = [f.message.split(":")[0] for f in findings if f.code == "L202"]
    assert full == ["特困人员", "孤儿"]
    assert [f for f in findings if f.code == "L201"] == []
    upstream = lint_file(path, LintConfig(upstream_share=Fraction(70, 100))).findings
    above = [f.message for f in upstream if f.code == "L201"]
    assert len(above) == 1 and above[0].startswith("低保对象: the lines can pay 95.10%")
