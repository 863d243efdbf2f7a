"""An amendment for some visits (Lhasa §四(四)一, "住院、门诊特殊病…提高5%") settles the same
on DuckDB as on the scalar path: the +5 points only for those visits, and a year of
mixed visits capped by the running sum of its slices (the slices of two rates do not
telescope to one G)."""

from __future__ import annotations


import pytest

from helpers import claim
from lhasa_base import lhasa_folder
from yibao.api import load_engine
from yibao.backends.run import settle_records
from yibao.runtime.results import outcome_to_json


@pytest.fixture(scope="module")
def lhasa(tmp_path_factory):
    return load_engine(lhasa_folder(tmp_path_factory.mktemp("tibet")))


def _poor(claim_id, person, date, in_scope, visit):
    return claim(claim_id, person, date, ["建档立卡贫困人口"], in_scope, {}, visit=visit)


# One poor person, one year; base 基本医保 70%, no deductible, cap 20,000.
# 住院 10,000: 75% → 7,500.  普通门诊 10,000: 70% → 7,000 (14,500 paid).
# 住院 10,000: 75% → 7,500, cut to the 5,500 left of the cap.  门诊慢特病 1,000: 0 (cap).
# A second person's 普通门诊 1,000 alone: 700.
CLAIMS = [
    _poor("a1", "p", "2020-05-01", "10000.00", "住院"),
    _poor("a2", "p", "2020-06-01", "10000.00", "普通门诊"),
    _poor("a3", "p", "2020-07-01", "10000.00", "住院"),
    _poor("a4", "p", "2020-08-01", "1000.00", "门诊慢特病"),
    _poor("b1", "q", "2020-06-01", "1000.00", "普通门诊"),
]
EXPECTED = {"a1": "7500.00", "a2": "7000.00", "a3": "5500.00", "a4": "0.00", "b1": "700.00"}


def test_scalar_pays_each_visit_its_rate_within_the_cap(lhasa):
    outcomes = [outcome_to_json(o, trace=False) for o in lhasa.evaluate_records(
        enumerate(CLAIMS, start=1))]
    assert {o["claim_id"]: o["payouts"]["基本医保"] for o in outcomes} == EXPECTED


def test_duckdb_pays_the_same(lhasa):
    outcomes = settle_records(lhasa, CLAIMS, "duckdb")
    assert {o["claim_id"]: o["payouts"]["基本医保"] for o in outcomes} == EXPECTED
    scalar = [outcome_to_json(o, trace=False) for o in lhasa.evaluate_records(
        enumerate(CLAIMS, start=1))]
    assert outcomes == scalar


def test_duckdb_matches_the_scalar_path_on_synthetic_claims(lhasa, tmp_path):
    """Mixed visits, identity changes and caps over many person-years."""
    from yibao.backends.formats import read_records, write_records
    from yibao.backends.run import run_backend
    from yibao.backends.synthetic import synthetic_claims

    path = tmp_path / "claims.jsonl"
    write_records(list(synthetic_claims(lhasa.loaded, 20_000, seed=21)), str(path), "jsonl",
                  lhasa.versions)
    scalar = [outcome_to_json(o, trace=False)
              for o in lhasa.evaluate_records(read_records(str(path), "jsonl"))]
    assert sum(1 for o in scalar if "payouts" in o) > 10_000
    batch = list(run_backend(lhasa, str(path), "jsonl", "duckdb").exchange())
    assert batch == scalar


def test_spark_pays_the_same(lhasa, spark):
    outcomes = settle_records(lhasa, CLAIMS, "spark", fmt="parquet", spark=spark)
    assert {o["claim_id"]: o["payouts"]["基本医保"] for o in outcomes} == EXPECTED
