"""Presumed winners (backends/columnar/presumed.py): a walked person-year whose claims
hold the same candidates all year is settled on the window path under the first
declared one, then checked claim by claim; where another candidate would win, the
person-year is walked after all.  Either way every figure is the walk's."""

from __future__ import annotations

import pytest

from helpers import POLICIES, claim, compiled_policies, settle
from yibao.api import load_engine
from yibao.backends.columnar import presumed
from yibao.backends.columnar.runner import ColumnarRunner
from yibao.backends.formats import write_records
from yibao.backends.synthetic import synthetic_claims
from yibao.runtime.results import outcome_to_json

EDGE = "低保边缘家庭成员"
ILL = "因病致贫重病患者"
UPSTREAM = {"基本医保": "8000.00", "大病保险": "2000.00"}


def _benxi_ill_first(tmp_path):
    """Benxi 2023 with 因病致贫重病患者 declared first: presumed the winner wherever it is
    held, it loses to 低保边缘家庭成员 (lower deductibles, higher rates, §(五)) wherever
    the burden reaches them."""
    lines = (POLICIES / "benxi-2023.policy").read_text(encoding="utf-8").splitlines()
    ill = next(i for i, line in enumerate(lines) if line.startswith(f"identity {ILL}"))
    first = next(i for i, line in enumerate(lines) if line.startswith("identity 特困人员"))
    lines.insert(first, lines.pop(ill))
    path = tmp_path / "benxi-ill-first.policy"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_engine(path)


def _run(engine, claims, tmp_path, presume: bool = True):
    path = tmp_path / "claims.parquet"
    write_records(claims, str(path), "parquet", engine.versions)
    runner = ColumnarRunner(engine)
    runner.presume = presume
    return runner.run(str(path), "parquet")


def _figures(outcomes) -> dict:
    return {o["claim_id"]: (o["identity"], o["payouts"]["基本救助"], o["payouts"]["倾斜救助"])
            for o in outcomes}


@pytest.fixture
def checks(monkeypatch):
    """Each check's verdict: how many presumed claims, how many of them failed."""
    verdicts = []
    original = presumed.Presumption.failed

    def failed(self, out, places):
        found = original(self, out, places)
        verdicts.append((len(self.rows), int(found.sum())))
        return found

    monkeypatch.setattr(presumed.Presumption, "failed", failed)
    return verdicts


def _hand_worked(engine, claims, tmp_path, checks, walked: int, failed: int) -> dict:
    """The claims settled with presumed winners, all of them presumed and checked once
    (``failed`` of them lost, ``walked`` walked), every outcome the scalar evaluator's:
    their figures (_figures)."""
    batch = _run(engine, claims, tmp_path)
    assert (batch.walked, checks) == (walked, [(len(claims), failed)])
    outcomes = list(batch.exchange())
    assert outcomes == [outcome_to_json(o, trace=False) for o in settle(engine, *claims)]
    return _figures(outcomes)


def test_both_identities_all_year_are_settled_unwalked(tmp_path, checks):
    """Benxi §(五), a person who is 低保边缘家庭成员 and 因病致贫重病患者 all year, each
    claim's burden after 基本医保 8,000 and 大病保险 2,000 being 10,000.  t1: 低保边缘
    pays 60% × (10,000 − 2,000) = 4,800 and, on the 5,200 left, 60% × (5,200 − 3,000) =
    1,320, against 因病致贫's 50% × 5,000 = 2,500 and nothing; t2, C 10,000 → 20,000:
    10,800 − 4,800 = 6,000, then C 5,200 → 9,200: 3,720 − 1,320 = 2,400.  The first
    declared identity wins both: nothing is walked."""
    engine = load_engine(POLICIES / "benxi-2023.policy")
    claims = [claim("t1", "p-t", "2023-01-10", [EDGE, ILL], "20000.00", UPSTREAM),
              claim("t2", "p-t", "2023-02-10", [EDGE, ILL], "20000.00", UPSTREAM)]
    assert _hand_worked(engine, claims, tmp_path, checks, walked=0, failed=0) == {
        "t1": (EDGE, "4800.00", "1320.00"), "t2": (EDGE, "6000.00", "2400.00")}


def test_a_presumed_winner_that_loses_mid_year_is_walked(tmp_path, checks):
    """因病致贫重病患者 declared first.  r1's burden, 1,000, is below both identities'
    deductibles: both pay 0, and the tie goes to the first declared, 因病致贫.  r2's is
    12,000, from the cumulative bases 1,000 its winner left on both lines: 低保边缘
    pays 60% × (13,000 − 2,000) = 6,600 and, on the 5,400 left, C 1,000 → 6,400,
    60% × 3,400 = 2,040 (8,640); 因病致贫 50% × (13,000 − 5,000) = 4,000 and, C 1,000 →
    9,000, below its 10,000, nothing.  The check finds r2 lost: the person-year is walked."""
    engine = _benxi_ill_first(tmp_path)
    claims = [claim("r1", "p-r", "2023-03-01", [EDGE, ILL], "11000.00", UPSTREAM),
              claim("r2", "p-r", "2023-04-01", [EDGE, ILL], "22000.00", UPSTREAM)]
    assert _hand_worked(engine, claims, tmp_path, checks, walked=2, failed=2) == {
        "r1": (ILL, "0.00", "0.00"), "r2": (EDGE, "6600.00", "2040.00")}


def _synthetic(engine, tmp_path, count: int = 20_000):
    path = tmp_path / "claims.parquet"
    write_records(list(synthetic_claims(engine.loaded, count, seed=2023)), str(path),
                  "parquet", engine.versions)
    return str(path)


def _three_ways(engine, path: str):
    """The batch settled with presumed winners, without, and by DuckDB's walk."""
    runner = ColumnarRunner(engine)
    presuming = runner.run(path, "parquet")
    runner.presume = False
    walking = runner.run(path, "parquet")
    runner.numpy_walk = False
    return presuming, walking, runner.run(path, "parquet")


def _same(*batches) -> None:
    first = batches[0]
    for batch in batches[1:]:
        assert batch.results.schema == first.results.schema
        assert batch.results.equals(first.results)
        assert {i: e.to_json() for i, e in batch.errors.items()} == {
            i: e.to_json() for i, e in first.errors.items()}


@pytest.mark.parametrize("name", compiled_policies())
def test_presumed_winners_change_no_figure(name, tmp_path, checks):
    """20,000 synthetic claims of each policy: every output column with presumed winners
    is the walk's and DuckDB's; where take highest walks many person-years, most of
    their claims are settled unwalked."""
    engine = load_engine(POLICIES / f"{name}.policy")
    presuming, walking, duckdb = _three_ways(engine, _synthetic(engine, tmp_path))
    _same(presuming, walking, duckdb)
    assert presuming.walked <= walking.walked == duckdb.walked
    if walking.walked > 400:
        assert presuming.walked < walking.walked / 2
        assert checks and sum(claims for claims, _ in checks) > walking.walked / 2


def test_failed_presumptions_are_walked_in_place(tmp_path, checks):
    """Benxi with 因病致贫重病患者 declared first, 20,000 synthetic claims: hundreds of
    presumed claims lose their check, and their person-years' walked figures are put in
    their places in the results (presumed.patched), as the walk alone gives them."""
    engine = _benxi_ill_first(tmp_path)
    presuming, walking, duckdb = _three_ways(engine, _synthetic(engine, tmp_path))
    [(taken, failed)] = checks
    assert 100 < failed < taken
    assert presuming.walked == walking.walked - taken + failed
    _same(presuming, walking, duckdb)


def test_a_window_path_past_one_block_presumes_nothing(tmp_path, monkeypatch, checks):
    """Past one worker's block the window path, not the walk, is the run's longer thread:
    nothing is presumed (presumed.presumed_and_walked)."""
    from yibao.backends.columnar import runner

    monkeypatch.setattr(runner, "ONE_WORKER_CHUNK", 1_000)   # read by ColumnarRunner()
    engine = load_engine(POLICIES / "benxi-2023.policy")
    presuming, walking, _ = _three_ways(engine, _synthetic(engine, tmp_path))
    assert checks == [] and presuming.walked == walking.walked > 400
    _same(presuming, walking)
