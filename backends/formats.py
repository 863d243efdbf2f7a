"""Claims files in three formats: JSON Lines, CSV and Parquet.

JSON Lines is docs/claims.md's exchange format.  CSV and Parquet hold the same
claims *flat*, one column per field, so that columnar engines read them
directly:

==================  ===========================================  ==========================
column              CSV                                          Parquet
==================  ===========================================  ==========================
claim_id …          text                                         string
date                YYYY-MM-DD                                   date32 or string
identities          names joined by ``;`` (empty: none)          list<string>
total_cost, …       ``1234.50``                                  decimal(18,2) or string
paid.<line>         one column per upstream line                 as money
declared fields     ``true``/``false``, whole numbers, money     bool, int64, money
==================  ===========================================  ==========================

An empty cell (or a Parquet null) is an absent field.  Readers yield
``(line number, record)``: raw bytes for JSON Lines (decoded claim by claim,
exactly), a dict for CSV and Parquet, with money kept as text or Decimal so
that nothing passes through a float.  The line number is the file's line for
JSON Lines and CSV (the header is line 1) and the row number for Parquet.
"""

from __future__ import annotations

import csv
import datetime
import re
import sys
from decimal import Decimal
from typing import Iterable, Iterator

from yibao.core import jsonl
from yibao.dsl.model import Policy

FORMATS = ("jsonl", "csv", "parquet")
IDENTITY_SEPARATOR = ";"
MONEY_FIELDS = ("total_cost", "in_scope_cost")
_WHOLE = re.compile(r"[0-9]+")
PARQUET_BATCH = 65_536


def format_of(path: str, given: str | None = None) -> str:
    """The format named, or the one the file name says (default JSON Lines)."""
    if given:
        return given
    for name in FORMATS:
        if str(path).endswith("." + name):
            return name
    return "jsonl"


# ---- reading ----------------------------------------------------------------------
def read_records(path: str, fmt: str) -> Iterator[tuple[int, bytes | dict]]:
    if fmt == "jsonl":
        return jsonl.read_lines(path)
    if fmt == "csv":
        return _read_csv(path)
    if fmt == "parquet":
        return _read_parquet(path)
    raise ValueError(f"unknown claims format {fmt}")


def _read_csv(path: str) -> Iterator[tuple[int, dict]]:
    # utf-8-sig: a byte-order mark is not part of the first column's name (Excel writes
    # one); yibao eval has already made other encodings UTF-8 (backends/encodings.py)
    stream = sys.stdin if path == "-" else open(path, encoding="utf-8-sig", newline="")
    try:
        reader = csv.reader(stream)
        header = next(reader, None) or []
        for number, row in enumerate(reader, 2):
            cells = dict(zip(header, row))
            flat = {name: cell for name, cell in cells.items() if cell != ""}
            if "identities" in cells:   # an empty cell: no identity (not a missing field)
                flat.setdefault("identities", "")
            yield number, flat_to_record(flat, from_text=True)
    finally:
        if stream is not sys.stdin:
            stream.close()


def _read_parquet(path: str) -> Iterator[tuple[int, dict]]:
    import pyarrow.parquet as pq

    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=PARQUET_BATCH):
        columns = batch.schema.names
        values = [batch.column(i).to_pylist() for i in range(len(columns))]
        for row in zip(*values):
            number += 1
            yield number, flat_to_record(
                {name: value for name, value in zip(columns, row) if value is not None},
                from_text=False)


def flat_to_record(flat: dict, from_text: bool) -> dict:
    """A flat row → a claim record as JSON would give it (money never via float)."""
    record: dict = {}
    paid: dict = {}
    for name, value in flat.items():
        if name.startswith("paid."):
            paid[name[5:]] = _exact(value)
        elif name == "identities":
            record[name] = _identities(value, from_text)
        elif isinstance(value, (datetime.date, datetime.datetime)):
            record[name] = value.isoformat()
        elif from_text and name not in ("claim_id", "person_id", "date", "scheme", "visit"):
            record[name] = _typed_text(value)
        else:
            record[name] = _exact(value)
    if paid:
        record["paid"] = paid
    return record


def _identities(value, from_text: bool):
    if from_text:
        return [name for name in value.split(IDENTITY_SEPARATOR) if name]
    return list(value) if isinstance(value, (list, tuple)) else value


def _typed_text(text: str):
    """A CSV cell as JSON would type it: booleans, whole numbers; money stays text."""
    if text in ("true", "false"):
        return text == "true"
    if _WHOLE.fullmatch(text):
        return Decimal(text)
    return text


def _exact(value):
    if isinstance(value, float):   # never on the money path: keep its text for the validator
        return repr(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return value


# ---- writing ----------------------------------------------------------------------
def flat_columns(policies: Iterable[Policy]) -> list[tuple[str, str]]:
    """(column, kind) of the flat layout for claims of these policy versions."""
    columns = [("claim_id", "text"), ("person_id", "text"), ("date", "date"),
               ("identities", "names"), ("scheme", "text"), ("visit", "text"),
               ("total_cost", "money"), ("in_scope_cost", "money")]
    seen = {name for name, _ in columns}
    for policy in policies:
        extra = [(f"paid.{line.name}", "money") for line in policy.upstream_lines]
        extra += [(field.name, field.type) for field in policy.fields]
        for name, kind in extra:
            if name not in seen:
                seen.add(name)
                columns.append((name, kind))
    return columns


def record_to_flat(record: dict) -> dict:
    flat = {name: value for name, value in record.items() if name != "paid"}
    for line, amount in (record.get("paid") or {}).items():
        flat[f"paid.{line}"] = amount
    return flat


def write_records(records: Iterable[dict], path: str, fmt: str,
                  policies: Iterable[Policy]) -> int:
    """Write claims; returns how many.  CSV and Parquet use the policies' flat layout."""
    if fmt == "jsonl":
        return jsonl.write_file(records, path)
    columns = flat_columns(policies)
    if fmt == "csv":
        return _write_csv(records, path, columns)
    if fmt == "parquet":
        return _write_parquet(records, path, columns)
    raise ValueError(f"unknown claims format {fmt}")


def _write_csv(records, path: str, columns) -> int:
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([name for name, _ in columns])
        for record in records:
            flat = record_to_flat(record)
            writer.writerow([_cell(flat.get(name)) for name, _ in columns])
            count += 1
    return count


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return IDENTITY_SEPARATOR.join(value)
    return str(value)


_ARROW_KINDS = {"text": "string", "date": "date32", "names": "list<string>",
                "money": "decimal(18,2)", "bool": "bool", "count": "int64"}


def _arrow_type(kind: str):
    import pyarrow as pa

    return {"text": pa.string(), "date": pa.date32(), "names": pa.list_(pa.string()),
            "money": pa.decimal128(18, 2), "bool": pa.bool_(), "count": pa.int64()}[kind]


def _write_parquet(records, path: str, columns) -> int:
    import pyarrow as pa

    schema = pa.schema([(name, _arrow_type(kind)) for name, kind in columns])
    return write_parquet_rows((parquet_row(record_to_flat(r), columns) for r in records),
                              path, schema)


def write_parquet_rows(rows: Iterable[dict], path: str, schema, use_dictionary=True,
                       write_statistics=True) -> int:
    """Rows (dicts) to a Parquet file in batches, so memory stays bounded; returns how many.

    ``use_dictionary``, ``write_statistics``: pyarrow's options, all columns or the ones
    named."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    count = 0
    with pq.ParquetWriter(path, schema, use_dictionary=use_dictionary,
                          write_statistics=write_statistics) as writer:
        batch: list[dict] = []
        for row in rows:
            batch.append(row)
            count += 1
            if len(batch) == PARQUET_BATCH:
                writer.write_table(pa.Table.from_pylist(batch, schema))
                batch = []
        if batch or count == 0:
            writer.write_table(pa.Table.from_pylist(batch, schema))
    return count


def suspect_record(fmt: str, row: dict, raw: bytes | None = None):
    """A source row read back for the validator: the raw line, or the flat row's record."""
    if fmt == "jsonl":
        # DuckDB's raw line keeps its ending (duckdb_io.jsonl_table); the scalar reader's does not
        return raw if raw is not None else row["raw"].encode("utf-8").rstrip(b"\r\n")
    flat = {name: value for name, value in row.items()
            if value is not None and not (fmt == "csv" and value == "")}
    if fmt == "csv" and "identities" in row:   # an empty cell: no identity
        flat.setdefault("identities", "")
    return flat_to_record(flat, from_text=(fmt == "csv"))


def parquet_row(flat: dict, columns) -> dict:
    """A flat record's cells as a Parquet row of ``columns`` (flat_columns) takes them:
    money as Decimal, the date as a date."""
    row = {}
    for name, kind in columns:
        value = flat.get(name)
        if value is not None and kind == "money":
            value = Decimal(value)
        elif value is not None and kind == "date":
            value = datetime.date.fromisoformat(value)
        row[name] = value
    return row
