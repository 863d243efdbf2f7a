"""Year-to-date settlement in SQL, against figures worked by hand (docs/specification.md §6, §3.5).

Benxi 2023 §(五): 基本救助 低保边缘家庭成员 2,000 / 60%, 因病致贫重病患者 5,000 / 50%,
低保对象 0 / 70%, annual cap 20,000 for all; 倾斜救助 on what 基本救助 left:
低保边缘家庭成员 3,000 / 60% no cap, 因病致贫重病患者 10,000 / 50% cap 20,000,
低保对象 3,000 / 70%.  Each claim below has 基本医保 8,000 + 大病保险 2,000 paid, so
its in-scope burden B is in-scope cost − 10,000.
"""

from __future__ import annotations

import pytest

from helpers import claim
from yibao.backends.run import settle_records
from yibao.runtime.results import outcome_to_json
from yibao.api import evaluate_claims

UPSTREAM = {"基本医保": "8000.00", "大病保险": "2000.00"}


def burden(claim_id, person, date, identities, amount, visit="住院"):
    in_scope = f"{amount + 10000}.00"
    return claim(claim_id, person, date, identities, in_scope, UPSTREAM, visit=visit)


CLAIMS = [
    # docs/specification.md §6's example, one identity all year (the window path): B = 15,000,
    # 10,000, 20,000 pay 7,800; 13,800 − 7,800 = 6,000; cap 20,000 − 13,800 = 6,200.
    burden("a1", "p-a", "2023-01-10", ["低保边缘家庭成员"], 15000),
    burden("a2", "p-a", "2023-02-10", ["低保边缘家庭成员"], 5000, visit="普通门诊"),
    burden("a3", "p-a", "2023-03-10", ["低保边缘家庭成员"], 10000),
    burden("a4", "p-a", "2023-04-10", ["低保边缘家庭成员"], 20000),
    # A new calendar year starts again: (15,000 − 2,000) × 60% = 7,800.
    burden("a5", "p-a", "2024-01-05", ["低保边缘家庭成员"], 15000),
    # docs/specification.md §6's change of identity (the walk): 50% above 5,000 of 15,000 = 5,000;
    # then as 低保对象 70% of the slice 15,000–30,000 = 10,500 (room 15,000).
    burden("b1", "p-b", "2023-03-01", ["因病致贫重病患者"], 15000),
    burden("b2", "p-b", "2023-06-01", ["低保对象"], 15000),
    # Two identities all year: take highest, claim by claim (docs/specification.md §8).
    burden("c1", "p-c", "2023-02-01", ["因病致贫重病患者", "低保边缘家庭成员"], 15000),
    burden("c2", "p-c", "2023-05-01", ["因病致贫重病患者", "低保边缘家庭成员"], 20000),
    burden("c3", "p-c", "2023-08-01", ["因病致贫重病患者", "低保边缘家庭成员"], 10000),
]

# claim → (identity, 基本救助, 倾斜救助), worked by hand:
EXPECTED = {
    "a1": ("低保边缘家庭成员", "7800.00", "2520.00"),    # 倾斜: (7,200 − 3,000) × 60%
    "a2": ("低保边缘家庭成员", "0.00", "0.00"),          # 普通门诊 is not covered (§(四))
    "a3": ("低保边缘家庭成员", "6000.00", "2400.00"),    # 倾斜 C 7,200 → 11,200
    "a4": ("低保边缘家庭成员", "6200.00", "8280.00"),    # cap reached; 倾斜 C 11,200 → 25,000
    "a5": ("低保边缘家庭成员", "7800.00", "2520.00"),
    "b1": ("因病致贫重病患者", "5000.00", "0.00"),       # 倾斜 base 10,000 = its deductible
    "b2": ("低保对象", "10500.00", "3150.00"),           # 倾斜 C 10,000 → 14,500: 70% × 4,500
    # c1: 低保边缘 pays 7,800 + 2,520 = 10,320 against 因病致贫 5,000 + 0.
    "c1": ("低保边缘家庭成员", "7800.00", "2520.00"),
    # c2: C 15,000 → 35,000: 低保边缘 12,000 + 4,800 against 因病致贫 10,000 + 3,600.
    "c2": ("低保边缘家庭成员", "12000.00", "4800.00"),
    # c3: room 200 left of the cap; 倾斜 C 15,200 → 25,000: 13,200 − 7,320 = 5,880.
    "c3": ("低保边缘家庭成员", "200.00", "5880.00"),
}


def _figures(outcomes):
    return {o["claim_id"]: (o["identity"], o["payouts"]["基本救助"], o["payouts"]["倾斜救助"])
            for o in outcomes}


def test_the_scalar_evaluator_agrees_with_the_hand_figures(benxi_engine):
    outcomes = [outcome_to_json(o, trace=False) for o in evaluate_claims(benxi_engine, CLAIMS)]
    assert _figures(outcomes) == EXPECTED


@pytest.mark.parametrize("backend", ["duckdb", "columnar", "spark"])
def test_sql_backends_settle_the_hand_worked_claims(benxi_engine, backend, request):
    spark = request.getfixturevalue("spark") if backend == "spark" else None
    outcomes = settle_records(benxi_engine, CLAIMS, backend, spark=spark)
    assert _figures(outcomes) == EXPECTED


# Benxi §(八): the 因病致贫风险 alert watches people outside the other alert's group
# (here: no identity), at 20,000 yuan a year under 居民医保 and 50,000 under 职工医保.
# p-d bears 40,000 − 10,000 = 30,000 under 居民医保 (fired), then changes scheme: the
# year's 30,500 is below 50,000, yet an alert once reached stays on for the year.
# The threshold changes within the person-year, so the walk settles it: the window
# path compares the running burden with one threshold (backends/prepare.py).
SCHEME_CHANGE = [
    claim("d1", "p-d", "2023-03-01", [], "30000.00", UPSTREAM, total="40000.00"),
    claim("d2", "p-d", "2023-04-01", [], "1000.00", {"基本医保": "500.00", "大病保险": "0.00"},
          scheme="职工医保"),
    # p-e the other way round: 30,000 is short of 50,000; 30,500 reaches 20,000.
    claim("e1", "p-e", "2023-03-01", [], "30000.00", UPSTREAM, total="40000.00",
          scheme="职工医保"),
    claim("e2", "p-e", "2023-04-01", [], "1000.00", {"基本医保": "500.00", "大病保险": "0.00"}),
]
SCHEME_ALERTS = {"d1": ["因病致贫风险"], "d2": ["因病致贫风险"], "e1": [], "e2": ["因病致贫风险"]}


@pytest.mark.parametrize("backend", ["scalar", "duckdb", "columnar", "spark"])
def test_an_alert_reached_stays_on_when_the_threshold_changes(benxi_engine, backend, request):
    if backend == "scalar":
        outcomes = [outcome_to_json(o, trace=False)
                    for o in evaluate_claims(benxi_engine, SCHEME_CHANGE)]
    else:
        spark = request.getfixturevalue("spark") if backend == "spark" else None
        outcomes = settle_records(benxi_engine, SCHEME_CHANGE, backend, spark=spark)
    assert {o["claim_id"]: o["alerts"] for o in outcomes} == SCHEME_ALERTS
    assert {o["claim_id"]: o["personal_burden"] for o in outcomes} == {
        "d1": "30000.00", "d2": "500.00", "e1": "30000.00", "e2": "500.00"}
