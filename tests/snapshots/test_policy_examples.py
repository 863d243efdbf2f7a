"""Every shipped policy's example claims under syrupy snapshots, through ``yibao_case``.

The fixture is the one yibao ships for policy teams (yibao.testing.plugin): each
policy that has an example file policies/examples/<id>.jsonl is settled on it, and
every claim's result and explanation is kept in __snapshots__/test_policy_examples/.
A new example file needs its snapshot written (pytest --snapshot-update) and read.
Lhasa is not here: its base policy (xizang-2019) is not shipped, and it has no
example file; its cases run on a test base in tests/policies/test_lhasa.py.

Each snapshot was read against the hand figures of the notices, as worked out in
tests/compiler/test_benxi_settlement.py, tests/explain/test_benxi_snapshots.py and
tests/policies/ (e.g. bx-0003: 基本救助 capped at 20,000 − 13,800 = 6,200, 倾斜救助
8,280; jm-0011: 2022 bands on 1,200,000 = 887,500; xj-0006: 孤儿 as 特困人员, 医疗救助
cut to 95% × 8,000 − 6,000 = 1,600).  The refusals below are asserted here too.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from helpers import EXAMPLES, POLICIES
from yibao.runtime.claims import ClaimError

WITH_EXAMPLES = sorted(path.stem for path in EXAMPLES.glob("*.jsonl")
                       if (POLICIES / f"{path.stem}.policy").is_file())

# The example files' deliberate refusals (README: "Each includes deliberately failing claims").
REFUSED = {
    "benxi-2023": {"bx-0013": "C307"},                                    # no paid.基本医保
    "jiamusi-2022": {"jm-0007": "C311", "jm-0008": "C311", "jm-0009": "C314"},
    # out-of-province 兜底 beyond the catalogue; 兜底 for someone not poor; outside the
    # catalogue; before the notice
    "jilin-2020": {"jl-0002": "C308", "jl-0004": "C308", "jl-0005": "C308", "jl-0007": "C310"},
    "xinjiang-2023": {"xj-0008": "C308", "xj-0010": "C310"},   # 医疗救助 beyond the bill; early
}


def test_every_policy_with_an_example_file_is_snapshotted():
    assert WITH_EXAMPLES == sorted(REFUSED)


@pytest.mark.parametrize("policy", WITH_EXAMPLES)
def test_example_claims(yibao_case, policy):
    outcomes = yibao_case(POLICIES / f"{policy}.policy", EXAMPLES / f"{policy}.jsonl")
    refused = {o.claim_id: o.code for o in outcomes if isinstance(o, ClaimError)}
    assert refused == REFUSED[policy]


@pytest.mark.parametrize("date, policy_id, payout", [
    # jm-0011, in-scope 1,500,000 − 基本医保 300,000 = B 1,200,000 (policies/notices/jiamusi-2021.txt §二.1):
    # 2021 figures 60% × 1,188,000 = 712,800, capped at 50万; 2022 bands 887,500, no cap.
    ("2021-12-31", "jiamusi-2021", "500000.00"),
    ("2022-01-01", "jiamusi-2022", "887500.00"),
])
def test_jiamusi_examples_under_one_version(yibao_case, date, policy_id, payout):
    """``at=`` pins one version for every claim (as `yibao diff --at`), whatever its date."""
    outcomes = yibao_case(POLICIES / "jiamusi-2022.policy", EXAMPLES / "jiamusi-2022.jsonl",
                          at=date)
    by_id = {o.claim_id: o for o in outcomes}
    assert {o.policy for o in outcomes if not isinstance(o, ClaimError)} == {policy_id}
    assert by_id["jm-0011"].payout("大病保险") == Decimal(payout)
