"""The columnar engine's walk over NumPy (backends/columnar/walk.py, issue 28 item 1).

The person-years the window path cannot settle — take highest between identities,
an identity or version that changes during the year, a ratio ceiling that cuts a
capped line — are walked claim by claim with the carried ledger.  Worked by hand
here, and held to DuckDB's walk statement, every output column, on every
computable seed policy.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from helpers import CEILING_HEAD, POLICIES, claim, compiled_policies, settle
from yibao.api import load_engine
from yibao.backends.columnar.runner import ColumnarRunner
from yibao.backends.formats import write_records
from yibao.backends.synthetic import synthetic_claims
from yibao.runtime.results import outcome_to_json

EDGE = "低保边缘家庭成员"
ILL = "因病致贫重病患者"
UPSTREAM = {"基本医保": "8000.00", "大病保险": "2000.00"}


def _walk(engine, claims, tmp_path):
    path = tmp_path / "claims.parquet"
    write_records(claims, str(path), "parquet", engine.versions)
    runner = ColumnarRunner(engine)
    runner.presume = False   # the walk itself (test_columnar_presumed.py: presumed winners)
    batch = runner.run(str(path), "parquet")
    assert batch.walked_by == "numpy" and batch.walked == len(claims)
    return list(batch.exchange())


def _figures(outcomes, *lines) -> dict:
    return {o["claim_id"]: (o["identity"], *(o["payouts"][line] for line in lines),
                            o["total_paid"], o["personal_burden"])
            for o in outcomes}


# Benxi 2023 §(五) (tests/backends/test_columnar.py): 基本救助 低保边缘家庭成员 2,000 / 60%,
# 因病致贫重病患者 5,000 / 50%, cap 20,000; 倾斜救助 on what 基本救助 left, 低保边缘家庭成员
# 3,000 / 60%, 因病致贫重病患者 10,000 / 50% cap 20,000.  Each claim's in-scope burden
# after 基本医保 8,000 and 大病保险 2,000 is 10,000.  A line's year-to-date figures are the
# person-year's, whichever identity won the claims before (docs/specification.md §6, §8).
BENXI_WALKED = [
    # Both identities all year: take highest, claim by claim.  t1: 低保边缘 pays 4,800
    # (60% × 8,000) and 1,320 (60% × (5,200 − 3,000)): 6,120 against 因病致贫's 2,500 + 0.
    claim("t1", "p-t", "2023-01-10", [EDGE, ILL], "20000.00", UPSTREAM),
    # t2, C 10,000 → 20,000: 低保边缘 6,000 (10,800 − 4,800), then 倾斜救助's C 5,200 →
    # 9,200: 3,720 − 1,320 = 2,400, total 8,400; 因病致贫 5,000 and 100: 5,100.
    claim("t2", "p-t", "2023-02-10", [EDGE, ILL], "20000.00", UPSTREAM),
    # The identity changes: u1 as t1 (低保边缘 alone); u2 因病致贫 alone from the same
    # cumulative bases: 基本救助 C 10,000 → 20,000, 7,500 − 2,500 = 5,000 within the cap's
    # 15,200 room; 倾斜救助 on 5,000, C 5,200 → 10,200: 50% × 200 = 100.
    claim("u1", "p-u", "2023-01-10", [EDGE], "20000.00", UPSTREAM),
    claim("u2", "p-u", "2023-02-10", [ILL], "20000.00", UPSTREAM),
]


# After an identity change the claims of one identity are walked as a run, from the
# state the earlier identity left (the carried ledger's induction within a run).
RUNS = [
    # x1 as t1: 4,800 and 1,320.  x2: as u2, 5,000 and 100.
    claim("x1", "p-x", "2023-01-10", [EDGE], "20000.00", UPSTREAM),
    claim("x2", "p-x", "2023-02-10", [ILL], "20000.00", UPSTREAM),
    # x3: 基本救助 C 20,000 → 30,000, 12,500 − 7,500 = 5,000 (room 10,200 left); 倾斜救助 on
    # 5,000, C 10,200 → 15,200: 2,600 − 100 = 2,500.
    claim("x3", "p-x", "2023-03-10", [ILL], "20000.00", UPSTREAM),
    # x4, burden 30,000: 基本救助 C 30,000 → 60,000 is 27,500 − 12,500 = 15,000, but the
    # cap leaves 20,000 − 14,800 = 5,200; 倾斜救助 on 24,800, C 15,200 → 40,000: 15,000 −
    # 2,600 = 12,400 within its room of 16,080.
    claim("x4", "p-x", "2023-04-10", [ILL], "40000.00", UPSTREAM),
    # w1, burden 100,000 as 低保边缘: 基本救助 58,800 capped at 20,000; 倾斜救助, no cap for
    # 低保边缘, 60% × (80,000 − 3,000) = 46,200.  Then 因病致贫 (倾斜救助's cap 20,000, below
    # the 46,200 paid): w2 and w3 pay nothing on either line.
    claim("w1", "p-w", "2023-01-10", [EDGE], "110000.00", UPSTREAM),
    claim("w2", "p-w", "2023-02-10", [ILL], "20000.00", UPSTREAM),
    claim("w3", "p-w", "2023-03-10", [ILL], "20000.00", UPSTREAM),
]


BENXI_WALKED_PAID = {
    "t1": (EDGE, "4800.00", "1320.00", "16120.00", "3880.00"),
    "t2": (EDGE, "6000.00", "2400.00", "18400.00", "1600.00"),
    "u1": (EDGE, "4800.00", "1320.00", "16120.00", "3880.00"),
    "u2": (ILL, "5000.00", "100.00", "15100.00", "4900.00"),
}

RUNS_PAID = {
    "x1": (EDGE, "4800.00", "1320.00", "16120.00", "3880.00"),
    "x2": (ILL, "5000.00", "100.00", "15100.00", "4900.00"),
    "x3": (ILL, "5000.00", "2500.00", "17500.00", "2500.00"),
    "x4": (ILL, "5200.00", "12400.00", "27600.00", "12400.00"),
    "w1": (EDGE, "20000.00", "46200.00", "76200.00", "33800.00"),
    "w2": (ILL, "0.00", "0.00", "10000.00", "10000.00"),
    "w3": (ILL, "0.00", "0.00", "10000.00", "10000.00"),
}


@pytest.mark.parametrize("claims, expected", [(BENXI_WALKED, BENXI_WALKED_PAID),
                                               (RUNS, RUNS_PAID)], ids=["take-highest", "runs"])
def test_benxi_person_years_walked_by_hand(tmp_path, claims, expected):
    """Take highest, a changed identity, and runs after a change (the figures above)."""
    engine = load_engine(POLICIES / "benxi-2023.policy")
    scalar = [outcome_to_json(o, trace=False) for o in settle(engine, *claims)]
    assert _figures(scalar, "基本救助", "倾斜救助") == expected
    walked = _walk(engine, claims, tmp_path)
    assert _figures(walked, "基本救助", "倾斜救助") == expected
    assert walked == scalar



def test_a_steps_routes_of_one_version_are_settled_as_one_slice(tmp_path, monkeypatch):
    """walk.step_slices: a step's claims of one version are one slice whatever their
    routes, settled under the candidates they hold, with the figures worked out above.
    Step 1 holds t1 (both identities) and u1, x1, w1 (低保边缘 alone); step 2 t2 (both)
    and u2 and the runs x2–x4 and w2–w3 (因病致贫 alone): one slice each, where a slice a
    route made two each."""
    from yibao.backends.columnar.walk import Walk

    slices = []
    settle_slice = Walk._settle

    def recorded(walk, v, lo, hi, only, choose_only=False):
        slices.append((lo, hi, only))
        settle_slice(walk, v, lo, hi, only, choose_only)

    monkeypatch.setattr(Walk, "_settle", recorded)
    engine = load_engine(POLICIES / "benxi-2023.policy")
    claims = BENXI_WALKED + RUNS
    walked = _walk(engine, claims, tmp_path)
    assert slices == [(0, 4, None), (4, 11, None)]
    assert _figures(walked, "基本救助", "倾斜救助") == BENXI_WALKED_PAID | RUNS_PAID
    assert walked == [outcome_to_json(o, trace=False) for o in settle(engine, *claims)]

# A 95% ceiling for 特困人员 that cuts 基本救助, a line with a 50,000 cap (Xinjiang §四's
# shape): the ceiling lowers a claim's payout below its slice, so the cap's room is what
# the line paid after the ceiling, not the running sum of its slices — the walk's case.
CAPPED_CEILING_POLICY = CEILING_HEAD + """\
ceiling 95% §四 {
    identities 特困人员 §四
    reduces 基本救助 §四
}
"""


def _special(claim_id: str, date: str, in_scope: str, upstream: str) -> dict:
    return claim(claim_id, "p-v", date, ["特困人员"], in_scope, {"基本医保": upstream})


CEILING_WALKED = [
    # v1: base 10,000, G = 96% × 9,000 = 8,640; 10,000 + 8,640 within 95% × 20,000.
    _special("v1", "2023-01-10", "20000.00", "10000.00"),
    # v2: base 20,000, C 10,000 → 30,000: 27,840 − 8,640 = 19,200 (room 41,360); the
    # ceiling's bound 95,000 < 80,000 + 19,200, so 基本救助 is cut by 4,200 to 15,000.
    _special("v2", "2023-02-10", "100000.00", "80000.00"),
    # v3: base 50,000, C 30,000 → 80,000: 75,840 − 27,840 = 48,000; the room is 50,000 −
    # (8,640 + 15,000) = 26,360 (a running sum of the slices would leave 22,160).
    _special("v3", "2023-03-10", "100000.00", "50000.00"),
    # v4: the cap is reached: nothing.
    _special("v4", "2023-04-10", "10000.00", "0.00"),
]


def test_a_ceiling_cutting_a_capped_line_walked_by_hand(tmp_path):
    path = tmp_path / "c-2023.policy"
    path.write_text(CAPPED_CEILING_POLICY, encoding="utf-8")
    engine = load_engine(path)
    expected = {
        "v1": ("特困人员", "8640.00", "18640.00", "1360.00"),
        "v2": ("特困人员", "15000.00", "95000.00", "5000.00"),
        "v3": ("特困人员", "26360.00", "76360.00", "23640.00"),
        "v4": ("特困人员", "0.00", "0.00", "10000.00"),
    }
    scalar = [outcome_to_json(o, trace=False) for o in settle(engine, *CEILING_WALKED)]
    assert _figures(scalar, "基本救助") == expected
    walked = _walk(engine, CEILING_WALKED, tmp_path)
    assert _figures(walked, "基本救助") == expected
    assert walked == scalar
    assert sum(Decimal(o["payouts"]["基本救助"]) for o in walked) == Decimal(50000)


def walked_both_ways(tmp_path, name: str):
    """20,000 synthetic claims of policy ``name`` settled by the columnar engine with its
    NumPy walk, then with DuckDB's walk statement: (numpy's batch, duckdb's batch), every
    person-year the window path cannot take walked (no presumed winner)."""
    engine = load_engine(POLICIES / f"{name}.policy")
    path = tmp_path / "claims.parquet"
    write_records(list(synthetic_claims(engine.loaded, 20_000, seed=2023)), str(path),
                  "parquet", engine.versions)
    runner = ColumnarRunner(engine)
    runner.presume = False
    numpy = runner.run(str(path), "parquet")
    runner.numpy_walk = False
    return numpy, runner.run(str(path), "parquet")


@pytest.mark.parametrize("subset_min", [2048, 1])
@pytest.mark.parametrize("name", compiled_policies())
def test_the_numpy_walk_is_duckdbs_walk_column_for_column(name, subset_min, tmp_path,
                                                           monkeypatch):
    """20,000 synthetic claims (backends/synthetic.py: take highest, identities and, for
    Jiamusi 2022 and Jilin 2020, versions changing within a year): the walked claims'
    rows, every output column and type, are those of DuckDB's walk statement; also when
    every group of claims holding several candidates evaluates each candidate over the
    claims that hold it (walk.SUBSET_MIN, which 10^6 claims reach in their first steps)."""
    from yibao.backends.columnar import walk

    monkeypatch.setattr(walk, "SUBSET_MIN", subset_min)
    numpy, duckdb = walked_both_ways(tmp_path, name)
    assert (numpy.walked_by, duckdb.walked_by) == ("numpy", "duckdb")
    assert numpy.walked == duckdb.walked > 400
    assert numpy.results.schema == duckdb.results.schema
    assert numpy.results.equals(duckdb.results)
    assert {i: e.to_json() for i, e in numpy.errors.items()} == {
        i: e.to_json() for i, e in duckdb.errors.items()}


@pytest.mark.parametrize("once", [True, False])
def test_the_result_phase_once_over_the_winners_is_each_candidates(once, tmp_path,
                                                                    monkeypatch):
    """A step evaluates its result phase (take highest, totals, burdens, alerts) once,
    over each claim's winner's figures (walk._ResultOnce), or, where a figure cannot be
    chosen claim by claim, once a candidate and chosen after: Benxi's 20,000 synthetic
    claims, the walked rows column for column those of DuckDB's walk either way."""
    from yibao.backends.columnar import walk

    picked = []
    if once:
        original = walk._ResultOnce.picked
        monkeypatch.setattr(walk._ResultOnce, "picked",
                            lambda self, *a: picked.append(1) or original(self, *a))
    else:
        monkeypatch.setattr(walk._ResultOnce, "picked",
                            lambda self, *a: picked.append(1) and None)
    numpy, duckdb = walked_both_ways(tmp_path, "benxi-2023")
    assert numpy.walked_by == "numpy" and numpy.walked == duckdb.walked > 400
    assert len(picked) > 10   # every step asked
    assert numpy.results.equals(duckdb.results)


def test_duckdbs_walk_takes_the_claims_numpy_might_not_hold_exactly(tmp_path, monkeypatch):
    """Past the int64 bound (runner.fits_int64) NumPy would wrap where DuckDB refuses:
    the walked person-years go to DuckDB's walk statement, with the same outcomes (the
    window path, asked apart, stays with NumPy)."""
    engine = load_engine(POLICIES / "benxi-2023.policy")
    path = tmp_path / "claims.parquet"
    write_records(BENXI_WALKED, str(path), "parquet", engine.versions)
    monkeypatch.setattr(ColumnarRunner, "fits_int64", lambda runner, largest, claims: False)
    runner = ColumnarRunner(engine)
    batch = runner.run(str(path), "parquet")
    assert batch.walked_by == "duckdb" and batch.walked == len(BENXI_WALKED)
    assert not runner.fallback
    scalar = [outcome_to_json(o, trace=False) for o in settle(engine, *BENXI_WALKED)]
    assert list(batch.exchange()) == scalar


@pytest.mark.parametrize("bounds", [(47, 3, 9_000), (2, 2**31, 2**31 + 5)])
def test_the_step_order_sorts_as_lexsort(bounds):
    """walk._stable_order: the keys' lexicographic order, ties in the given order, as
    np.lexsort (the walk's step order and its claims' order in a person-year); past
    int64 (the second case) by lexsort itself."""
    from yibao.backends.columnar.walk import _stable_order

    rng = np.random.default_rng(bounds[2])
    keys = [rng.integers(0, bound, 20_000) for bound in bounds]
    expected = np.lexsort(list(reversed(keys)))
    assert _stable_order(list(zip(keys, bounds))).tolist() == expected.tolist()
