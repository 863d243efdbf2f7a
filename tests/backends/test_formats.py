"""The same claims in JSON Lines, CSV and Parquet settle to the same outcomes."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from yibao.backends.formats import read_records, write_records
from yibao.backends.results_io import write_results
from yibao.backends.synthetic import synthetic_claims
from yibao.runtime.results import outcome_to_json


def _settle(engine, path, fmt):
    return [outcome_to_json(o, trace=False)
            for o in engine.evaluate_records(read_records(str(path), fmt))]


def test_every_format_reads_the_same_claims(benxi_engine, tmp_path):
    claims = list(synthetic_claims(benxi_engine.loaded, 800, seed=6))
    outcomes = {}
    for fmt in ("jsonl", "csv", "parquet"):
        path = tmp_path / f"claims.{fmt}"
        write_records(claims, str(path), fmt, benxi_engine.versions)
        outcomes[fmt] = [{k: v for k, v in o.items() if k != "line"}
                         for o in _settle(benxi_engine, path, fmt)]
    assert outcomes["csv"] == outcomes["jsonl"] == outcomes["parquet"]


def test_a_csv_cell_is_typed_as_json_would_type_it(benxi_engine, tmp_path):
    """Empty identities is no identity; true/false are booleans; money stays exact text."""
    path = tmp_path / "claims.csv"
    path.write_text(
        "claim_id,person_id,date,identities,scheme,visit,total_cost,in_scope_cost,"
        "paid.基本医保,paid.大病保险,referred\n"
        "c1,p1,2023-03-01,,居民医保,住院,1000.10,1000.10,100.00,0.00,true\n", encoding="utf-8")
    [(number, record)] = list(read_records(str(path), "csv"))
    assert number == 2 and record["identities"] == [] and record["referred"] is True
    assert record["total_cost"] == "1000.10" and record["paid"]["基本医保"] == "100.00"


def test_parquet_results_are_flat_and_exact(benxi_engine, tmp_path):
    claims = list(synthetic_claims(benxi_engine.loaded, 200, seed=8))
    jsonl = tmp_path / "claims.jsonl"
    write_records(claims, str(jsonl), "jsonl", benxi_engine.versions)
    outcomes = _settle(benxi_engine, jsonl, "jsonl")
    out = tmp_path / "results.parquet"
    assert write_results(outcomes, str(out), "parquet", benxi_engine.versions) == 200
    table = pq.read_table(out)
    assert "payout.基本救助" in table.column_names
    first = next(o for o in outcomes if "payouts" in o)
    row = table.to_pylist()[outcomes.index(first)]
    assert f"{row['payout.基本救助']:.2f}" == first["payouts"]["基本救助"]
    assert f"{row['total_paid']:.2f}" == first["total_paid"]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_unknown_flat_columns_are_refused(benxi_engine, tmp_path, fmt):
    """A column the policy does not declare is an unknown field (C306), as in JSON."""
    claims = list(synthetic_claims(benxi_engine.loaded, 3, seed=1))
    claims[1]["hospital"] = "市医院"
    path = tmp_path / f"claims.{fmt}"
    import pyarrow as pa

    if fmt == "csv":
        write_records(claims, str(path), fmt, benxi_engine.versions)
        text = path.read_text(encoding="utf-8").splitlines()
        rows = [text[0] + ",hospital"] + [line + ("," + ("市医院" if i == 1 else ""))
                                          for i, line in enumerate(text[1:])]
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    else:
        write_records(claims, str(path), fmt, benxi_engine.versions)
        table = pq.read_table(path)
        table = table.append_column("hospital", pa.array([None, "市医院", None]))
        pq.write_table(table, path)
    codes = [o.get("error") for o in _settle(benxi_engine, path, fmt)]
    assert codes[1] == "C306" and codes[0] is None and codes[2] is None
