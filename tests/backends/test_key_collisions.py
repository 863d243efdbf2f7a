"""The SQL backends' person-year key survives a hash collision.

``py``, the integer a person-year is grouped and windowed by, is a 63-bit hash
of (person, year) (backends/plan.py).  Two person-years sharing one would pool
their year-to-date figures, so the runner counts keys held by more than one
pair and, if any, ranks the pairs densely instead.  No real collision has been
seen, so this test makes them happen: it folds the hash into a handful of keys
(thousands of person-years each) and requires every outcome to equal the
scalar evaluator's, and the dense ranking to have been used.
"""

from __future__ import annotations

import pytest
from sqlglot import exp

from helpers import POLICIES
from yibao.api import load_engine
from yibao.backends import plan as plan_module
from yibao.backends.duckdb_runner import DuckDBRunner
from yibao.backends.formats import read_records, write_records
from yibao.backends.layers import Definition
from yibao.backends.synthetic import synthetic_claims
from yibao.runtime.results import outcome_to_json

KEYS = 5


@pytest.fixture
def colliding_keys(monkeypatch):
    """The plan's keys folded into KEYS values, rendered afresh (not the plan cache's,
    which holds the real keys); returns the names of the tables the runner builds."""
    monkeypatch.setenv("YIBAO_CACHE_DIR", "off")
    original = plan_module.SettlementPlan._keys

    def few_keys(self, dialect):
        fold = lambda d: exp.Mod(this=exp.paren(d.expression),  # noqa: E731
                                 expression=exp.Literal.number(KEYS))
        return [Definition("py", fold(d)) if d.name == "py" else d
                for d in original(self, dialect)]

    built = []
    original_table = DuckDBRunner._table

    def table(con, name, query):
        built.append((name, query))
        return original_table(con, name, query)

    monkeypatch.setattr(plan_module.SettlementPlan, "_keys", few_keys)
    monkeypatch.setattr(DuckDBRunner, "_table", staticmethod(table))
    return built


def test_colliding_keys_are_ranked_and_settle_as_the_scalar_path(tmp_path, colliding_keys):
    engine = load_engine(POLICIES / "benxi-2023.policy")
    claims = list(synthetic_claims(engine.loaded, 3_000, seed=7))
    path = tmp_path / "claims.parquet"
    write_records(claims, str(path), "parquet", engine.versions)
    expected = [outcome_to_json(o, trace=False)
                for o in engine.evaluate_records(read_records(str(path), "parquet"))]
    runner = DuckDBRunner(engine)
    batch = runner.run(str(path), "parquet")
    # the collision was seen, and the keys ranked: the claims table built a second time
    assert [query for name, query in colliding_keys if name == "claims"] == [
        runner.plan.sql("claims"), runner.plan.sql("dense_keys")]
    assert list(batch.exchange()) == expected
    people_years = {(c["person_id"], c["date"][:4]) for c in claims}
    assert len(people_years) > 50 * KEYS          # so each key was shared many times
