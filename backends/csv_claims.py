"""CSV claims as the columnar engine's typed table, with no SQL.

The scalar path reads a CSV row as backends/formats.py's ``_read_csv`` does: an
empty cell is an absent field, ``identities`` is ``;``-joined names (an empty cell:
none), the five texts stay text, and any other cell is typed as JSON would type
it — ``true``/``false`` a boolean, a whole number a number, anything else text.
Here Arrow's multi-threaded CSV reader reads every cell as text, and each row
becomes a row of the flat typed table (backends/jsonl_claims.flat_schema) when its
cells hold there what the scalar reader makes of them:

- text fields, and money written with a fraction (``"130.94"``), as text;
- a declared bool field's ``true``/``false`` as a boolean, a count's digits as
  int64 (at most 18 of them);
- identities split at ``;``, empty names dropped.

A row with any other cell — a money cell that is a whole number or a boolean
(the scalar reader makes it a number or a boolean, which the table's text column
cannot say), a field cell of the wrong kind, a cell in a column the policy does
not know — is judged here by the validator from the record the scalar reader
builds (``formats.csv_record``): refused, or written into the table as a flat
row of the values it read (jsonl_claims.careful_rows).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from yibao.backends.columns import ClaimColumns
from yibao.backends.jsonl_claims import TypedClaims, careful_rows, flat_schema
from yibao.backends.typed_dates import iso_dates

TEXT_COLUMNS = ("claim_id", "person_id", "date", "scheme", "visit")
# A money cell the scalar reader types as a number or a boolean, not as text
TYPED_OTHERWISE = "^(?:[0-9]+|true|false)$"
COUNT = "^[0-9]{1,18}$"


def read_typed_claims(engine, columns: ClaimColumns, path: str) -> TypedClaims:
    """The CSV file at ``path`` as a TypedClaims (the header is line 1)."""
    from yibao.backends.duckdb_io import read_csv_text

    text = read_csv_text(path, empty_as_null=True)
    count = text.num_rows
    schema = flat_schema(columns)
    careful = np.zeros(count, dtype=bool)
    known = set(schema.names)
    for name in text.column_names:
        if name not in known and name not in ("idx", "line_number"):
            careful |= _filled(pc.is_valid(text.column(name)))
    kinds = columns.field_types()
    arrays = []
    for field in schema:
        cells = text.column(field.name).combine_chunks() if field.name in text.column_names \
            else None
        if cells is None:
            arrays.append(pa.nulls(count, field.type))
            continue
        value, odd = _typed(field, cells, kinds.get(field.name))
        careful |= odd
        arrays.append(value)
    table = pa.Table.from_arrays(arrays, schema=schema)
    numbers = text.column("line_number").to_numpy()
    heard = np.flatnonzero(careful)
    records = [(int(position), int(numbers[position]), _record(row))
               for position, row in zip(heard.tolist(), text.take(pa.array(heard)).to_pylist())]
    kept = np.flatnonzero(~careful)
    if len(heard):   # most files have none: the table as read, not a copy
        table = table.take(pa.array(kept))
    return careful_rows(engine, columns, table, kept, numbers, records)


def _record(row: dict):
    """The scalar reader's record of a CSV row (formats._read_csv)."""
    from yibao.backends.formats import suspect_record

    return suspect_record("csv", {name: value for name, value in row.items()
                                  if name not in ("idx", "line_number")})


def _filled(mask) -> np.ndarray:
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _typed(field, cells, declared):
    """(the column's values in the flat table, a NumPy mask of the rows whose cell the
    table cannot hold as the scalar reader reads it).  ``cells``: text, NULL where empty."""
    present = _filled(pc.is_valid(cells))
    name = field.name
    if name == "identities":   # an empty cell: no identity (not a missing field)
        return _names(pc.fill_null(cells, "")), np.zeros(len(cells), dtype=bool)
    if name == "date":
        dates, held = iso_dates(cells)
        return dates, ~held
    if name in TEXT_COLUMNS:
        return cells, np.zeros(len(cells), dtype=bool)
    kind = declared.type if declared is not None else "money"
    if kind == "bool":
        odd = present & ~_filled(pc.is_in(cells, pa.array(["true", "false"])))
        return pc.equal(cells, "true"), odd
    if kind == "count":
        whole = _filled(pc.match_substring_regex(cells, COUNT))
        digits = pc.if_else(pa.array(whole), cells, pa.scalar(None, pa.string()))
        return pc.cast(digits, pa.int64()), present & ~whole
    # money: text with a fraction; a whole number or a boolean is typed otherwise (one
    # pass of one expression: two kernels and a union cost twice as much)
    return cells, _filled(pc.match_substring_regex(cells, TYPED_OTHERWISE))


def _names(cells):
    """``;``-joined names → list<string>, empty names dropped (an empty cell: [])."""
    split = pc.split_pattern(cells, ";")
    names = split.flatten()
    keep = np.asarray(pc.greater(pc.binary_length(names), 0).to_numpy(zero_copy_only=False),
                      dtype=bool)
    parents = pc.list_parent_indices(split).to_numpy()
    counts = np.bincount(parents[keep], minlength=len(cells))
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), names.filter(pa.array(keep)))
