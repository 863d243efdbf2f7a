"""Scalar, DuckDB, columnar and Spark settle the same claims identically, to the fen
(issues 9 and 28).

For every shipped policy that compiles on its own, 100,000 synthetic claims
(backends/synthetic.py, seed 2023: several claims per person and year, two
calendar years, people without identity, with one, with two, and whose
identity changes during the year, uncovered visits) go through all four
backends; every claim's outcome — payouts, total, burden, identity, alerts,
referrals, or the error — must be identical.  The data must exercise what
makes the SQL hard: claims walked one by one, annual caps crossed, identity
changes within a year.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from helpers import POLICIES, compiled_policies
from yibao.api import load_engine
from yibao.backends.formats import read_records, write_records
from yibao.backends.run import run_backend
from yibao.backends.synthetic import synthetic_claims
from yibao.runtime.results import outcome_to_json

CLAIMS = 100_000
SEED = 2023


@pytest.fixture(scope="module", params=compiled_policies())
def case(request, tmp_path_factory):
    engine = load_engine(POLICIES / f"{request.param}.policy")
    directory = tmp_path_factory.mktemp(request.param)
    claims = list(synthetic_claims(engine.loaded, CLAIMS, seed=SEED))
    paths = {}
    for fmt in ("jsonl", "parquet"):
        paths[fmt] = directory / f"claims.{fmt}"
        write_records(claims, str(paths[fmt]), fmt, engine.versions)
    scalar = [outcome_to_json(o, trace=False)
              for o in engine.evaluate_records(read_records(str(paths["jsonl"]), "jsonl"))]
    return request.param, engine, paths, scalar


def _first_difference(expected, got):
    assert len(got) == len(expected)
    for want, have in zip(expected, got):
        if want != have:
            return want, have
    return None


def test_the_claims_exercise_the_hard_cases(case):
    """Several claims per person-year, identity changes, and (where a line has a cap)
    caps reached: the synthetic data is not a soft target."""
    name, engine, paths, scalar = case
    claims = [json.loads(r) for _, r in read_records(str(paths["jsonl"]), "jsonl")]
    per_year: dict = {}
    for c in claims:
        per_year.setdefault((c["person_id"], c["date"][:4]), []).append(c)
    assert len(claims) / len(per_year) >= 2
    changes = sum(1 for cs in per_year.values()
                  if len({tuple(c["identities"]) for c in cs}) > 1)
    assert changes >= 300
    assert len({c["date"][:4] for c in claims}) >= 2
    reached_by_line = {}
    for line in engine.policy.computed_lines:
        if line.cap is None or all(s.value is None for _, s in line.cap.items()):
            continue
        paid: dict = {}
        for claim, outcome in zip(claims, scalar):
            if "payouts" in outcome:   # identity None: the line's default cap
                key = (claim["person_id"], claim["date"][:4])
                cap = line.cap.for_identity(outcome["identity"])
                total, _ = paid.get(key, (Decimal(0), None))
                paid[key] = (total + Decimal(outcome["payouts"][line.name]),
                             cap.value if cap is not None else None)
        reached_by_line[line.name] = sum(1 for total, cap in paid.values()
                                         if cap is not None and total == cap)
    # every capped line is reached several times, a 500,000-yuan cap included
    assert all(reached >= 5 for reached in reached_by_line.values()), reached_by_line


def test_duckdb_matches_the_scalar_evaluator(case):
    name, engine, paths, scalar = case
    batch = run_backend(engine, str(paths["jsonl"]), "jsonl", "duckdb")
    assert batch.walked > 1000   # identity changes and take highest go through the walk
    assert _first_difference(scalar, list(batch.exchange())) is None


def test_columnar_matches_the_scalar_evaluator(case):
    """The columnar engine (NumPy over int64 fen: the window path, and the walk for the
    rest, backends/columnar/walk.py) settles every claim as the scalar evaluator does, and
    its results table is the DuckDB path's, column for column and type for type, so
    both write the same JSON Lines and Parquet (backends/results_columns.py)."""
    from yibao.backends.columnar.runner import ColumnarRunner

    name, engine, paths, scalar = case
    runner = ColumnarRunner(engine)
    batch = runner.run(str(paths["parquet"]), "parquet")
    assert not runner.fallback   # NumPy settled the window path, not DuckDB's statement
    # and walked the rest, or settled it under presumed winners and checked them
    assert batch.walked > 300 and batch.walked_by == "numpy"
    assert batch.walked + batch.presumed > 1000 and batch.presumed > 100
    assert _first_difference(scalar, list(batch.exchange())) is None
    duckdb = run_backend(engine, str(paths["parquet"]), "parquet", "duckdb")
    assert batch.results.schema == duckdb.results.schema
    assert batch.results.equals(duckdb.results)


def test_spark_matches_the_scalar_evaluator(case, spark):
    name, engine, paths, scalar = case
    batch = run_backend(engine, str(paths["parquet"]), "parquet", "spark", spark)
    assert _first_difference(scalar, list(batch.exchange())) is None
