"""`outcome_line` writes a JSON Lines result faster than `json.dumps(outcome_to_json(…))`
(a trace's last key spliced in, each repeated step's text kept): the text must be
the same, byte for byte, for every outcome of every shipped policy that compiles."""

from __future__ import annotations

import functools
import json

import attrs
import pytest

from helpers import POLICIES, compiled_policies
from yibao.api import load_engine
from yibao.backends.synthetic import synthetic_claims
from yibao.runtime import results
from yibao.runtime.claims import ClaimError
from yibao.runtime.results import outcome_line, outcome_to_json

CLAIMS = 400


def _outcomes(name: str) -> list:
    engine = load_engine(POLICIES / f"{name}.policy")
    records = list(enumerate(synthetic_claims(engine.loaded, CLAIMS, seed=9), 1))
    return engine.evaluate_records(records, trace=True)


@pytest.mark.parametrize("name", compiled_policies())
def test_a_result_line_reads_as_json_dumps_writes_it(name):
    outcomes = _outcomes(name)
    assert any(getattr(o, "trace", ()) for o in outcomes)
    for trace in (False, True):
        for outcome in outcomes:
            expected = json.dumps(outcome_to_json(outcome, trace), ensure_ascii=False)
            assert outcome_line(outcome, trace) == expected


def test_the_kept_step_texts_are_bounded_and_still_right(monkeypatch):
    small = functools.lru_cache(maxsize=50)(results._step_text.__wrapped__)
    monkeypatch.setattr(results, "_step_text", small)
    for outcome in _outcomes("benxi-2023"):
        assert outcome_line(outcome) == json.dumps(outcome_to_json(outcome), ensure_ascii=False)
        assert small.cache_info().currsize <= 50
    assert small.cache_info().misses > 50   # texts were dropped and written again


def test_a_result_without_steps_has_an_empty_trace():
    outcome = next(o for o in _outcomes("benxi-2023") if not isinstance(o, ClaimError))
    line = outcome_line(attrs.evolve(outcome, trace=()))
    assert line.endswith(', "trace": []}')
    assert line == json.dumps(outcome_to_json(attrs.evolve(outcome, trace=())), ensure_ascii=False)


def test_a_refusal_has_no_trace_key():
    refusal = ClaimError("C302", "c-1", "date", "'x' is not a date", "write dates as YYYY-MM-DD")
    assert outcome_line(refusal) == json.dumps(refusal.to_json(), ensure_ascii=False)
