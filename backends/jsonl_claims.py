"""JSON Lines as the columnar engine's typed claims table, with no SQL.

``ColumnarRunner.settle_typed`` (backends/columnar/runner.py) settles a typed
Arrow table of claims in the flat layout of backends/formats.py, judging a row it
cannot admit on its own as the validator judges a Parquet row
(``formats.flat_to_record``).  This module turns a JSON Lines file into that table:

- the file is split into lines as the scalar reader splits it
  (duckdb_io.jsonl_table: blank lines skipped but counted);
- Arrow's strict JSON reader types the lines it can vouch for, on every core
  (backends/jsonl_typed.py); its ``paid`` object becomes one ``paid.<line>``
  column per upstream line.  For such a line the flat row's record *is* the
  decoder's record: the same keys with the same values (text as text, a JSON
  integer as Decimal, ``paid`` absent or ``{}`` alike to the validator), so a
  row sent to the validator gets the refusal its line would get;
- every other line (a null, a key twice, money as a JSON number, not JSON, not
  UTF-8, …) is judged here, from its bytes, by the validator, as the scalar path
  judges it: refused (its ClaimError, by input position), or accepted and written
  into the table as a flat row of the values the validator read.

So the table and the refusals hold every claim line once, in input order, and the
file's bytes are let go before settlement: nothing of the text is kept but the
careful lines', judged at once.
"""

from __future__ import annotations

import attrs

from yibao.backends.columns import ClaimColumns
from yibao.backends.jsonl_typed import claim_schema, typed_lines
from yibao.backends.typed_dates import iso_dates
from yibao.runtime.claims import ClaimError

TEXT_COLUMNS = ("claim_id", "person_id", "date", "scheme", "visit")
MONEY_COLUMNS = ("total_cost", "in_scope_cost")


@attrs.frozen
class TypedClaims:
    """``settle_typed``'s arguments: the flat ``table`` (one row a claim not refused
    here, in input order), each row's source ``lines`` (a NumPy int64 array), and the
    ``refusals`` by input position (the lines the validator refused here)."""

    table: object
    lines: object
    refusals: dict[int, ClaimError]


def flat_schema(columns: ClaimColumns):
    """The flat table's schema: claim_schema's, with ``paid`` as ``paid.<line>`` columns."""
    import pyarrow as pa

    fields = []
    for field in claim_schema(columns):
        if field.name == "date":
            fields.append(pa.field("date", pa.date32()))
        elif field.name == "paid":
            fields += [pa.field(f"paid.{line.name}", line.type) for line in field.type]
        else:
            fields.append(field)
    return pa.schema(fields)


def read_typed_claims(engine, columns: ClaimColumns, path: str) -> TypedClaims:
    """The JSON Lines file at ``path`` (``-``: standard input) as a TypedClaims."""
    from yibao.backends.duckdb_io import jsonl_table, read_bytes

    undecodable: dict[int, bytes] = {}
    lines = jsonl_table(read_bytes(path), undecodable)
    raw = lines.column("raw")   # one chunk: combine_chunks() would copy the whole file
    raw = raw.chunk(0) if raw.num_chunks == 1 else raw.combine_chunks()
    typed, careful = typed_lines(raw, columns)
    return _with_careful_lines(engine, columns, lines, typed, careful, undecodable)


def _with_careful_lines(engine, columns: ClaimColumns, lines, typed, careful,
                        undecodable: dict[int, bytes]) -> TypedClaims:
    import numpy as np
    import pyarrow as pa

    numbers = lines.column("line_number").to_numpy()
    typed, dated = _dated(typed)
    if not dated.all():   # a text that is no date as written: the validator's (C302)
        careful = careful.copy()
        careful[typed.column("pos").to_numpy()[~dated]] = True
        typed = typed.filter(pa.array(dated))
    heard = np.flatnonzero(careful)
    raw = lines.column("raw").take(pa.array(heard)).to_pylist()
    records = [(position, int(numbers[position]),
                undecodable[position] if text is None else text.rstrip("\r\n").encode("utf-8"))
               for position, text in zip(heard.tolist(), raw)]
    return careful_rows(engine, columns, _flat(typed, flat_schema(columns)),
                        typed.column("pos").to_numpy(), numbers, records)


def careful_rows(engine, columns: ClaimColumns, table, positions, numbers,
                 records) -> TypedClaims:
    """The TypedClaims of a reader's flat ``table`` (its rows at input ``positions``)
    and the ``records`` it could not type, (position, line number, raw line or record),
    judged here by the validator: refused, or added to the table in their places as a
    flat row of the values the validator read.  ``numbers``: each position's line."""
    import numpy as np
    import pyarrow as pa

    from yibao.backends.outcomes import validate_claims

    if not records:
        return TypedClaims(table, numbers[positions], {})
    accepted, refusals = validate_claims(engine, records)
    if accepted:
        rows = pa.Table.from_pylist([_flat_row(claim, columns) for _, claim in accepted],
                                    table.schema)
        table = pa.concat_tables([table, rows])
        positions = np.concatenate((positions, [position for position, _ in accepted]))
        order = np.argsort(positions, kind="stable")
        table, positions = table.take(pa.array(order)), positions[order]
    return TypedClaims(table, numbers[positions], refusals)


def _dated(typed):
    """(typed with ``date`` as date32, a NumPy mask of the rows whose date it holds)."""
    dates, held = iso_dates(typed.column("date"))
    index = typed.schema.get_field_index("date")
    return typed.set_column(index, "date", dates), held


def _flat(typed, schema):
    """Arrow's typed lines in the flat layout: ``pos`` dropped, ``paid`` flattened (a
    missing paid object leaves each of its lines missing)."""
    import pyarrow as pa

    columns = []
    for field in schema:
        if field.name.startswith("paid."):
            paid = typed.column("paid")
            line = [f.name for f in paid.type].index(field.name[len("paid."):])
            columns.append(pa.chunked_array([chunk.flatten()[line] for chunk in paid.chunks],
                                            field.type))
        else:
            columns.append(typed.column(field.name))
    return pa.Table.from_arrays(columns, schema=schema)


def _flat_row(claim, columns: ClaimColumns) -> dict:
    """A claim the validator accepted, as a flat row of the values it read: money as
    plain decimal text (the admission reads it back to the same fen)."""
    row = {"claim_id": claim.claim_id, "person_id": claim.person_id,
           "date": claim.date, "scheme": claim.scheme, "visit": claim.visit,
           "total_cost": _money(claim.total_cost), "in_scope_cost": _money(claim.in_scope_cost),
           "identities": list(claim.identities)}
    for line, amount in claim.paid:
        row[f"paid.{line}"] = _money(amount)
    kinds = columns.field_types()
    for name, value in claim.fields.items():
        if value is None or name not in kinds:
            continue
        kind = kinds[name].type
        row[name] = (_money(value) if kind == "money" else int(value) if kind == "count"
                     else bool(value))
    return row


def _money(amount) -> str:
    return f"{amount:f}"
