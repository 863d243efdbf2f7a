"""Snapshots of every Benxi example claim: the auditor's text and the JSON result with its trace.

The example file is settled as one batch (p-01's three claims share a year), the
way `yibao explain` and `yibao demo` settle it.  Each snapshot was read line by
line before it was accepted, every figure checked against the hand computation
below (policies/notices/benxi-2023.txt §(五), §(六), §(八); docs/specification.md).  B is the
in-scope burden after 基本医保 and 大病保险; R what 基本救助 leaves for 倾斜救助.

  bx-0001 低保边缘家庭成员 B 15,000: 基本 60%×13,000 = 7,800; 倾斜 R 7,200, 60%×4,200 = 2,520;
          paid 30,320, burden 9,680 ≥ 5,000: 因病返贫风险
  bx-0002 same person, B 10,000: 基本 C 25,000, 13,800 − 7,800 = 6,000; 倾斜 R 4,000, C 11,200,
          4,920 − 2,520 = 2,400; paid 24,400, burden 5,600; alert sticks
  bx-0003 same person, B 20,000: 基本 C 45,000, 12,000 capped to 20,000 − 13,800 = 6,200;
          倾斜 R 13,800, C 25,000, 13,200 − 4,920 = 8,280; paid 40,480, burden 11,520
  bx-0004 特困人员 B 10,000: 基本 70% = 7,000; 倾斜 100% × 3,000; paid 28,000, burden 2,000
  bx-0005 低保对象 门诊慢特病 B 6,000: 基本 4,200; 倾斜 R 1,800 < 3,000 → 0; burden 2,800
  bx-0006 因病致贫重病患者 B 20,000: 基本 50%×15,000 = 7,500; 倾斜 R 12,500, 50%×2,500 = 1,250;
          burden 16,250 < 2万 (因病致贫风险 group): no alert
  bx-0007 低保边缘家庭成员 + 因病致贫重病患者 B 12,000: 6,000 + 1,800 = 7,800 against
          3,500 + 0 (R 8,500 < 10,000): 低保边缘家庭成员; burden 7,200: 因病返贫风险
  bx-0008 返贫致贫人口 → 低保对象, B 7,000: 4,900; R 2,100 → 0; burden 4,100 < 5,000
  bx-0009 其他监测范围内人口 → 低保边缘家庭成员, B 7,000: 60%×5,000 = 3,000; R 4,000 → 600;
          burden 4,400 < 5,000
  bx-0010 孤儿 普通门诊: no assistance (§(四)); burden 450, not counted by the alerts
  bx-0011 no identity, 职工医保: no assistance; burden 52,000 ≥ 5万: 因病致贫风险
  bx-0012 脱贫人口: no assistance (§(六)); burden 10,000 ≥ 5,000: 因病返贫风险
  bx-0013 no paid.基本医保: C307
"""

from __future__ import annotations

import json

import pytest
from syrupy.extensions.json import JSONSnapshotExtension
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from helpers import EXAMPLES, POLICIES
from yibao.api import load_engine, read_claims_file
from yibao.runtime.claims import ClaimError
from yibao.runtime.results import outcome_to_json
from yibao.explain.text import render_text

CLAIMS_FILE = EXAMPLES / "benxi-2023.jsonl"
CLAIM_IDS = [f"bx-{n:04d}" for n in range(1, 14)]
SETTLED = CLAIM_IDS[:-1]


class TextSnapshot(SingleFileSnapshotExtension):
    """One readable UTF-8 .txt file per claim."""

    _write_mode = WriteMode.TEXT
    file_extension = "txt"


class ExchangeJSON(JSONSnapshotExtension):
    """The result exactly as `yibao eval` writes it: keys in the engine's order (lines in
    settlement order), not sorted."""

    def serialize(self, data, **_options) -> str:
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@pytest.fixture(scope="module")
def settled_examples():
    engine = load_engine(POLICIES / "benxi-2023.policy")
    lines = read_claims_file(CLAIMS_FILE)
    outcomes = engine.evaluate_records(list(enumerate(lines, 1)), trace=True)
    return engine, {outcome.claim_id: outcome for outcome in outcomes}


def test_every_example_claim_is_snapshotted(settled_examples):
    _, outcomes = settled_examples
    assert list(outcomes) == CLAIM_IDS
    assert [cid for cid, o in outcomes.items() if isinstance(o, ClaimError)] == ["bx-0013"]


@pytest.mark.parametrize("claim_id", SETTLED)
def test_explain_text(settled_examples, snapshot, claim_id):
    engine, outcomes = settled_examples
    claim = engine.claims_by_id[claim_id]
    text = render_text(outcomes[claim_id], claim, engine.version_for(claim.date))
    assert text == snapshot(extension_class=TextSnapshot)


@pytest.mark.parametrize("claim_id", CLAIM_IDS)
def test_json_result_with_trace(settled_examples, snapshot, claim_id):
    _, outcomes = settled_examples
    assert outcome_to_json(outcomes[claim_id]) == snapshot(extension_class=ExchangeJSON)
