"""backends/parquet_decimals.py decodes a Parquet file's money columns to the
very values pyarrow reads, on every layout pyarrow's writer makes (dictionary or plain
pages, falling back from one to the other, data pages v1 and v2, each codec, fixed
bytes or integers, nulls), and hands any layout it does not know back to pyarrow."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings, strategies as st

from yibao.backends import parquet_decimals
from yibao.backends.parquet_claims import read_parquet

LAYOUTS = [
    {},                                                   # the claims files' own: snappy, dictionary, v1
    {"compression": "none"},
    {"compression": "gzip"},
    {"compression": "zstd"},
    {"compression": "brotli"},
    {"data_page_version": "2.0"},
    {"data_page_version": "2.0", "compression": "none"},
    {"use_dictionary": False},
    {"dictionary_pagesize_limit": 64},                    # dictionary pages, then plain ones
    {"data_page_size": 256, "write_batch_size": 16},       # many small pages
    {"store_decimal_as_integer": True},                   # int64 (or int32) pages
    {"store_decimal_as_integer": True, "use_dictionary": False},
    {"write_statistics": False},
]


def _money(unscaled: list[int | None], precision: int = 18, scale: int = 2) -> pa.Array:
    return pa.array([None if v is None else Decimal(v).scaleb(-scale) for v in unscaled],
                    pa.decimal128(precision, scale))


def _written(tmp_path, columns: dict, **options):
    path = tmp_path / "claims.parquet"
    pq.write_table(pa.table(columns), path, row_group_size=options.pop("row_group_size", 500),
                   **options)
    return str(path)


def _decoded(path: str, name: str) -> pa.ChunkedArray:
    """A column through parquet_decimals alone (no fallback), as decimal128."""
    metadata = pq.read_metadata(path)
    schema = metadata.schema
    arrow_schema = pq.read_schema(path)
    assert parquet_decimals.decodable(schema, arrow_schema, name)
    at = parquet_decimals.leaf(schema, name)
    kind = arrow_schema.field(name).type
    with open(path, "rb") as source:
        chunks = [parquet_decimals.read_column(source, metadata, schema.column(at), i, at, kind)
                  for i in range(metadata.num_row_groups)]
    assert all(pa.types.is_decimal64(chunk.type) for chunk in chunks)
    return pa.chunked_array(chunks).cast(kind)


@pytest.mark.parametrize("options", LAYOUTS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items())
                         or "default")
def test_every_layout_of_the_writer_decodes_to_pyarrows_values(tmp_path, options):
    """1,300 amounts of which few repeat (a claims file's: the dictionary holds nearly
    every row), with nulls, zeros, negatives and the largest of 18 digits, in 3 row
    groups; the values and the nulls are pyarrow's own."""
    rng = np.random.default_rng(28)
    values: list[int | None] = rng.integers(0, 10**9, 1300).tolist()
    values[:6] = [0, -1, 10**18 - 1, -(10**18) + 1, 1, -123456]
    for at in rng.choice(1300, 40, replace=False).tolist():
        values[at] = None
    repeated = [v % 7 - 3 for v in rng.integers(0, 10**6, 1300).tolist()]   # a short dictionary
    path = _written(tmp_path, {"total_cost": _money(values), "paid.基本医保": _money(repeated),
                               "small": _money(repeated, precision=5, scale=1)}, **options)
    for name in ("total_cost", "paid.基本医保", "small"):
        assert _decoded(path, name).equals(pq.read_table(path).column(name))


def test_a_file_of_no_claims_holds_a_row_group_of_no_rows(tmp_path):
    """pyarrow writes an empty table as one row group of 0 rows: its chunk is empty."""
    path = _written(tmp_path, {"total_cost": _money([])})
    assert pq.read_metadata(path).num_row_groups == 1
    assert _decoded(path, "total_cost").to_pylist() == []
    assert read_parquet(path).column("total_cost").to_pylist() == []


def test_a_column_of_nulls_and_a_column_without_nulls(tmp_path):
    path = _written(tmp_path, {"none": _money([None] * 700),
                               "all": pa.array([Decimal("1.00")] * 700, pa.decimal128(18, 2))})
    assert _decoded(path, "none").null_count == 700
    assert _decoded(path, "all").to_pylist() == [Decimal("1.00")] * 700


@pytest.mark.parametrize("bits", range(1, 33))
def test_bit_packed_runs_of_every_width(bits):
    """The hybrid's bit-packed runs unpacked at each width: value j of a group of eight
    at bits j·w … (j+1)·w − 1, least significant first (parquet-format's Encodings.md);
    runs of one size found at once, then a shorter last run and a repeated one."""
    rng = np.random.default_rng(bits)
    values = rng.integers(0, 1 << bits, 8 * 70, dtype=np.uint64)
    encoded = bytearray()
    for lo, groups in ((0, 30), (240, 30), (480, 10)):
        encoded += _uleb((groups << 1) | 1)
        for group in range(groups):
            word = 0
            for j in range(8):
                word |= int(values[lo + group * 8 + j]) << (j * bits)
            encoded += word.to_bytes(bits, "little")
    encoded += _uleb(5 << 1) + (7 % (1 << bits)).to_bytes((bits + 7) // 8, "little")
    expected = values.tolist() + [7 % (1 << bits)] * 5
    decoded = parquet_decimals._hybrid(memoryview(bytes(encoded)), bits, len(expected))
    assert decoded.tolist() == expected


def _uleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(values=st.lists(st.one_of(st.none(), st.integers(-(10**18) + 1, 10**18 - 1),
                                 st.integers(0, 20)), min_size=1, max_size=300),
       group=st.integers(1, 120), options=st.sampled_from(LAYOUTS))
def test_any_amounts_in_any_layout_read_as_pyarrow_reads_them(tmp_path_factory, values, group,
                                                              options):
    path = _written(tmp_path_factory.mktemp("p"), {"total_cost": _money(values)},
                    row_group_size=group, **options)
    assert _decoded(path, "total_cost").equals(pq.read_table(path).column("total_cost"))


def test_a_layout_not_decoded_here_is_read_by_pyarrow(tmp_path):
    """Int64 amounts in DELTA_BINARY_PACKED pages (an encoding parquet_decimals leaves to
    pyarrow), a decimal of 20 digits (past int64) and LZ4 pages are read by pyarrow:
    read_parquet's table holds the file's values, column by column."""
    amounts = [1234, None, 5, 10**17]
    path = _written(tmp_path, {"total_cost": _money(amounts), "wide": _money(amounts, 20)},
                    store_decimal_as_integer=True, use_dictionary=False,
                    column_encoding={"total_cost": "DELTA_BINARY_PACKED"})
    metadata = pq.read_metadata(path)
    at = parquet_decimals.leaf(metadata.schema, "total_cost")
    with open(path, "rb") as source, pytest.raises(parquet_decimals.Unsupported):
        parquet_decimals.read_column(source, metadata, metadata.schema.column(at), 0, at,
                                     pa.decimal128(18, 2))
    assert not parquet_decimals.decodable(metadata.schema, pq.read_schema(path), "wide")
    table = read_parquet(path)
    assert table.column("total_cost").to_pylist() == [Decimal("12.34"), None, Decimal("0.05"),
                                                      Decimal("1000000000000000.00")]
    assert table.column("wide").equals(pq.read_table(path).column("wide"))
    # LZ4: pyarrow's metadata names the Hadoop framing and the raw block alike
    path = _written(tmp_path, {"total_cost": _money(amounts)}, compression="lz4")
    with open(path, "rb") as source, pytest.raises(parquet_decimals.Unsupported):
        parquet_decimals.read_column(source, pq.read_metadata(path),
                                     pq.read_metadata(path).schema.column(0), 0, 0,
                                     pa.decimal128(18, 2))
    assert read_parquet(path).column("total_cost").to_pylist() == [
        Decimal("12.34"), None, Decimal("0.05"), Decimal("1000000000000000.00")]


def test_read_parquet_holds_the_files_values_in_its_columns_order(tmp_path):
    """The money columns decoded here beside the others read by pyarrow: the table's
    columns in the file's order, each column's values the file's."""
    path = _written(tmp_path, {"claim_id": ["a", "b", "c"], "total_cost": _money([100, 250, None]),
                               "visit": ["住院", "门诊", "住院"], "in_scope_cost": _money([1, 2, 3])})
    table = read_parquet(path)
    assert table.column_names == ["claim_id", "total_cost", "visit", "in_scope_cost"]
    assert pa.types.is_decimal64(table.schema.field("total_cost").type)
    expected = pq.read_table(path)
    for name in ("claim_id", "total_cost", "in_scope_cost"):
        assert table.column(name).to_pylist() == expected.column(name).to_pylist()
    assert table.column("visit").to_pylist() == ["住院", "门诊", "住院"]


def test_money_read_into_one_buffer_is_admitted_without_a_copy():
    """admit.money: a decimal64 column of fen whose chunks lie end to end in one buffer
    (read_parquet's) is its own fen array, read-only, with no copy; a column with a
    null, or chunks apart, is converted as before (0 where a value is not money)."""
    from yibao.backends.columnar.admit import money

    values = np.array([100, 250, 0, 10**13], dtype=np.int64)

    def chunk(part: np.ndarray, valid=None) -> pa.Array:
        bitmap = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
        nulls = 0 if valid is None else int((~valid).sum())
        return pa.Array.from_buffers(pa.decimal64(18, 2), len(part),
                                     [bitmap, pa.py_buffer(part)], null_count=nulls)

    whole = pa.chunked_array([chunk(values[:1]), chunk(values[1:])])
    fen, exact, present = money(whole, 4)
    assert fen.tolist() == [100, 250, 0, 10**13] and exact.all() and present.all()
    assert np.shares_memory(fen, values) and not fen.flags.writeable
    apart = pa.chunked_array([chunk(values[:1].copy()), chunk(values[1:].copy())])
    fen, exact, _ = money(apart, 4)
    assert fen.tolist() == [100, 250, 0, 10**13] and not np.shares_memory(fen, values)
    nulled = pa.chunked_array([chunk(values, np.array([True, False, True, True]))])
    fen, exact, present = money(nulled, 4)
    assert fen.tolist() == [100, 0, 0, 10**13] and present.tolist() == [True, False, True, True]
    negative = pa.chunked_array([chunk(np.array([5, -1], dtype=np.int64))])
    fen, exact, _ = money(negative, 2)
    assert fen.tolist() == [5, 0] and exact.tolist() == [True, False]
