"""JSON Lines as the columnar engine's typed claims table, with no SQL.

``ColumnarRunner.settle_typed`` (backends/columnar/runner.py) settles a typed
Arrow table of claims in the flat layout of backends/formats.py, judging a row it
cannot admit on its own as the validator judges a Parquet row
(``formats.flat_to_record``).  This module turns a JSON Lines file into that table:

- the file is read in blocks of whole lines, each split into lines as the scalar
  reader splits them (duckdb_io.jsonl_table: blank lines skipped but counted) and
  typed on a thread of its own while the next block is read (both cores parse);
- Arrow's strict JSON reader types the lines it can vouch for
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
file's bytes are never held whole: nothing of the text is kept but the careful
lines', judged once the file is read.
"""

from __future__ import annotations

from typing import Iterator

import attrs

from yibao.backends.columns import ClaimColumns
from yibao.backends.jsonl_typed import claim_schema, typed_lines
from yibao.backends.typed_dates import iso_dates
from yibao.runtime.claims import ClaimError

TEXT_COLUMNS = ("claim_id", "person_id", "date", "scheme", "visit")
MONEY_COLUMNS = ("total_cost", "in_scope_cost")
# Bytes read at a time (and up to the end of the last line): a few thousand claims, a
# parse long beside the cost of starting one, and a file's first block typed while
# the next is read.
READ_BYTES = 4 << 20


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
    """The JSON Lines file at ``path`` (``-``: standard input) as a TypedClaims.

    The file is read a block of whole lines at a time (READ_BYTES and up to the end of
    its last line); each block is split, decoded and typed on a thread of its own
    while the next is read, so both cores parse and the file's bytes are never held
    whole (only the careful lines' text is kept).  The blocks' rows, positions and
    line numbers join end to end: a block's positions start after the lines the
    blocks before it kept, its line numbers after the lines they held, blank ones
    included."""
    import numpy as np
    import pyarrow as pa

    from yibao.backends.threads import built_in_order, cores

    schema = flat_schema(columns)
    tables, positions, numbers, records = [], [], [], []
    kept = held = 0
    for block in built_in_order(lambda data: _typed_block(columns, schema, data),
                                line_blocks(path), cores()):
        tables.append(block.table)
        positions.append(block.positions + kept)
        numbers.append(block.numbers + held)
        records += [(position + kept, number + held, raw)
                    for position, number, raw in block.careful]
        kept += len(block.numbers)
        held += block.lines
    # The JSON reader's working buffers are freed, but the allocator (mimalloc) keeps
    # them for reuse unless told: 10^6 claims held ≈ 400 MB more through admission.
    pa.default_memory_pool().release_unused()
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    empty = np.zeros(0, dtype=np.int64)
    return careful_rows(engine, columns, table, np.concatenate([empty, *positions]),
                        np.concatenate([empty, *numbers]), records)


def line_blocks(path: str, size: int | None = None) -> Iterator[bytes | memoryview]:
    """The file's bytes (``-``: standard input's) in blocks of whole lines: ``size``
    bytes (READ_BYTES) read at a time, a block the lines they end (more reads for a
    line longer than that), what follows the last newline carried to the next block;
    the file's last block as it ends (a last line without a newline).

    Each block is read into a buffer of its own and handed on as a view of it: no copy
    of the file's bytes but the carried tail of a line (slicing and joining bytes
    copied each block twice, 0.35 s of the main thread's time at 10^6 claims)."""
    import sys

    size = size or READ_BYTES
    stream = sys.stdin.buffer if path == "-" else open(path, "rb")
    try:
        carried = b""
        while True:
            block = bytearray(len(carried) + size)
            block[:len(carried)] = carried
            filled = len(carried) + (stream.readinto(memoryview(block)[len(carried):]) or 0)
            if filled == len(carried):   # the end of the file
                break
            end = block.rfind(b"\n", 0, filled) + 1
            carried = bytes(block[end:filled])
            if end:   # else no newline yet: a line longer than a block, read on
                yield memoryview(block)[:end]
        if carried:
            yield carried
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


@attrs.frozen
class _Block:
    """A block of the file typed: its flat ``table`` (the lines typed, in order), their
    ``positions`` among the block's kept (non-blank) lines, every kept line's number in
    the block (``numbers``, from 1), its ``careful`` lines as (position, line number,
    raw bytes) and how many ``lines`` it holds, blank ones included."""

    table: object
    positions: object
    numbers: object
    careful: list
    lines: int


def _typed_block(columns: ClaimColumns, schema, data: bytes | memoryview) -> _Block:
    import numpy as np
    import pyarrow as pa

    from yibao.backends.duckdb_io import jsonl_lines

    undecodable: dict[int, bytes] = {}
    # held: the block's lines, blank ones included, as the split counted them (counting
    # the newlines again was a pass over the block's bytes)
    lines, held = jsonl_lines(data, undecodable)
    raw = lines.column("raw")   # one chunk: combine_chunks() would copy the block
    raw = raw.chunk(0) if raw.num_chunks == 1 else raw.combine_chunks()
    typed, careful = typed_lines(raw, columns, threads=1)
    typed, dated = _dated(typed)
    if not dated.all():   # a text that is no date as written: the validator's (C302)
        careful = careful.copy()
        careful[typed.column("pos").to_numpy()[~dated]] = True
        typed = typed.filter(pa.array(dated))
    numbers = lines.column("line_number").to_numpy()
    heard = np.flatnonzero(careful)
    texts = raw.take(pa.array(heard)).to_pylist()
    records = [(position, int(numbers[position]),
                undecodable[position] if text is None else text.rstrip("\r\n").encode("utf-8"))
               for position, text in zip(heard.tolist(), texts)]
    return _Block(_flat(typed, schema), typed.column("pos").to_numpy(), numbers, records,
                  held)


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
