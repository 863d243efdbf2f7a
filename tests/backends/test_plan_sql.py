"""Every SQL statement of every plan, by digest: a change to the SQL is seen and reviewed.

The batch backends run SQL rendered from the evaluation graph (backends/plan.py).  A
refactoring of the compiler or of the shared arithmetic must leave that SQL as it
was unless the change means to alter it; this test holds a SHA-256 per statement,
per dialect, per shipped policy (and the per-unit and ceiling test policies, which
no shipped policy fully covers) in a reviewed snapshot.  An intended change updates
the snapshot (`--snapshot-update`) in the same commit that says why.
"""

from __future__ import annotations

import hashlib

import pytest

from helpers import CEILING_POLICY, PER_DAY_POLICY, POLICIES
from yibao.backends.plan import SettlementPlan
from yibao.dsl.loader import load_policy

DIALECTS = ("duckdb", "spark")


def _statements(plan: SettlementPlan, dialect: str) -> dict[str, object]:
    return {"claims": plan.claims("raw", dialect),
            "accepted": plan.accepted("acc", dialect),
            "window": plan.window_settled("fast"),
            "walk": plan.walk_settled("walk"),
            "slow": plan.slow_person_years("s"),
            "results": plan.results("settled", "claims"),
            "walk_claims": plan.walk_claims("s", "slow")}


def _policy_paths(tmp_path_factory):
    paths = sorted(POLICIES.glob("*.policy"))
    folder = tmp_path_factory.mktemp("plan-sql")
    for name, text in (("t-2023", PER_DAY_POLICY), ("c-2023", CEILING_POLICY)):
        path = folder / f"{name}.policy"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def digests(tmp_path_factory) -> dict[str, str]:
    found = {}
    for path in _policy_paths(tmp_path_factory):
        plan = SettlementPlan(load_policy(path))
        for dialect in DIALECTS:
            for label, statement in _statements(plan, dialect).items():
                text = statement.sql(dialect)
                found[f"{path.stem} {dialect} {label}"] = hashlib.sha256(
                    text.encode("utf-8")).hexdigest()[:16]
    return found


def test_every_statement_is_as_reviewed(digests, snapshot):
    assert digests == snapshot


def test_the_digests_tell_the_statements_apart(digests):
    """The snapshot can fail: each statement of a plan is SQL of its own, and a dialect
    renders its own (the results statement, plain SQL, is the one both share)."""
    for dialect in DIALECTS:
        benxi = {key: value for key, value in digests.items()
                 if key.startswith(f"benxi-2023 {dialect} ")}
        assert len(benxi) == 7
        assert len(set(benxi.values())) == 7
    differing = [label for label in ("claims", "accepted", "window", "walk", "slow")
                 if digests[f"benxi-2023 duckdb {label}"] != digests[f"benxi-2023 spark {label}"]]
    assert differing == ["claims", "accepted", "window", "walk", "slow"]
