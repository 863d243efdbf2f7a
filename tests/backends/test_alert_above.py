"""Alert thresholds, reached (预警标准为, 达到: ≥) or passed (超过, 高于: `threshold above`, >),
the same on the scalar path, DuckDB and Spark (issue 21 item 15).

A person's burden after 基本医保 is 2,000.00 on the first claim (total 3,000, 基本医保
paid 1,000): it reaches 2,000, so `达到` fires, but is not over it, so `超过` does
not.  A second claim adds 0.01 (2,000.01): now `超过` fires too.  A person of another
identity is in neither group."""

from __future__ import annotations

from decimal import Decimal

import pytest

from helpers import claim
from yibao.api import load_engine
from yibao.backends.run import settle_records
from yibao.runtime.results import outcome_to_json
from yibao.explain.trace_zh import words

POLICY = """
policy alerts-2023 { effective 2023-01-01 }
identity 低保边缘家庭成员 §三 "低保边缘对象"
identity 低保对象 §三 "低保对象"
line 基本医保 upstream §二 "基本医保"
alert 达到 {
    burden after 基本医保 §三 "经基本医保保障后"
    group 低保边缘家庭成员 §三 "低保边缘对象"
    threshold 2000 §三 "预警标准为2000元"
}
alert 超过 {
    burden after 基本医保 §三 "经基本医保保障后"
    group 低保边缘家庭成员 §三 "低保边缘对象"
    threshold above 2000 §三 "超过2000元的"
}
"""

CLAIMS = [
    claim("c1", "p", "2023-03-01", ["低保边缘家庭成员"], "3000.00", {"基本医保": "1000.00"}),
    claim("c2", "p", "2023-04-01", ["低保边缘家庭成员"], "0.01", {"基本医保": "0.00"},
          visit="普通门诊"),
    claim("c3", "q", "2023-04-01", ["低保对象"], "9000.00", {"基本医保": "0.00"}),
]
EXPECTED = {"c1": ["达到"], "c2": ["达到", "超过"], "c3": []}


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    path = tmp_path_factory.mktemp("alerts") / "alerts-2023.policy"
    path.write_text(POLICY, encoding="utf-8")
    return load_engine(path)


def _scalar(engine):
    return [outcome_to_json(o, trace=False)
            for o in engine.evaluate_records(enumerate(CLAIMS, start=1))]


def test_the_policy_says_which_threshold_is_strict(engine):
    alerts = {alert.name: alert.above for alert in engine.policy.alerts}
    assert alerts == {"达到": False, "超过": True}


def test_scalar_reaches_and_passes(engine):
    assert {o["claim_id"]: o["alerts"] for o in _scalar(engine)} == EXPECTED


def test_the_trace_says_over_or_reached(engine):
    [first] = engine.evaluate_records(enumerate(CLAIMS[:1]), trace=True)
    steps = {step.node: step for step in first.trace}
    reached, over = steps["达到.alert"].facts, steps["超过.alert"].facts
    assert (reached.burden, reached.threshold, reached.above, reached.fired) == (
        Decimal("2000.00"), Decimal("2000.00"), False, True)
    assert (over.above, over.fired) == (True, False)
    assert "年度累计负担 2000.00 ≥ 预警标准 2000.00，预警" in words(steps["达到.alert"]).formula
    assert "年度累计负担 2000.00 未超过 预警标准 2000.00" in words(steps["超过.alert"]).formula


def test_duckdb_matches(engine):
    outcomes = settle_records(engine, CLAIMS, "duckdb")
    assert {o["claim_id"]: o["alerts"] for o in outcomes} == EXPECTED
    assert outcomes == _scalar(engine)


def test_spark_matches(engine, spark):
    outcomes = settle_records(engine, CLAIMS, "spark", fmt="parquet", spark=spark)
    assert {o["claim_id"]: o["alerts"] for o in outcomes} == EXPECTED
    assert outcomes == _scalar(engine)
