"""The columnar engine (``--backend columnar``, issue 28) at the kinks, worked by hand.

Benxi 2023 §(五): 基本救助 低保边缘家庭成员 2,000 / 60%, 因病致贫重病患者 5,000 / 50%,
annual cap 20,000; 倾斜救助 on what 基本救助 left: 低保边缘家庭成员 3,000 / 60% no cap,
因病致贫重病患者 10,000 / 50% cap 20,000.  Each claim has 基本医保 8,000 + 大病保险
2,000 paid, so its in-scope burden B is in-scope cost − 10,000.  One identity all
year: the window path, which the engine settles over int64 fen.  A claim's slice is
round(G(C_after)) − round(G(C_before)), rounded half up to the fen
(docs/specification.md §3, §6.3), never the rounded G of the claim alone.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from helpers import POLICIES, claim, compiled_policies
from yibao.api import evaluate_claims, load_engine
from yibao.backends.columnar import runner as columnar_runner
from yibao.backends.columnar.arithmetic import ArrayArithmetic
from yibao.backends.columnar.runner import ColumnarRunner, fits_int64
from yibao.backends.run import settle_records
from yibao.core.money import floor_fen, round_fen
from yibao.runtime.results import outcome_to_json

UPSTREAM = {"基本医保": "8000.00", "大病保险": "2000.00"}


def burden(claim_id: str, person: str, date: str, identity: str, amount: str) -> dict:
    in_scope = Decimal(amount) + 10000
    return claim(claim_id, person, date, [identity], f"{in_scope:.2f}", UPSTREAM)


EDGE = "低保边缘家庭成员"
ILL = "因病致贫重病患者"
CLAIMS = [
    # The deductible's edge, 基本救助 60% above 2,000: C 1,999.99 and 2,000.00 pay 0;
    # 2,000.01 pays round(0.006) = 0.01; then C 3,000.01: round(600.006) − 0.01 = 600.00.
    # 倾斜救助's C stays below 3,000 (1,999.99 + 0 + 0 + 400.00).
    burden("q1", "p-q", "2023-01-10", EDGE, "1999.99"),
    burden("q2", "p-q", "2023-02-10", EDGE, "0.01"),
    burden("q3", "p-q", "2023-03-10", EDGE, "0.01"),
    burden("q4", "p-q", "2023-04-10", EDGE, "1000.00"),
    # Half up at half a fen, 50% above 5,000: G(5,000.01) = 0.005 → 0.01; G(5,000.02) =
    # 0.01, so the second claim pays 0.00 (alone it would round 0.005 up to 0.01);
    # G(5,000.03) = 0.015 → 0.02, so the third pays 0.01.
    burden("r1", "p-r", "2023-01-10", ILL, "5000.01"),
    burden("r2", "p-r", "2023-02-10", ILL, "0.01"),
    burden("r3", "p-r", "2023-03-10", ILL, "0.01"),
    # The cap reached inside a claim.  s1: 基本救助 min(20,000, 50% × 55,000) = 20,000 (its
    # cap, inside the first claim); 倾斜救助 on 40,000: 50% × 30,000 = 15,000.  s2: 基本救助's
    # room is 0; 倾斜救助's C 40,000 → 60,000: 25,000 − 15,000 = 10,000, of which 5,000 is
    # left of its 20,000 cap.  s3: both caps reached, nothing.
    burden("s1", "p-s", "2023-01-10", ILL, "60000.00"),
    burden("s2", "p-s", "2023-02-10", ILL, "20000.00"),
    burden("s3", "p-s", "2023-03-10", ILL, "1000.00"),
]

# claim → (基本救助, 倾斜救助, total paid, personal burden, alerts)
EXPECTED = {
    "q1": ("0.00", "0.00", "10000.00", "1999.99", []),
    "q2": ("0.00", "0.00", "10000.00", "0.01", []),
    "q3": ("0.01", "0.00", "10000.01", "0.00", []),
    "q4": ("600.00", "0.00", "10600.00", "400.00", []),
    "r1": ("0.01", "0.00", "10000.01", "5000.00", []),
    "r2": ("0.00", "0.00", "10000.00", "0.01", []),
    "r3": ("0.01", "0.00", "10000.01", "0.00", []),
    # §(八): 因病致贫重病患者 are watched by 因病致贫风险 at 20,000 (居民医保): s1's burden
    # is 70,000 − 45,000 = 25,000.
    "s1": ("20000.00", "15000.00", "45000.00", "25000.00", ["因病致贫风险"]),
    "s2": ("0.00", "5000.00", "15000.00", "15000.00", ["因病致贫风险"]),
    "s3": ("0.00", "0.00", "10000.00", "1000.00", ["因病致贫风险"]),
}


def _figures(outcomes) -> dict:
    return {o["claim_id"]: (o["payouts"]["基本救助"], o["payouts"]["倾斜救助"],
                            o["total_paid"], o["personal_burden"], o["alerts"])
            for o in outcomes}


def test_the_scalar_evaluator_agrees_with_the_hand_figures(benxi_engine):
    outcomes = [outcome_to_json(o, trace=False) for o in evaluate_claims(benxi_engine, CLAIMS)]
    assert _figures(outcomes) == EXPECTED


def test_the_columnar_engine_settles_the_kinks_as_worked_by_hand(benxi_engine):
    outcomes = settle_records(benxi_engine, CLAIMS, "columnar")
    assert _figures(outcomes) == EXPECTED
    assert {o["identity"] for o in outcomes} == {EDGE, ILL}


def test_every_op_has_an_array_implementation(benxi_engine):
    """Adding an Op to compiler/graph.py without settling it over arrays fails here."""
    from yibao.backends.columnar.engine import ArraySettlement
    from yibao.backends.columns import ClaimColumns
    from yibao.compiler.graph import Op
    from yibao.compiler.lower import lower_policy

    settlement = ArraySettlement(lower_policy(benxi_engine.policy),
                                 ClaimColumns.of(benxi_engine.versions))
    assert settlement.ops == frozenset(Op)


# ---- the arithmetic over int64 fen ------------------------------------------------------
RATES = ["0.5", "0.6", "0.7", "0.75", "0.85", "0.333", "0.0125", "1"]


@pytest.mark.parametrize("rate", RATES)
def test_times_rate_then_round_is_round_fen_of_the_exact_product(rate):
    """Every amount from 0 to 100 yuan by the fen, and around 10^12 yuan (the largest a
    claim may carry), times the rate, rounded half up: the Decimal rule of
    core/money.py to the fen, ties (x.5 fen) included."""
    exact = Decimal(rate)
    ar = ArrayArithmetic(exact.as_integer_ratio()[1])
    amounts = np.concatenate([np.arange(0, 10_001, dtype=np.int64),
                              np.arange(10**14 - 1000, 10**14 + 1, dtype=np.int64)])
    rounded = ar.round(ar.times_rate(amounts, exact))
    floored = ar.floor(ar.times_rate(amounts, exact))
    for fen, got, down in zip(amounts.tolist(), rounded.tolist(), floored.tolist()):
        product = Decimal(fen) / 100 * exact
        assert Decimal(got) / 100 == round_fen(product), (fen, rate)
        assert Decimal(down) / 100 == floor_fen(product), (fen, rate)


def test_half_a_fen_rounds_up():
    """The ties themselves: 1 fen × 50% = 0.5 fen → 1; 3 fen × 50% = 1.5 → 2; 5 fen × 70%
    = 3.5 → 4; 1 fen × 0.5% = 0.005 fen → 0."""
    half = ArrayArithmetic(10)
    assert half.round(half.times_rate(np.array([1, 3, 5]), Decimal("0.5"))).tolist() == [1, 2, 3]
    assert half.round(half.times_rate(np.array([5]), Decimal("0.7"))).tolist() == [4]
    small = ArrayArithmetic(1000)
    assert small.round(small.times_rate(np.array([1, 100]), Decimal("0.005"))).tolist() == [0, 1]


# ---- the int64 bound --------------------------------------------------------------------
def test_fits_int64_bounds_the_largest_figure():
    assert fits_int64(10**14, 10**3, 40)            # 4 × 10^18 < 2^62 ≈ 4.6 × 10^18
    assert not fits_int64(10**14, 10**6, 40)        # 4 × 10^21 > 2^62
    assert fits_int64(10**7, 10**6, 2_000)          # 2 × 10^16: synthetic claims at 10^6


@pytest.mark.parametrize("fmt, past_bound", [("jsonl", True), ("parquet", True),
                                              ("parquet", False)])
def test_numpy_settles_within_the_int64_bound_and_duckdb_past_it(
        benxi_engine, tmp_path, monkeypatch, fmt, past_bound):
    """Past the bound NumPy would wrap silently: DuckDB's statement settles the window
    path instead (it refuses an overflow), with the same outcomes.  JSON Lines goes
    through DuckDB's admission, Parquet through the typed path (read by pyarrow,
    admitted by masks), which checks the same bound before the engine runs and hands
    the whole batch to DuckDB past it; within it the engine settles the kinks itself."""
    from yibao.backends.formats import write_records

    path = tmp_path / f"claims.{fmt}"
    write_records(CLAIMS, str(path), fmt, benxi_engine.versions)
    if past_bound:
        monkeypatch.setattr(columnar_runner, "INT64_ROOM", 1000)
    runner = ColumnarRunner(benxi_engine)
    outcomes = list(runner.run(str(path), fmt).exchange())
    assert runner.fallback is past_bound
    assert _figures(outcomes) == EXPECTED


@pytest.mark.parametrize("table_most", [None, 0])
def test_a_claim_needing_the_open_bed_day_amount_is_refused_as_the_scalar_path_does(
        benxi_engine, monkeypatch, table_most):
    """Benxi §(五) leaves 精神障碍床日定额救助's per-bed-day amount for 特困人员, 孤儿 and
    低保对象 to another document: a 住院 claim with a mental disorder holding one of
    them needs it and is refused C311 naming that identity; one holding none, or not
    for a mental disorder, is settled.  The columnar engine answers each (version,
    identity profile, visit, COVERS conditions) once (prepare._c311); ``table_most`` 0
    asks every claim instead.  Both refuse what the scalar path refuses, word for word."""
    from yibao.backends.columnar import prepare

    if table_most is not None:
        monkeypatch.setattr(prepare, "C311_TABLE_MOST", table_most)
    upstream = {"基本医保": "100.00", "大病保险": "0.00"}
    claims = [
        claim("m1", "p-m1", "2023-03-01", ["孤儿"], "500.00", upstream, mental_disorder=True,
              bed_days=3),
        claim("m2", "p-m2", "2023-03-01", ["低保对象"], "500.00", upstream,
              mental_disorder=True, bed_days=3),
        claim("m3", "p-m3", "2023-03-01", ["孤儿", "低保对象"], "500.00", upstream,
              mental_disorder=True, bed_days=3),
        claim("m4", "p-m4", "2023-03-01", [EDGE], "500.00", upstream, mental_disorder=True,
              bed_days=3),
        claim("m5", "p-m5", "2023-03-01", ["孤儿"], "500.00", upstream, mental_disorder=False),
    ]
    columnar = settle_records(benxi_engine, claims, "columnar", "parquet")
    scalar = [{name: value for name, value in outcome_to_json(outcome).items()
               if name != "trace"} for outcome in evaluate_claims(benxi_engine, claims)]
    refused = {o["claim_id"]: o for o in columnar if "error" in o}
    assert sorted(refused) == ["m1", "m2", "m3"]
    assert {o["error"] for o in refused.values()} == {"C311"}
    assert "定额标准 for 孤儿 is unspecified" in refused["m1"]["message"]
    assert "定额标准 for 低保对象 is unspecified" in refused["m2"]["message"]
    assert columnar == scalar


# ---- settle_typed, the one entry point for a typed table -----------------------------------
def test_settle_typed_puts_the_readers_refusals_at_their_positions(benxi_engine, tmp_path):
    """A reader that refused records already passes them by input position; the table's
    rows take the other positions, in order, and keep their own line numbers."""
    import pyarrow.parquet as pq

    from yibao.backends.formats import write_records
    from yibao.runtime.claims import ClaimError

    path = tmp_path / "claims.parquet"
    write_records(CLAIMS[:3], str(path), "parquet", benxi_engine.versions)
    refused = {0: ClaimError("C300", None, None, "not JSON", "fix the line", 2),
               2: ClaimError("C300", None, None, "not JSON", "fix the line", 5)}
    batch = ColumnarRunner(benxi_engine).settle_typed(pq.read_table(path), [3, 4, 7], refused)
    outcomes = list(batch.exchange())
    assert batch.count == 5
    assert [o.get("claim_id") or o["line"] for o in outcomes] == [2, "q1", 5, "q2", "q3"]
    assert batch.results.column("idx").to_pylist() == [1, 3, 4]
    assert _figures(o for o in outcomes if "payouts" in o) == {
        name: EXPECTED[name] for name in ("q1", "q2", "q3")}
    with pytest.raises(ValueError):
        ColumnarRunner(benxi_engine).settle_typed(pq.read_table(path), [3, 4], {})


def test_a_run_takes_turns_at_the_interpreter_briefly_and_gives_the_setting_back(
        benxi_engine, tmp_path):
    """While the engine runs, its threads hand the interpreter over every 0.5 ms
    (typed.SWITCH_INTERVAL), not Python's 5; after the run, and after a run that
    fails, the process's own setting is back."""
    import sys

    import pyarrow.parquet as pq

    from yibao.backends.formats import write_records

    path = tmp_path / "claims.parquet"
    write_records(CLAIMS, str(path), "parquet", benxi_engine.versions)
    seen = []
    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.004)
        ColumnarRunner(benxi_engine).settle_typed(
            pq.read_table(path), range(len(CLAIMS)), {},
            lambda stage: seen.append(sys.getswitchinterval()))

        def fail(stage):
            raise RuntimeError(stage)

        with pytest.raises(RuntimeError):
            ColumnarRunner(benxi_engine).settle_typed(pq.read_table(path), range(len(CLAIMS)),
                                                      {}, fail)
        assert sys.getswitchinterval() == pytest.approx(0.004)
    finally:
        sys.setswitchinterval(before)
    assert seen and seen == [pytest.approx(0.0005)] * len(seen)


@pytest.mark.parametrize("lists, slice_from, entries, rows", [
    ([["低保对象", "孤儿"], [], ["未知"]], 0, [2, 1, -1], [0, 0, 2]),
    ([["孤儿"], ["特困人员"], [], ["低保对象", "孤儿"]], 1, [0, 2, 1], [0, 2, 2]),  # a slice
    ([["孤儿"], None, ["低保对象"]], 0, [1, 2], [0, 2]),                     # a null list
])
@pytest.mark.parametrize("dictionary", [False, True])
def test_a_list_chunks_entries_and_their_rows(lists, slice_from, entries, rows, dictionary):
    """admit._entries: each identity of a claim's list as its index among the names
    (-1 unknown) and the claim's row in the chunk, as Arrow's list_flatten and
    list_parent_indices give them, spread from the offsets when no list is null."""
    import pyarrow as pa

    from yibao.backends.columnar.admit import _entries

    element = pa.dictionary(pa.int32(), pa.string()) if dictionary else pa.string()
    chunk = pa.array(lists, pa.list_(element)).slice(slice_from)
    found, parents = _entries(chunk, ("特困人员", "孤儿", "低保对象"))
    assert found.tolist() == entries
    assert parents.tolist() == rows


# ---- reading: repeated text as dictionaries, copies found without hashing ---------------------
def test_repeated_text_read_as_dictionaries_is_admitted_by_the_masks(benxi_engine, tmp_path):
    """parquet_claims.read_parquet reads scheme, visit and the identities as dictionaries,
    so that each distinct value is checked once; the masks must admit those rows themselves (a
    dictionary column taken for a non-text one would send every row to the validator)
    with the values of the plain strings: 住院 and 居民医保 on every claim, each claim's
    one identity (q: 低保边缘家庭成员, r and s: 因病致贫重病患者)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from yibao.backends import parquet_claims
    from yibao.backends.columnar.admit import admit
    from yibao.backends.formats import write_records
    from yibao.dsl.model import SCHEMES, VISITS

    path = tmp_path / "claims.parquet"
    # two claims a row group: the masks read the chunks in place, never concatenated
    write_records(CLAIMS, str(path), "parquet", benxi_engine.versions)
    pq.write_table(pq.read_table(path), path, row_group_size=2)
    table = parquet_claims.read_parquet(str(path))
    for name in ("scheme", "visit"):
        assert pa.types.is_dictionary(table.schema.field(name).type)
    assert pa.types.is_dictionary(table.schema.field("identities").type.value_type)
    assert table.column("visit").num_chunks == 5
    runner = ColumnarRunner(benxi_engine)
    count = len(CLAIMS)
    admitted = admit(benxi_engine, runner.columns, table, np.arange(count), np.arange(count) + 1)
    assert admitted.suspects == 0 and admitted.errors == {}
    assert admitted.admitted.all()
    assert admitted.visit.tolist() == [VISITS.index("住院")] * count
    assert admitted.scheme.tolist() == [SCHEMES.index("居民医保")] * count
    held = {name: admitted.arrays[f"has_{i}"].tolist()
            for i, name in enumerate(runner.columns.identities)}
    assert held[EDGE] == [True] * 4 + [False] * 6
    assert held[ILL] == [False] * 4 + [True] * 6
    assert admitted.arrays["in_scope_fen"].tolist()[:2] == [1_199_999, 1_000_001]


def test_a_dictionary_value_that_is_not_known_is_refused_on_its_rows(benxi_engine, tmp_path):
    """A dictionary's value is checked once for all its rows: an unknown visit (急诊) and a
    missing one are refused on each row holding them, as the scalar path refuses them."""
    from yibao.backends.formats import read_records, write_records

    claims = [dict(c) for c in CLAIMS[:4]]
    claims[1]["visit"] = "急诊"
    claims[3]["visit"] = "急诊"
    del claims[2]["visit"]
    path = tmp_path / "claims.parquet"
    write_records(claims, str(path), "parquet", benxi_engine.versions)
    scalar = [outcome_to_json(o, trace=False)
              for o in benxi_engine.evaluate_records(read_records(str(path), "parquet"))]
    settled = list(ColumnarRunner(benxi_engine).run(str(path), "parquet").exchange())
    assert settled == scalar
    assert [("error" in o) for o in settled] == [False, True, True, True]


@pytest.mark.parametrize("chunks, ascending", [
    ([["a-1", "a-2", "b-1"]], True),
    ([["a-1", "a-2"], ["a-3"]], True),
    ([["a-1", "a-2"], ["a-2"]], False),      # a copy across the chunks' boundary
    ([["a-2", "a-1"]], False),
    ([["a-1", None, "a-3"]], False),
    ([[]], True),
])
def test_ids_in_ascending_order_hold_no_copy(chunks, ascending):
    """C312 hashes every claim id only when the ids are not strictly ascending."""
    import pyarrow as pa

    from yibao.backends.columnar.typed import _ascending

    assert _ascending(pa.chunked_array(chunks, pa.string())) is ascending


@pytest.mark.parametrize("day, year", [
    ("2023-01-01", 2023), ("2023-12-31", 2023), ("2024-02-29", 2024), ("2024-12-31", 2024),
    ("1969-12-31", 1969), ("1970-01-01", 1970), ("0001-01-01", 1), ("9999-12-31", 9999)])
def test_the_year_of_a_day_is_looked_up_as_numpy_converts_it(day, year):
    """admit.years looks a file's days up once each; the person-year is the calendar
    year of the claim's date (docs/specification.md, year-to-date figures)."""
    from yibao.backends.columnar.admit import years

    days = np.array([np.datetime64(day, "D").astype(np.int64)] * 2)
    assert years(days).tolist() == [year, year]
    # beside the days of 2023, as in one file (and a span of millennia, converted each)
    assert years(np.append(days, 19358)).tolist() == [year, year, 2023]


@pytest.mark.parametrize("largest", [0, 3, 60_000, 2**32 - 1, 2**40, 2**51 - 1, 2**51, 2**62])
def test_the_packed_order_is_numpys_stable_order(largest):
    """typed.stable_order packs each key above its position (13 bits for 5,000 keys):
    keys below 2^51 are sorted packed, wider ones by np.argsort; both are NumPy's stable
    order, equal keys in their given order."""
    from yibao.backends.columnar.typed import stable_order

    keys = np.random.default_rng(largest).integers(0, largest + 1, 5_000)
    keys[:3] = largest
    assert stable_order(keys).tolist() == np.argsort(keys, kind="stable").tolist()
    assert stable_order(keys[:1]).tolist() == [0]
    assert stable_order(keys[:0]).tolist() == []


@pytest.mark.parametrize("largest, span", [(0, 1), (3, 2), (60_000, 365), (2**40, 366),
                                           (2**44, 3 * 365), (2**50, 366), (2**62, 10)])
def test_the_claims_order_is_by_key_then_date_then_position(largest, span):
    """typed._claim_order: the window path's claims by (route and person-year key, date,
    input position), as np.lexsort orders them (ties in input order), the date packed
    below the key where both fit beside the positions, and over days that are not in
    order (in order, a stable sort by the key alone)."""
    from yibao.backends.columnar.typed import _claim_order

    rng = np.random.default_rng(largest + span)
    keys = rng.integers(0, largest + 1, 5_000)
    keys[:3] = largest
    days = rng.integers(19_358, 19_358 + span, 5_000).astype(np.int32)
    days[:2] = 19_358 + span - 1        # the same key and date: input order decides
    assert _claim_order(keys, days).tolist() == np.lexsort((days, keys)).tolist()
    ordered = np.sort(days)
    assert _claim_order(keys, ordered).tolist() == np.lexsort((ordered, keys)).tolist()


def test_rows_are_taken_batch_by_batch_as_arrow_takes_them():
    """typed.take_rows: the rows of a table whose columns are chunked unevenly (a text
    column as a dictionary), the same as Arrow's take of the whole table."""
    import pyarrow as pa

    from yibao.backends.columnar.typed import take_rows

    ids = pa.chunked_array([["a", "b", "c"], ["d", "e"], ["f"]])
    visits = pa.chunked_array([pa.array(["住院", "门诊", "住院", "住院"]).dictionary_encode(),
                               pa.array(["门诊", None]).dictionary_encode()])
    table = pa.table({"claim_id": ids, "visit": visits})
    for rows in ([], [0], [2, 3], [0, 3, 4, 5], [5], list(range(6))):
        taken = take_rows(table, np.array(rows, dtype=np.int64))
        assert taken.to_pylist() == table.take(pa.array(rows, pa.int64())).to_pylist()
        assert taken.schema == table.schema


def test_the_int64_bound_is_asked_of_the_rows_settled_alone(benxi_engine):
    """ColumnarRunner.fits(arrays, where): the window path's claims are settled where they
    lie among all the admitted rows, so the bound is asked of their rows alone (a walked
    or refused row's amount is not the window path's), by magnitude, negative amounts
    included.  Benxi's largest factor is below 40, so one claim of 10^17 fen fits
    (40 × 10^17 < 2^62 ≈ 4.6 × 10^18) and one of 10^18 does not."""
    runner = ColumnarRunner(benxi_engine)
    assert runner.factor < 40
    arrays = {"idx": np.arange(3), "version": np.zeros(3, dtype=np.int32),
              "total_fen": np.array([100, 10**18, 10**17]),
              "in_scope_fen": np.array([-10**18, 0, 10**17]),
              "thr_0": np.array([2**62, 2**62, 2**62])}   # a threshold is no amount
    assert runner.fits(arrays, np.array([False, False, True]))
    assert not runner.fits(arrays, np.array([False, True, False]))
    assert not runner.fits(arrays, np.array([True, False, False]))   # |−10^18|
    assert not runner.fits(arrays)


@pytest.mark.parametrize("people", [[3, 1, 4, 1, 5], [6], [1, 1, 1], []])
def test_a_running_sum_starts_again_at_each_person_year(people):
    """ClaimArrays.running: SUM(...) OVER (PARTITION BY py ORDER BY ord), each
    person-year's claims summed from its first, for an array and for a constant."""
    from yibao.backends.columnar.engine import ClaimArrays

    py = np.repeat(np.arange(len(people)), people).astype(np.int64)
    claims = ClaimArrays({}, np.zeros(len(py), dtype=np.int8), [], py)
    values = np.arange(1, len(py) + 1, dtype=np.int64) * 7
    by_hand, constant = [], []
    for count in people:
        first = len(by_hand)
        by_hand += [int(values[first:first + i + 1].sum()) for i in range(count)]
        constant += [5 * (i + 1) for i in range(count)]
    assert claims.running(values).tolist() == by_hand
    assert claims.running(5).tolist() == constant


@pytest.mark.parametrize("people", [[3, 1, 4, 1, 5], [1, 1, 1], [6]])
def test_a_running_sum_over_claims_in_another_order_is_put_back_at_each_claim(people):
    """ClaimArrays ``order``: the window path keeps a block's claims in input order, and
    a running sum is summed in (person-year, claim order) order and put back where each
    claim lies.  The claims here lie shuffled; each one's sum is its person-year's
    values up to it in the sorted order, by hand."""
    from yibao.backends.columnar.engine import ClaimArrays

    py = np.repeat(np.arange(len(people)), people).astype(np.int64)   # sorted order
    lie = np.random.default_rng(7).permutation(len(py))   # sorted claim j lies at lie[j]
    sorted_values = np.arange(1, len(py) + 1, dtype=np.int64) * 7
    values = np.empty_like(sorted_values)
    values[lie] = sorted_values
    claims = ClaimArrays({}, np.zeros(len(py), dtype=np.int8), [], py, lie)
    by_hand = np.empty_like(values)
    first = 0
    for count in people:
        for i in range(count):
            by_hand[lie[first + i]] = sorted_values[first:first + i + 1].sum()
        first += count
    assert claims.running(values).tolist() == by_hand.tolist()


def test_each_block_lies_in_input_order_over_the_rows_it_sorted():
    """runner.block_layout: a block's rows, in ascending order, take the block's own
    [lo, hi) of the layout, and ``order`` finds each sorted claim there."""
    from yibao.backends.columnar.runner import block_layout

    rows = np.array([9, 2, 5, 0, 7, 3, 8])   # sorted by (route, person-year, claim order)
    blocks = [(0, 3), (3, 4), (4, 7)]
    layout, order = block_layout(rows, blocks, 10)
    assert layout.tolist() == [2, 5, 9, 0, 3, 7, 8]
    assert layout[order].tolist() == rows.tolist()
    for lo, hi in blocks:
        assert sorted(order[lo:hi] - lo) == list(range(hi - lo))


def test_a_window_block_lets_each_value_go_only_after_its_last_reader(benxi_engine):
    """ArraySettlement._release_plan: a node's values are let go after the last node that
    reads them, and never those ``outputs`` reads (each line's final payout, the totals,
    the alerts and referrals)."""
    from yibao.backends.columnar.engine import ArraySettlement
    from yibao.compiler.lower import final_payout_id

    runner = ColumnarRunner(benxi_engine)
    for settlement in runner.settlements:
        settlement = ArraySettlement(settlement.graph, runner.columns)
        plan = [node for node, _ in settlement._plan]
        released = {name: i for i, names in enumerate(settlement._release_plan())
                    for name in names}
        for i, node in enumerate(plan):
            for _, source in node.inputs:   # kept to the end, or released after i
                assert released.get(source, len(plan)) >= i, (source, node.id)
        policy = settlement.policy
        for line in policy.lines:
            assert final_payout_id(policy, line.name) not in released
        assert not {"total_paid", "personal_burden"} & set(released)
        assert not {name for name in released if name.endswith((".alert", ".referral"))}
        assert len(released) > len(plan) // 2   # most values go before the block ends


@pytest.mark.parametrize("direct", [12, 0])
def test_each_claims_alert_thresholds_are_the_notices(benxi_engine, monkeypatch, direct):
    """Benxi §(八): 因病返贫风险 watches 低保对象 (and the other assistance groups) at 5,000;
    因病致贫风险 every other insured person, 2万 under 居民医保 and 5万 under 职工医保; a
    claim outside an alert's group, or not admitted (version -1), has no threshold (-1).
    prepare._threshold answers each (version, scheme, identity profile) once; a claim
    takes its profile's answer (scheme_profile_key).  ``direct`` 0: the profiles
    numbered as found (a policy of more identities than DIRECT_PROFILES), not by their
    bits."""
    from yibao.backends.columnar import prepare
    from yibao.backends.columnar.prepare import _profiles, _threshold, scheme_profile_key
    from yibao.dsl.model import SCHEMES

    monkeypatch.setattr(prepare, "DIRECT_PROFILES", direct)

    runner = ColumnarRunner(benxi_engine)
    columns = runner.columns
    rows = [  # (version, scheme, identity)
        (0, "居民医保", "低保对象"), (0, "职工医保", "低保对象"), (0, "居民医保", ILL),
        (0, "职工医保", ILL), (0, "居民医保", None), (0, "职工医保", None), (-1, "居民医保", None)]
    version = np.array([v for v, _, _ in rows], dtype=np.int32)
    codes = np.array([SCHEMES.index(scheme) for _, scheme, _ in rows], dtype=np.int8)
    has = [np.array([identity == name for _, _, identity in rows])
           for name in columns.identities]

    profile, held_by = _profiles(has)
    key = scheme_profile_key(version, codes, len(SCHEMES), profile, len(held_by[0]))

    def thresholds(alert: str) -> list[int]:
        return _threshold(columns, runner.settlements, list(SCHEMES), held_by,
                          len(held_by[0]), alert)[key].tolist()

    assert thresholds("因病返贫风险") == [500_000, 500_000, -1, -1, -1, -1, -1]
    assert thresholds("因病致贫风险") == [-1, -1, 2_000_000, 5_000_000, 2_000_000, 5_000_000, -1]


@pytest.mark.parametrize("chunks", [
    [["p-000001", "p-000002"], ["p-000001", "p-000003", "p-000002"]],   # 8 bytes: one key each
    [["张三", "李四"], ["张三"]],                                         # 6 bytes of UTF-8
    [["a", "b", "a"], [], ["c", "b"]],
    [["ab", "abc", "ab"]],                                                # widths differ: hashed
    [["ab", None, "ab"]],                                                 # a missing id: -1
    [["p-0000001", "p-0000002", "p-0000001"]],                            # 9 bytes: hashed
    [["a\x00", "a", "a\x00"]],
])
def test_person_codes_are_equal_exactly_when_the_ids_are(chunks):
    """typed._codes: ids of one width of at most 8 bytes are coded by their bytes as one
    integer; whichever way, two rows share a code exactly when they share an id, and a
    missing id is -1 (the person-years are the ids' own)."""
    import pyarrow as pa

    from yibao.backends.columnar.typed import _codes

    table = pa.table({"person_id": pa.chunked_array(chunks, pa.string())})
    ids = [value for chunk in chunks for value in chunk]
    codes = _codes(table, "person_id").tolist()
    assert [code == -1 for code in codes] == [value is None for value in ids]
    for i, (first, code) in enumerate(zip(ids, codes)):
        for second, other in zip(ids[i:], codes[i:]):
            if first is not None and second is not None:
                assert (first == second) == (code == other)


@pytest.mark.parametrize("layout_of", ["block_layout", "_block_layout_by_id"])
@pytest.mark.parametrize("size, chunk", [(1, 4), (50, 4), (5_000, 300), (5_000, 1 << 18)])
def test_a_blocks_rows_lie_in_ascending_order_and_order_finds_each_claim(layout_of, size, chunk):
    """runner.block_layout (packed in 64-bit numbers) and the block-id sort it falls back
    on: each block takes the same [lo, hi) of ``layout`` as of the sorted rows, its rows
    ascending there, and ``order`` is where each sorted claim went."""
    rng = np.random.default_rng(size + chunk)
    rows = rng.permutation(size)[: max(1, size * 9 // 10)]   # the window path's rows
    routes = np.sort(rng.integers(0, 3, len(rows)))
    py = np.sort(rng.integers(0, max(1, len(rows) // 3), len(rows)))
    blocks = columnar_runner._blocks(routes, py, chunk)
    layout, order = getattr(columnar_runner, layout_of)(rows, blocks, size)
    for lo, hi in blocks:
        assert layout[lo:hi].tolist() == sorted(rows[lo:hi].tolist())
    assert layout[order].tolist() == rows.tolist()
    assert layout.dtype == order.dtype == np.int64


def test_the_candidates_names_are_taken_at_their_codes_and_minus_one_is_null():
    """typed._names_at: the results' ``cand`` column from the engine's codes (-1: no
    identity chosen, NULL as the DuckDB results statement gives it)."""
    from yibao.backends.columnar.typed import _names_at

    names = ["特困人员", "低保对象"]
    assert _names_at(np.array([1, 0, -1, 1], dtype=np.int32), names).to_pylist() == [
        "低保对象", "特困人员", None, "低保对象"]
    assert _names_at(np.array([0, 0], dtype=np.int32), names).null_count == 0
    assert _names_at(np.zeros(0, dtype=np.int32), names).to_pylist() == []


def test_the_signatures_number_equal_columns_alike_in_their_order():
    """prepare.numbered_columns: equal (route, thresholds) columns get one number, and
    the numbers follow the columns' values, route first, as the window path's blocks
    (one route each) want them: a route past one byte (version 1's, 1000 + k) included,
    where np.unique(axis=1) compares the columns' bytes."""
    from yibao.backends.columnar.prepare import numbered_columns

    # the columns (1001, 50), (2, 7), (1001, 40), (256, 7), (2, 7), (1001, 50): in order
    # (2, 7) 0, (256, 7) 1, (1001, 40) 2, (1001, 50) 3
    table = np.array([[1001, 2, 1001, 256, 2, 1001],
                      [50, 7, 40, 7, 7, 50]], dtype=np.int64)
    assert numbered_columns(table).tolist() == [3, 0, 2, 1, 0, 3]
    assert numbered_columns(np.zeros((2, 0), dtype=np.int64)).tolist() == []


@pytest.mark.parametrize("name", compiled_policies())
def test_blocks_gathered_in_sorted_order_or_laid_out_give_the_same_figures(
        name, tmp_path, monkeypatch):
    """A window path of up to SORTED_GATHER_UP_TO claims gathers each block's columns in
    the sorted order itself; a larger one lays each block out in input order
    (block_layout) and puts its running sums back through ``order``.  20,000 synthetic
    claims of each policy, with and without presumed winners: every output column and
    refusal is the same both ways."""
    from yibao.backends.formats import write_records
    from yibao.backends.synthetic import synthetic_claims

    engine = load_engine(POLICIES / f"{name}.policy")
    path = tmp_path / "claims.parquet"
    write_records(list(synthetic_claims(engine.loaded, 20_000, seed=7)), str(path), "parquet",
                  engine.versions)
    batches = []
    for sorted_up_to in (columnar_runner.SORTED_GATHER_UP_TO, 0):
        monkeypatch.setattr(columnar_runner, "SORTED_GATHER_UP_TO", sorted_up_to)
        for presume in (True, False):
            runner = ColumnarRunner(engine)
            runner.presume = presume
            batches.append(runner.run(str(path), "parquet"))
    first = batches[0]
    for batch in batches[1:]:
        assert batch.results.equals(first.results)
        assert {i: e.to_json() for i, e in batch.errors.items()} == {
            i: e.to_json() for i, e in first.errors.items()}
