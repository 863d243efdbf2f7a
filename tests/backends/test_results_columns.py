"""Results written column by column are the results written row by row.

``yibao eval --backend duckdb|spark`` writes its JSON Lines and Parquet results
through backends/results_columns.py; ``BatchResults.exchange()`` (one dict a
claim, docs/claims.md) is the reference it must equal: byte for byte for JSON
Lines, value for value for Parquet, refusals in their input positions.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from helpers import POLICIES, claim, compiled_policies
from yibao.api import load_engine
from yibao.backends import results_columns
from yibao.backends.formats import write_records
from yibao.backends.results_columns import (money_decimal, money_text, results_table,
                                            write_jsonl, write_parquet)
from yibao.backends.results_io import write_results
from yibao.backends.run import run_backend
from yibao.backends.synthetic import synthetic_claims
from yibao.core.money import format_money

BAD_LINES = ['{"claim_id": "broken", ', '{"claim_id": "no-fields"}', "[1, 2]"]


def _settle(engine, records: list, tmp_path):
    """``records`` (dicts, or raw lines) as a JSON Lines file through DuckDB."""
    path = tmp_path / "claims.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        for record in records:
            out.write((record if isinstance(record, str)
                       else json.dumps(record, ensure_ascii=False)) + "\n")
    return run_backend(engine, str(path), "jsonl", "duckdb")


def _row_by_row_jsonl(batch) -> str:
    return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in batch.exchange())


def _row_by_row_parquet(batch, engine, tmp_path) -> pa.Table:
    path = tmp_path / "rows.parquet"
    write_results(batch.exchange(), str(path), "parquet", engine.versions)
    return pq.read_table(path)


def _columnar_jsonl(batch) -> str:
    out = io.BytesIO()
    assert write_jsonl(batch, out) == batch.count
    return out.getvalue().decode("utf-8")


@pytest.fixture(scope="module", params=compiled_policies())
def mixed_batch(request, tmp_path_factory):
    """Synthetic claims of every compiled policy, with bad lines first, among them and
    last, and a claim id given twice (C312)."""
    engine = load_engine(POLICIES / f"{request.param}.policy")
    claims = list(synthetic_claims(engine.loaded, 3_000, seed=9))
    records = [BAD_LINES[0], *claims[:1_500], BAD_LINES[1], claims[10],
               *claims[1_500:], BAD_LINES[2]]
    batch = _settle(engine, records, tmp_path_factory.mktemp(request.param))
    assert len(batch.errors) >= 4 and len(batch.results) >= 1_500   # Jiamusi refuses C311
    return engine, batch


def test_json_lines_are_byte_for_byte_the_row_by_row_lines(mixed_batch, monkeypatch):
    engine, batch = mixed_batch
    expected = _row_by_row_jsonl(batch)
    assert _columnar_jsonl(batch) == expected
    # Chunks that start and end next to refusals write the same bytes.
    monkeypatch.setattr(results_columns, "TEXT_CHUNK", 97)
    assert _columnar_jsonl(batch) == expected


@pytest.mark.parametrize("ahead, cores", [(1, 1), (2, 1), (3, 2)])
def test_json_lines_and_parquet_whatever_the_threads(mixed_batch, tmp_path, monkeypatch,
                                                     ahead, cores):
    """Chunks built ahead on one thread or several, on one core or two, are written in
    input order: the same bytes, the same table."""
    from yibao.backends import threads

    engine, batch = mixed_batch
    expected = _row_by_row_jsonl(batch)
    monkeypatch.setattr(results_columns, "AHEAD", ahead)
    monkeypatch.setattr(threads, "cores", lambda: cores)
    monkeypatch.setattr(results_columns, "TEXT_CHUNK", 389)
    monkeypatch.setattr(results_columns, "CHUNK", 389)
    assert _columnar_jsonl(batch) == expected
    assert results_table(batch).equals(_row_by_row_parquet(batch, engine, tmp_path))


def test_json_lines_to_a_file_are_gathered_into_few_writes(mixed_batch, tmp_path,
                                                          monkeypatch):
    """To a file (a descriptor), a chunk's runs of lines and the refusals between them go
    out in os.writev calls of up to GATHERED pieces, not a write each; a writev that
    takes only part of them (a pipe) is carried on from the byte it stopped at."""
    import os

    engine, batch = mixed_batch
    expected = _row_by_row_jsonl(batch).encode("utf-8")
    calls = []
    gathered = os.writev

    def writev(fileno, views):
        calls.append(len(views))
        return gathered(fileno, views)

    monkeypatch.setattr(os, "writev", writev)
    path = tmp_path / "results.jsonl"
    with open(path, "wb") as out:
        out.write(b"")   # nothing buffered is lost or reordered
        assert write_jsonl(batch, out) == batch.count
    assert path.read_bytes() == expected
    # ≈ 2 pieces a refusal (its line, the run after it), GATHERED a call; one chunk of
    # results (3,000 claims), then the refusals after the last result
    assert sum(calls) >= len(batch.errors) and max(calls) <= results_columns.GATHERED
    assert len(calls) <= 2 + sum(calls) // results_columns.GATHERED

    def stingy(fileno, views):   # at most 50 bytes a call, across the pieces' ends
        text = b"".join(bytes(view) for view in views)[:50]
        return os.write(fileno, text)

    monkeypatch.setattr(os, "writev", stingy)
    monkeypatch.setattr(results_columns, "GATHERED", 3)
    monkeypatch.setattr(results_columns, "TEXT_CHUNK", 211)
    with open(path, "wb") as out:
        write_jsonl(batch, out)
    assert path.read_bytes() == expected

    monkeypatch.delattr(os, "writev")   # Windows: each piece through the file object
    with open(path, "wb") as out:
        write_jsonl(batch, out)
    assert path.read_bytes() == expected


def test_the_parquet_table_is_the_row_by_row_table(mixed_batch, tmp_path):
    engine, batch = mixed_batch
    table = results_table(batch)
    assert table.equals(_row_by_row_parquet(batch, engine, tmp_path))
    assert table.num_rows == batch.count


def _dictionary_encoded(path) -> set[str]:
    meta = pq.ParquetFile(path).metadata.row_group(0)
    return {meta.column(i).path_in_schema for i in range(meta.num_columns)
            if any("DICTIONARY" in encoding for encoding in meta.column(i).encodings)}


def test_both_parquet_writers_use_dictionaries_only_where_values_repeat(mixed_batch, tmp_path):
    """Ids, money and messages are written plain (a dictionary of nearly distinct values
    doubled the write time); policy, identity, alert and referral names and error codes
    are dictionary-encoded.  The row-by-row writer lays the file out the same way."""
    engine, batch = mixed_batch
    columnar = tmp_path / "columnar.parquet"
    write_parquet(batch, str(columnar))
    rows = tmp_path / "rows.parquet"
    write_results(batch.exchange(), str(rows), "parquet", engine.versions)
    expected = {"policy", "identity", "alerts.list.element", "referrals.list.element", "error",
                "error_field", "error_hint"}
    assert _dictionary_encoded(columnar) == expected
    assert _dictionary_encoded(rows) == expected
    assert pq.read_table(columnar).equals(pq.read_table(rows))


def test_both_parquet_writers_keep_statistics_only_where_a_reader_can_skip_by_them(
        mixed_batch, tmp_path):
    """Min/max statistics for the claim id, the policy and the error's code and field;
    none for amounts, identities, lists, messages and line numbers, which span their
    whole range in every row group (computing them was a quarter of the write)."""
    engine, batch = mixed_batch
    columnar = tmp_path / "columnar.parquet"
    write_parquet(batch, str(columnar))
    rows = tmp_path / "rows.parquet"
    write_results(batch.exchange(), str(rows), "parquet", engine.versions)
    for path in (columnar, rows):
        meta = pq.ParquetFile(path).metadata.row_group(0)
        with_statistics = {meta.column(i).path_in_schema for i in range(meta.num_columns)
                           if meta.column(i).is_stats_set}
        assert with_statistics == {"claim_id", "policy", "error", "error_field"}
    ids = [outcome["claim_id"] for outcome in batch.exchange()
           if outcome.get("claim_id") is not None]
    statistics = pq.ParquetFile(columnar).metadata.row_group(0).column(0).statistics
    assert (statistics.min, statistics.max) == (min(ids), max(ids))


def test_ids_that_json_escapes_and_claims_without_identity(tmp_path):
    engine = load_engine(POLICIES / "benxi-2023.policy")
    upstream = {"基本医保": "6000.00", "大病保险": "0.00"}
    # Not "本溪-①" nor ids with spaces: those are refused (C302, issue 21: ① reads as 1)
    ids = ['quote"d', "back\\slash", "本溪-壹", "tab-free-é-ü-𝄞", "plain"]
    records = [claim(claim_id, f"p-{n}", "2023-03-01", ["低保对象"] if n % 2 else [],
                     "20000.00", upstream) for n, claim_id in enumerate(ids)]
    batch = _settle(engine, records, tmp_path)
    text = _columnar_jsonl(batch)
    assert text == _row_by_row_jsonl(batch)
    assert [json.loads(line)["claim_id"] for line in text.splitlines()] == ids
    assert results_table(batch).equals(_row_by_row_parquet(batch, engine, tmp_path))


def test_a_batch_with_every_claim_refused(tmp_path):
    engine = load_engine(POLICIES / "benxi-2023.policy")
    batch = _settle(engine, BAD_LINES, tmp_path)
    assert len(batch.results) == 0
    text = _columnar_jsonl(batch)
    assert [json.loads(line)["error"] for line in text.splitlines()] == ["C300", "C301", "C300"]
    assert text == _row_by_row_jsonl(batch)
    assert results_table(batch).equals(_row_by_row_parquet(batch, engine, tmp_path))


def test_money_from_fen():
    fen = pa.array([0, 5, 99, 100, 1_205, 780_000, 99_999_999_999_999], pa.int64())
    assert money_text(fen).to_pylist() == [
        "0.00", "0.05", "0.99", "1.00", "12.05", "7800.00", "999999999999.99"]
    assert [str(d) for d in money_decimal(fen).to_pylist()] == [
        "0.00", "0.05", "0.99", "1.00", "12.05", "7800.00", "999999999999.99"]
    assert money_decimal(fen).type == pa.decimal128(18, 2)


@pytest.mark.parametrize("fen", [
    pa.array([0, 5, -5, None, 10**14, -(10**14), 10**18 - 1, -(10**18 - 1)], pa.int64()),
    pa.array([None, 1, None, -7, 8], pa.int64()).slice(1, 3),      # an offset into the bits
    pa.array([], pa.int64()),
    pa.array([1, 2_05], pa.int32()),
])
def test_money_decimal_is_arrows_cast(fen):
    """The decimals written word by word by NumPy are the ones Arrow's cast makes: the
    sign in the high word (-0.05, -10^12 yuan), nulls where the fen are null, a slice
    read from its offset."""
    made = money_decimal(fen)
    made.validate(full=True)
    assert made.equals(pc.cast(fen, pa.decimal128(19, 0)).view(pa.decimal128(18, 2)))


def test_money_text_at_the_edges_is_format_money():
    """Zero, amounts below a yuan, negative ones (no result holds one, but the text must
    not be "0.-5") and 10^15 fen (beyond MAX_AMOUNT) read as core/money writes them; a
    null stays null."""
    fen = [0, 1, 99, -1, -5, -99, -100, -1_205, 10**15, -10**15, None]
    assert money_text(pa.array(fen, pa.int64())).to_pylist() == [
        "0.00", "0.01", "0.99", "-0.01", "-0.05", "-0.99", "-1.00", "-12.05",
        "10000000000000.00", "-10000000000000.00", None]
    assert money_text(pa.array(fen, pa.int64())).to_pylist()[:-1] == [
        format_money(Decimal(amount) / 100) for amount in fen[:-1]]


@pytest.mark.parametrize("amount", [0, 7, -5, 10**15])
def test_one_amount_throughout_is_a_constant_of_the_text(amount):
    """A line no claim of a chunk reaches (0.00 in every row) is one text, folded into
    the constants around it; its text is still format_money's, row for row."""
    from yibao.backends.results_columns import money_pieces

    fen = pa.array([amount] * 3, pa.int64())
    assert money_pieces(fen) == [format_money(Decimal(amount) / 100)]
    assert money_text(fen).to_pylist() == [format_money(Decimal(amount) / 100)] * 3
    assert money_text(pa.array([amount, None], pa.int64())).to_pylist() == [
        format_money(Decimal(amount) / 100), None]


def test_side_by_side_lookups_are_one_piece_of_the_join(monkeypatch):
    """A sum's fen, the alerts and the referrals end every results line: three Lookups
    side by side (with the text between them) go to Arrow's join as one table of texts
    taken by index, the same text."""
    from yibao.backends.results_columns import Lookup, joined

    first = Lookup((".00", ".05"), np.array([1, 0, 1]))
    second = Lookup(('"alerts": []', '"alerts": ["x"]', '"alerts": ["y"]'), np.array([2, 0, 1]))
    widths = []
    join = results_columns.pc.binary_join_element_wise
    monkeypatch.setattr(results_columns.pc, "binary_join_element_wise",
                        lambda *pieces: widths.append(len(pieces) - 1) or join(*pieces))
    text = joined([pa.array(["1", "2", "3"]), first, '", ', second, "}"])
    assert text.to_pylist() == ['1.05", "alerts": ["y"]}', '2.00", "alerts": []}',
                                '3.05", "alerts": ["x"]}']
    assert widths == [2]


def test_few_valued_texts_are_written_as_json_dumps_writes_them():
    """The identity column (a few names, or null) is written from its distinct values:
    each as json.dumps writes it, a null as null, an escape where one is due."""
    from yibao.backends.results_columns import _json_few_strings, _json_strings

    values = pa.array([None, "特困人员", 'a"b', None, "back\\slash", "特困人员", "tab\there"])
    assert _json_few_strings(values).array().to_pylist() == [
        "null", '"特困人员"', '"a\\"b"', "null", '"back\\\\slash"', '"特困人员"',
        '"tab\\there"']
    assert _json_few_strings(values).array().equals(_json_strings(values))


def test_spark_results_write_the_same_files(spark, tmp_path):
    """Spark hands back its own Arrow types; the files are still the row-by-row ones
    (Jiamusi: two versions in one batch, C311 refusals among the results)."""
    engine = load_engine(POLICIES / "jiamusi-2022.policy")
    path = tmp_path / "claims.parquet"
    write_records(synthetic_claims(engine.loaded, 2_000, seed=5), str(path), "parquet",
                  engine.versions)
    batch = run_backend(engine, str(path), "parquet", "spark", spark=spark)
    assert len(batch.errors) > 0 and len(batch.results) > 1_000
    assert _columnar_jsonl(batch) == _row_by_row_jsonl(batch)
    assert results_table(batch).equals(_row_by_row_parquet(batch, engine, tmp_path))


def test_spark_batches_with_a_column_all_null(spark, tmp_path):
    """No claim holds an identity (``cand`` all NULL), or every claim is refused (every
    result column empty): Spark's rows still come back typed, and both files are
    written."""
    engine = load_engine(POLICIES / "benxi-2023.policy")
    upstream = {"基本医保": "6000.00", "大病保险": "0.00"}
    cases = {"nobody": [json.dumps(claim(f"n-{k}", f"p-{k}", "2023-03-01", [], "20000.00",
                                         upstream), ensure_ascii=False) for k in range(3)],
             "refused": BAD_LINES}
    for name, lines in cases.items():
        path = tmp_path / f"{name}.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        batch = run_backend(engine, str(path), "jsonl", "spark", spark=spark)
        assert _columnar_jsonl(batch) == _row_by_row_jsonl(batch)
        assert results_table(batch).equals(_row_by_row_parquet(batch, engine, tmp_path))


def test_a_policy_without_lines_writes_an_empty_payouts_object(tmp_path):
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "bare-2023.policy").write_text(
        'policy bare-2023 {\n    title "no lines"\n    effective 2023-01-01\n}\n'
        'clause §1 "x"\nidentity 低保对象 §1\n', encoding="utf-8")
    engine = load_engine(folder / "bare-2023.policy")
    record = claim("b-1", "p-1", "2023-03-01", ["低保对象"], "100.00", {})
    batch = _settle(engine, [record], tmp_path)
    text = _columnar_jsonl(batch)
    assert json.loads(text)["payouts"] == {} and text == _row_by_row_jsonl(batch)


def test_a_null_figure_is_an_error_not_a_missing_line(mixed_batch):
    engine, batch = mixed_batch
    results = batch.results
    column = results.column_names.index("total_paid")
    broken = results.set_column(column, "total_paid", pa.array(
        [None] + results.column("total_paid").to_pylist()[1:], pa.int64()))
    with pytest.raises(AssertionError, match="NULL"):
        _columnar_jsonl(attrs.evolve(batch, results=broken))


@pytest.mark.parametrize("key", [[], [0], [5, 3, 5, 0, 3], [1 << 16, 7, 1 << 16], [2, 1, 2] * 1000],
                         ids=["empty", "one", "small", "past-the-table", "repeated"])
def test_distinct_keys_are_numpys_unique(key):
    """The alert and referral lists are found per distinct key by counting, not sorting;
    past 2^16 the keys go to np.unique itself."""
    key = np.array(key, dtype=np.int64)
    distinct, index = results_columns._distinct_small(key)
    expected_distinct, expected_index = np.unique(key, return_inverse=True)
    assert distinct.tolist() == expected_distinct.tolist()
    assert index.tolist() == expected_index.tolist()
    assert distinct[index].tolist() == key.tolist()


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_the_bytes_json_escapes_are_found_in_any_slice(kind):
    """A quote, a backslash or a control character in a slice of the ids: the fast test
    of the bytes sees it where the values are (not in the buffer around the slice), and
    a text that is only multi-byte UTF-8 needs no escape."""
    from yibao.backends.results_columns import _escaped_bytes

    values = pa.array(['a"b', "plain", "c\\d", "好-é", "e\x01", "tail"], kind)
    expected = [True, False, True, False, True, False]
    for start in range(len(values)):
        for stop in range(start, len(values) + 1):
            assert _escaped_bytes(values.slice(start, stop - start)) == any(
                expected[start:stop]), (start, stop)
