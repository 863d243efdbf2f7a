"""Properties of a batch: splitting a claim, reordering people, repeating a run.

Split invariance, derived from docs/specification.md §6.  For a person with one
identity all year, a line's year-to-date payout after the claims with
cumulative base C is min(cap, round(G(C))): each claim pays the slice
round(G(C_after)) − round(G(C_before)) ≥ 0, limited by what is left of the
cap.  So the year's total depends on C alone.  The first computed line's base
is the in-scope cost less the upstream payouts, which is additive over claims
whatever way the in-scope cost and each upstream payout are divided (each part
a valid claim).  A line never pays more than its base (rate ≤ 100%, the slice
of a fen amount rounded at a cumulative figure), so the next line's base,
in-scope less the lines before it, is never clamped at 0 and is additive too:
by induction every line's annual total is the same whether the bill comes as
one claim or as several in the same year.  So are the total paid, the
personal burden and the alerts on the year's last claim (a cumulative burden
against a threshold).  It does not hold, and is not tested, where the specification
says a claim's own figures decide: the ratio ceiling (a share of that claim's
in-scope cost, docs/specification.md §9), a per-unit quota (units × amount
within that claim's base), a take-highest choice made claim by claim (§8), or a change of
identity during the year.
"""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from robustness.claim_space import (
    ROOT, amounts, batches, ceiling_binds, dates_between, loadable_engines, policy_files, record, settings_of,
    settled, year_window,
)
from robustness.profiles import ROBUSTNESS, scaled
from yibao.api import evaluate_claims, load_engine, outcome_to_json

ENGINES = loadable_engines()
POLICIES = pytest.mark.parametrize("name", sorted(ENGINES))


def _summed(parts, name: str) -> Decimal:
    return sum((dict(result.payouts)[name] for result in parts), Decimal(0))


@POLICIES
@ROBUSTNESS
@given(data=st.data())
def test_splitting_a_bill_into_claims_of_the_same_year_keeps_every_annual_total(name, data):
    engine = ENGINES[name]
    setting = data.draw(settings_of(engine, identities=(0, 1), counts=False))
    assume(not ceiling_binds(setting))
    first, last = year_window(engine, setting)
    pieces = data.draw(st.lists(amounts(setting), min_size=2, max_size=4))
    parts = [record(f"part-{index}", "p-1", setting, total, in_scope, paid,
                    date=data.draw(dates_between(first, last)))
             for index, (total, in_scope, paid) in enumerate(pieces)]
    paid = tuple((line, sum(dict(piece[2])[line] for piece in pieces))
                 for line, _ in pieces[0][2])
    whole = record("whole", "p-1", setting, sum(p[0] for p in pieces),
                   sum(p[1] for p in pieces), paid, date=data.draw(dates_between(first, last)))
    split = settled(engine, parts)
    (merged,) = settled(engine, [whole])
    for line, amount in merged.payouts:
        assert _summed(split, line) == amount, line
    assert sum(r.total_paid for r in split) == merged.total_paid
    assert sum(r.personal_burden for r in split) == merged.personal_burden
    # The year's last claim in settlement order: date, then input order (docs/specification.md §6).
    last_settled = max(range(len(parts)), key=lambda i: (parts[i]["date"], i))
    assert split[last_settled].alerts == merged.alerts
    _within_annual_caps(setting, split)


def _within_annual_caps(setting, results) -> None:
    """A line's payouts to one person in a year stay within its annual cap (§3.2)."""
    identity = next(iter(setting.effective()), None)
    for line in setting.version.computed_lines:
        cap = line.cap.for_identity(identity) if line.cap is not None else None
        if cap is not None and isinstance(cap.value, Decimal):
            assert _summed(results, line.name) <= cap.value, line.name


def _outcomes_by_claim(outcomes) -> dict[str, dict]:
    """Results and errors by claim id; an error's line number follows the input order."""
    by_claim = {}
    for outcome in outcomes:
        data = outcome_to_json(outcome, trace=False)
        data.pop("line", None)
        by_claim[data["claim_id"]] = data
    return by_claim


def _keep_same_day_order(original: list[dict], shuffled: list[dict]) -> list[dict]:
    """Claims of one person on one day settle in input order (docs/specification.md §6): keep it."""
    groups: dict[tuple, list[dict]] = {}
    for claim in original:
        groups.setdefault((claim["person_id"], claim["date"]), []).append(claim)
    taken = {key: iter(group) for key, group in groups.items()}
    return [next(taken[(claim["person_id"], claim["date"])]) for claim in shuffled]


@POLICIES
@scaled(0.6)
@given(data=st.data())
def test_reordering_people_and_claims_changes_no_result(name, data):
    """Results come back in input order and depend only on each person's own claims."""
    engine = ENGINES[name]
    batch = data.draw(batches(engine))
    reordered = _keep_same_day_order(batch, data.draw(st.permutations(batch)))
    outcomes = evaluate_claims(engine, batch)
    assert [o.claim_id for o in outcomes] == [c["claim_id"] for c in batch]
    expected = _outcomes_by_claim(outcomes)
    again = evaluate_claims(engine, reordered)
    assert [o.claim_id for o in again] == [c["claim_id"] for c in reordered]
    assert _outcomes_by_claim(again) == expected
    for person in {claim["person_id"] for claim in batch}:
        own = [claim for claim in batch if claim["person_id"] == person]
        alone = _outcomes_by_claim(evaluate_claims(engine, own))
        assert alone == {c["claim_id"]: expected[c["claim_id"]] for c in own}


@pytest.fixture(scope="module")
def second_engines():
    """The same policies loaded again: no state may be shared between engines."""
    files = policy_files()
    return {name: load_engine(files[name]) for name in ENGINES}


@POLICIES
@scaled(0.4)
@given(data=st.data())
def test_a_batch_settles_identically_every_time_trace_included(name, data, second_engines):
    engine = ENGINES[name]
    batch = data.draw(batches(engine, people=(1, 2), per_person=(1, 3)))
    first = [outcome_to_json(o) for o in evaluate_claims(engine, batch, trace=True)]
    assert [outcome_to_json(o) for o in evaluate_claims(engine, batch, trace=True)] == first
    other = second_engines[name]
    assert [outcome_to_json(o) for o in evaluate_claims(other, batch, trace=True)] == first


def test_results_do_not_depend_on_the_process_hash_seed():
    """Sets and dicts iterate differently under another PYTHONHASHSEED: the shipped
    examples, settled with their traces, must print the same bytes."""
    examples = sorted((ROOT / "policies" / "examples").glob("*.jsonl"))
    assert examples
    script = (
        "import sys\n"
        "from yibao.cli.main import main\n"
        "for policy, claims in zip(sys.argv[1::2], sys.argv[2::2]):\n"
        "    main(['eval', '--trace', policy, claims])\n"
    )
    arguments = []
    for claims_file in examples:
        arguments += [str(ROOT / "policies" / f"{claims_file.stem}.policy"), str(claims_file)]
    outputs = []
    for seed in ("1", "4242"):
        environment = dict(os.environ, PYTHONHASHSEED=seed)
        done = subprocess.run([sys.executable, "-c", script, *arguments], env=environment,
                              capture_output=True, timeout=120, check=True)
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert outputs[0].count(b"\n") == sum(
        1 for path in examples for line in path.read_bytes().splitlines() if line.strip())
