"""An uncovered line's trace steps, and the steps of claim fields that take few
values (visit, scheme, identities, flags), are written once per candidate and
value, then reused (tracing.step_writer): every trace must read exactly as if each
step were written afresh.

For every shipped policy that compiles, synthetic claims are settled with a trace
twice: by an engine that reuses steps, and by one built with reuse turned off.
Their results, steps included, must be equal on every claim.
"""

from __future__ import annotations

import pytest

from helpers import POLICIES, compiled_policies
from yibao.api import load_engine
from yibao.backends.synthetic import synthetic_claims
from yibao.runtime import tracing
from yibao.runtime.claims import ClaimError

CLAIMS = 600


def _traced(name: str) -> list:
    engine = load_engine(POLICIES / f"{name}.policy")
    records = list(enumerate(synthetic_claims(engine.loaded, CLAIMS, seed=5), 1))
    # A ClaimError (an exception) compares by identity: compared by what it says.
    return [outcome.to_json() if isinstance(outcome, ClaimError) else outcome
            for outcome in engine.evaluate_records(records, trace=True)]


def _write_afresh(monkeypatch) -> None:
    """Turn reuse off: no uncovered line's step, no claim field's step is kept."""
    monkeypatch.setattr(tracing, "_SAME_WHEN_UNCOVERED", frozenset())
    monkeypatch.setattr(tracing, "_FEW_VALUES", frozenset())


def _steps(outcomes) -> list:
    return [step for outcome in outcomes for step in getattr(outcome, "trace", ())]


@pytest.mark.parametrize("name", compiled_policies())
def test_reused_steps_read_as_steps_written_afresh(name, monkeypatch):
    reused = _traced(name)
    _write_afresh(monkeypatch)
    afresh = _traced(name)
    assert reused == afresh
    assert len(_steps(reused)) > CLAIMS * 10


def test_benxi_steps_are_reused(monkeypatch):
    """Benxi's lines leave most claims uncovered: their steps are shared objects."""
    steps = _steps(_traced("benxi-2023"))
    assert len(steps) - len({id(step) for step in steps}) > CLAIMS * 5
    _write_afresh(monkeypatch)
    fresh = _steps(_traced("benxi-2023"))
    assert len({id(step) for step in fresh}) == len(fresh)
