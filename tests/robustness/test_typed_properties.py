"""The columnar engine's typed path refuses and settles hostile Parquet as the scalar
evaluator does (issue 28 item 1).

``ColumnarRunner.run`` on a Parquet file admits it with masks over the typed columns
(backends/columnar/admit.py) and sends only the rows a mask flags to the validator:
a mask that let through a row the scalar path refuses would settle a claim that
should be refused, with no error anywhere.  So for every policy that loads, a
random batch is written as Parquet and spoiled cell by cell, at the edges of what
the masks admit on their own — nulls in any column, negative money, money at the
10^12-yuan bound, in-scope above total, upstream payouts past their bound, an
unknown or repeated identity, an unknown visit or scheme, a date before the
policy, an id with a space or an invisible character, a count out of range, a
repeated claim id, a column the policy does not know — with money columns typed
decimal(18,2), decimal(18,3), decimal(38,2), int64 or text and the date date32 or
text.  The scalar evaluator reads the same file (formats.read_records) and every
claim's outcome must be identical, refusals included (code, field, message, hint,
line).
"""

from __future__ import annotations

import datetime
import functools
import pathlib
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from robustness.claim_space import batches, loadable_engines
from robustness.profiles import scaled
from yibao.api import outcome_to_json
from yibao.backends.columnar.runner import ColumnarRunner
from yibao.backends.formats import flat_columns, parquet_row, read_records, record_to_flat

ENGINES = loadable_engines()
POLICIES = pytest.mark.parametrize("name", sorted(ENGINES))
MONEY_TYPES = {"decimal(18,2)": pa.decimal128(18, 2), "decimal(18,3)": pa.decimal128(18, 3),
               "decimal(38,2)": pa.decimal128(38, 2), "int64": pa.int64(), "text": pa.string()}
SPOILS = ("null", "negative", "bound", "above_total", "upstream", "unknown_identity",
          "repeated_identity", "visit", "scheme", "early", "spaced_id", "invisible_id",
          "count", "copy", "unknown_column")


@functools.cache
def runner(name: str) -> ColumnarRunner:
    return ColumnarRunner(ENGINES[name])


@pytest.fixture(scope="module")
def directory(tmp_path_factory) -> pathlib.Path:
    return tmp_path_factory.mktemp("typed-properties")


def _rows(engine, batch: list[dict]) -> tuple[list[dict], list[tuple[str, str]]]:
    layout = flat_columns(engine.versions)
    return [parquet_row(record_to_flat(record), layout) for record in batch], layout


def _spoil(draw, row: dict, rows: list[dict], layout, kind: str) -> None:
    money = [name for name, column in layout if column == "money"]
    if kind == "null":
        row[draw(st.sampled_from([name for name, _ in layout]))] = None
    elif kind == "negative":
        row[draw(st.sampled_from(money))] = Decimal("-0.01")
    elif kind == "bound":
        row[draw(st.sampled_from(money))] = draw(st.sampled_from(
            [Decimal("999999999999.99"), Decimal("1000000000000.00")]))
    elif kind == "above_total":
        row["in_scope_cost"] = (row["total_cost"] or Decimal(0)) + Decimal("0.01")
    elif kind == "upstream":
        upstream = [name for name in money if name.startswith("paid.")]
        if upstream:
            row[draw(st.sampled_from(upstream))] = (row["in_scope_cost"] or 0) + Decimal("0.01")
    elif kind == "unknown_identity":
        row["identities"] = list(row["identities"] or []) + ["某某人员"]
    elif kind == "repeated_identity" and row["identities"]:
        row["identities"] = list(row["identities"]) + [row["identities"][0]]
    elif kind == "visit":
        row["visit"] = draw(st.sampled_from(["急诊", "", " 住院"]))
    elif kind == "scheme":
        row["scheme"] = draw(st.sampled_from(["城镇职工", "新农合", ""]))
    elif kind == "early":
        row["date"] = datetime.date(1999, 12, 31)
    elif kind in ("spaced_id", "invisible_id"):
        which = draw(st.sampled_from(["claim_id", "person_id"]))
        added = ([" ", " x", "\u00a0"] if kind == "spaced_id"
                 else ["\u200b", "\ufeff", "e\u0301", "ｃ", "张"])
        row[which] = (row[which] or "") + draw(st.sampled_from(added))
    elif kind == "count":
        counts = [name for name, column in layout if column == "count"]
        if counts:
            row[draw(st.sampled_from(counts))] = draw(st.sampled_from([-1, 100_001, 100_000]))
    elif kind == "copy":
        row["claim_id"] = draw(st.sampled_from(rows))["claim_id"]
    elif kind == "unknown_column":
        row["extra"] = "x"


def _schema(layout, money_type, date_type) -> pa.Schema:
    kinds = {"text": pa.string(), "names": pa.list_(pa.string()), "bool": pa.bool_(),
             "count": pa.int64(), "money": money_type, "date": date_type}
    return pa.schema([(name, kinds[kind]) for name, kind in layout])


def _typed(value, kind):
    """A cell as the column's type takes it (whole yuan for an int64 money column: the
    fen are dropped, as a system writing yuan would)."""
    if value is None:
        return None
    if pa.types.is_integer(kind) and isinstance(value, Decimal):
        return int(value)
    if pa.types.is_string(kind) and isinstance(value, (Decimal, datetime.date)):
        return str(value)
    return value


@POLICIES
@scaled(0.5)
@given(data=st.data())
def test_typed_parquet_is_refused_and_settled_as_the_scalar_evaluator_does(
        name, data, directory):
    engine = ENGINES[name]
    batch = data.draw(batches(engine, people=(1, 5), per_person=(1, 5)), label="batch")
    rows, layout = _rows(engine, batch)
    for _ in range(data.draw(st.integers(0, 4), label="spoiled")):
        row = data.draw(st.sampled_from(rows), label="row")
        _spoil(data.draw, row, rows, layout, data.draw(st.sampled_from(SPOILS), label="spoil"))
    money_type = MONEY_TYPES[data.draw(st.sampled_from(sorted(MONEY_TYPES)), label="money")]
    date_type = data.draw(st.sampled_from([pa.date32(), pa.string()]), label="date")
    schema = _schema(layout, money_type, date_type)
    if any("extra" in row for row in rows):
        schema = schema.append(pa.field("extra", pa.string()))
    table = pa.table({field.name: pa.array([_typed(row.get(field.name), field.type)
                                            for row in rows], field.type)
                      for field in schema}, schema=schema)
    path = directory / "hostile.parquet"
    # row groups of a few rows: the masks read each chunk in place, the walk takes its rows
    # batch by batch (typed.take_rows)
    pq.write_table(table, path, row_group_size=data.draw(st.sampled_from([None, 2, 3]),
                                                           label="row group"))
    scalar = [outcome_to_json(o, trace=False)
              for o in engine.evaluate_records(read_records(str(path), "parquet"))]
    settled = list(runner(name).run(str(path), "parquet").exchange())
    assert len(settled) == len(scalar)
    for position, (want, got) in enumerate(zip(scalar, settled)):
        assert got == want, (f"{name}, claim {position + 1}: row {rows[position]}\n"
                             f"  scalar:   {want}\n  columnar: {got}")
    event("some refused" if any("error" in outcome for outcome in scalar) else "all settled")


@POLICIES
def test_an_empty_parquet_file_has_no_outcome(name, directory):
    engine = ENGINES[name]
    layout = flat_columns(engine.versions)
    path = directory / "empty.parquet"
    pq.write_table(_schema(layout, pa.decimal128(18, 2), pa.date32()).empty_table(), path)
    batch = runner(name).run(str(path), "parquet")
    assert batch.count == 0 and list(batch.exchange()) == []


@POLICIES
def test_nulls_in_every_column_are_refused_as_the_scalar_evaluator_refuses_them(
        name, directory):
    """Each column null on one claim in turn: every such claim but those whose null is an
    absent optional field is refused, with the scalar path's words."""
    engine = ENGINES[name]
    layout = flat_columns(engine.versions)
    schema = _schema(layout, pa.decimal128(18, 2), pa.date32())
    rows = []
    for index, (column, _) in enumerate(layout):
        row = {name: None for name, _ in layout}
        row.update({"claim_id": f"c-{index}", "person_id": f"p-{index}",
                    "date": engine.versions[-1].effective, "identities": [],
                    "scheme": engine.versions[-1].schemes[0], "visit": "住院",
                    "total_cost": Decimal("100.00"), "in_scope_cost": Decimal("80.00")})
        row.update({name: Decimal(0) for name, kind in layout
                    if name.startswith("paid.") and kind == "money"})
        row[column] = None
        rows.append(row)
    path = directory / "nulls.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema), path)
    scalar = [outcome_to_json(o, trace=False)
              for o in engine.evaluate_records(read_records(str(path), "parquet"))]
    assert any("error" in outcome for outcome in scalar)   # claim_id null, at least
    assert list(runner(name).run(str(path), "parquet").exchange()) == scalar


@pytest.mark.parametrize("text", ["2023-02-30", "2023-04-31", "2023-2-01", "2023-02-01T00:00"])
def test_a_text_date_that_is_not_a_date_as_written_is_refused(text, directory):
    """Arrow's strptime reads 2023-02-30 as 2023-03-02; the scalar path refuses it
    (C302). A text date is admitted only when it is the ISO text of the date read."""
    engine = ENGINES["benxi-2023"]
    layout = flat_columns(engine.versions)
    schema = _schema(layout, pa.decimal128(18, 2), pa.string())
    good = {name: None for name, _ in layout}
    good.update({"claim_id": "c-1", "person_id": "p-1", "date": "2023-03-01",
                 "identities": ["特困人员"], "scheme": engine.versions[-1].schemes[0],
                 "visit": "住院",
                 "total_cost": Decimal("5000.00"), "in_scope_cost": Decimal("4000.00"),
                 "paid.基本医保": Decimal("2000.00"), "paid.大病保险": Decimal("0.00"),
                 "in_province": True})
    bad = dict(good, claim_id="c-2", date=text)
    path = directory / "text-dates.parquet"
    pq.write_table(pa.Table.from_pylist([good, bad], schema), path)
    scalar = [outcome_to_json(o, trace=False)
              for o in engine.evaluate_records(read_records(str(path), "parquet"))]
    assert "error" not in scalar[0], scalar[0]
    assert (scalar[1]["error"], scalar[1]["field"]) == ("C302", "date")
    assert list(runner("benxi-2023").run(str(path), "parquet").exchange()) == scalar
