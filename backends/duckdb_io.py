"""DuckDB: claims files as the ``source`` relation and its standard raw columns.

JSON Lines are split into lines with NumPy and Arrow (exact line numbers,
blank lines skipped as the scalar reader skips them) into an Arrow column of
text, ``source``.  Arrow's JSON reader types the lines it can vouch for once,
on every core (backends/jsonl_typed.py): ``typed_source``; the others
(``careful`` in ``source``) are parsed by DuckDB's JSON functions.
CSV goes through pyarrow's reader, every column as text; Parquet is scanned by
DuckDB itself with its row numbers.
"""

from __future__ import annotations

import sys

from yibao.backends.columns import ClaimColumns
from yibao.backends.formats import suspect_record
from yibao.backends.jsonl_typed import typed_lines
from yibao.backends.raw_columns import DUCKDB, flat_raw_select, literal
from yibao.runtime.claims import MAX_IDENTITIES_PER_CLAIM, OPTIONAL, REQUIRED

EXACT_JSON = ("'VARCHAR'", "'UBIGINT'", "'BIGINT'")
JSON_INTEGERS = ("'UBIGINT'", "'BIGINT'")


# Rows of an Arrow chunk handed to DuckDB.  DuckDB scans a registered Arrow table a
# chunk per thread: the JSON Lines, one buffer, were one chunk, so the admission
# statement (JSON parsing, the validator's tests) ran on one core of two.  16,384 rows
# is a few of DuckDB's vectors (2,048 rows) a task, and many tasks a file.
SCAN_CHUNK = 16_384


def load_source(con, path: str, fmt: str, undecodable: dict[int, bytes],
                columns: ClaimColumns) -> dict[str, str]:
    """Create the ``source`` view (and for JSON Lines ``typed_source``); returns its
    column types (name → SQL type).

    JSON Lines that are not UTF-8 are kept, as bytes, in ``undecodable`` (idx → bytes)."""
    if fmt == "jsonl":
        import pyarrow as pa

        lines = jsonl_table(read_bytes(path), undecodable)
        raw = lines.column("raw")   # one chunk: combine_chunks() would copy the whole file
        typed, careful = typed_lines(raw.chunk(0) if raw.num_chunks == 1
                                     else raw.combine_chunks(), columns)
        # the typed lines' positions are their idx (jsonl_table numbers the lines kept)
        typed = typed.rename_columns(["idx", *typed.column_names[1:]])
        typed = typed.add_column(1, "line_number", lines.column("line_number").take(
            typed.column("idx")))
        con.register("typed_source", in_chunks(typed))
        con.register("source", in_chunks(lines.append_column("careful", pa.array(careful))))
    elif fmt == "csv":
        con.register("source", in_chunks(read_csv_text(path)))
    else:
        con.execute(f"CREATE OR REPLACE TEMP VIEW source AS SELECT file_row_number AS idx, "
                    f"file_row_number + 1 AS line_number, * EXCLUDE (file_row_number) "
                    f"FROM read_parquet({literal(path)}, file_row_number = true)")
    return {row[0]: row[1] for row in con.execute("DESCRIBE source").fetchall()}


def register_typed(con, table) -> dict[str, str]:
    """A flat Arrow table of claims (Parquet's columns, with ``idx`` and ``line_number``)
    as the ``source`` relation, read as a Parquet file is; returns its column types."""
    con.register("source", in_chunks(table))
    return {row[0]: row[1] for row in con.execute("DESCRIBE source").fetchall()}


def release_source(con) -> None:
    """Let go of the claims as read once every claim is admitted or refused: the file's
    bytes (JSON Lines: as large as the file) and Arrow's typed lines are not needed by
    settlement, and DuckDB holds a registered table until it is unregistered."""
    for name in ("source", "typed_source"):
        con.unregister(name)


def in_chunks(table):
    """``table`` as record batches of at most SCAN_CHUNK rows (slices: nothing is copied),
    so that DuckDB's threads share its scan."""
    import pyarrow as pa

    return pa.Table.from_batches(table.to_batches(max_chunksize=SCAN_CHUNK), table.schema)


def read_bytes(path: str) -> bytes:
    """The claims file's bytes; ``-``: standard input's."""
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as stream:
        return stream.read()


def jsonl_table(data: bytes, undecodable: dict[int, bytes]):
    """JSON Lines → (idx, line_number, raw): :func:`jsonl_lines`' table."""
    return jsonl_lines(data, undecodable)[0]


def jsonl_lines(data: bytes, undecodable: dict[int, bytes]):
    """JSON Lines → ((idx, line_number, raw), how many lines ``data`` holds, blank ones
    included: a line is its newline, or the end of ``data``): the lines the scalar reader yields
    (core/jsonl.py's read_lines: split at b"\\n", blank lines skipped but counted), without
    a Python object per line.  ``raw`` keeps the line's ending, which JSON reads as
    white space: the scalar reader's line is ``raw`` less its trailing \\r and \\n.

    The file is one buffer and the lines are its slices (Arrow offsets at each
    newline), decoded as UTF-8 all at once.  Only a file holding a line that is not
    UTF-8 is read line by line, to find it: ``raw`` is then NULL and the bytes go to
    ``undecodable`` (idx → bytes) for the validator to refuse (C300)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    codes = np.frombuffer(data, dtype=np.uint8)
    offsets = np.concatenate(([0], _newlines(codes) + 1)).astype(np.int64)
    if len(data) > offsets[-1]:   # a last line without a newline
        offsets = np.append(offsets, len(data))
    lines = pa.Array.from_buffers(pa.large_binary(), len(offsets) - 1,
                                  [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    try:
        text = lines.cast(pa.large_string())
        broken: dict[int, bytes] = {}
    except pa.ArrowInvalid:
        text, broken = _decode_each(lines)
    # Blank: only bytes.strip()'s white space (a line holds at least its newline).  Only
    # a line that starts with white space can be blank, and claims start with "{": just
    # those lines are looked at.  A line that is not UTF-8 (NULL) holds other bytes, so
    # it is kept.  The ascii_ kernel works on bytes, which is exact in UTF-8 (no
    # multi-byte character holds an ASCII byte).
    starts = np.flatnonzero(np.isin(codes[offsets[:-1]], np.frombuffer(b" \t\n\r\x0b\x0c",
                                                                          dtype=np.uint8)))
    blank = starts[pc.fill_null(pc.ascii_is_space(text.take(pa.array(starts))), False)
                   .to_numpy(zero_copy_only=False)]
    kept = np.delete(np.arange(len(text)), blank)
    if len(kept) < len(text):
        text = text.take(pa.array(kept))
    for position, raw in broken.items():
        undecodable[int(np.searchsorted(kept, position))] = raw.rstrip(b"\r\n")
    return pa.table({"idx": pa.array(np.arange(len(kept), dtype=np.int64)),
                     "line_number": pa.array(kept + 1), "raw": text}), len(offsets) - 1


def _newlines(data, chunk: int = 1 << 20):
    """The positions of b"\\n" in ``data`` (a uint8 array), a MiB at a time: the mask of
    a whole file would be as large as the file, and allocating it costs more than the
    search (1.1 s against 0.1 s for 330 MB)."""
    import numpy as np

    found = [np.flatnonzero(data[start:start + chunk] == ord("\n")) + start
             for start in range(0, len(data), chunk)]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def _decode_each(lines):
    """Each line decoded on its own: text with NULL where a line is not UTF-8, and those
    lines' bytes by position."""
    import pyarrow as pa

    decoded, broken = [], {}
    for position, raw in enumerate(lines.to_pylist()):
        try:
            decoded.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            decoded.append(None)
            broken[position] = raw
    return pa.array(decoded, pa.large_string()), broken


def read_csv_text(path: str, empty_as_null: bool = False):
    """A CSV claims file, every cell as text (empty: "", or NULL with ``empty_as_null``:
    an absent field either way, as formats._read_csv reads it), with ``idx`` and
    ``line_number`` (the header is line 1), read by Arrow on every core."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with open(path, encoding="utf-8-sig", newline="") as stream:   # as formats._read_csv
        header = stream.readline().rstrip("\r\n").split(",")
    names = [name.strip('"') for name in header]
    # only the empty cell is NULL: Arrow's default list ("NA", "null", …) is not a claim's
    table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        column_types={name: pa.string() for name in names}, null_values=[""],
        strings_can_be_null=empty_as_null, quoted_strings_can_be_null=empty_as_null))
    count = table.num_rows
    table = table.add_column(0, "line_number", pa.array(np.arange(2, count + 2, dtype=np.int64)))
    return table.add_column(0, "idx", pa.array(np.arange(count, dtype=np.int64)))


def raw_select(columns: ClaimColumns, fmt: str, types: dict[str, str]) -> str:
    if fmt == "jsonl":
        return (_typed_raw_select(columns) + "\nUNION ALL\n"
                + _json_raw_select(columns, "(SELECT idx, line_number, raw FROM source "
                                            "WHERE careful)"))
    return flat_raw_select(columns, types, DUCKDB, from_text=(fmt == "csv"))


# The claim's own keys, in the order of their paths: t[1] … t[9] below.
TOP_KEYS = ("claim_id", "person_id", "date", "scheme", "visit", "total_cost", "in_scope_cost",
            "identities", "paid")
# keys_ok counts the paths a line holds: every key a claim may have needs one
assert set(TOP_KEYS) == set(REQUIRED) | set(OPTIONAL)


def _json_paths(columns: ClaimColumns) -> list[str]:
    paths = [f"$.{key}" for key in TOP_KEYS]
    paths += [f'$.paid."{line}"' for line in columns.upstream]
    paths += [f'$."{name}"' for name in columns.fields]
    return paths


def _typed_raw_select(columns: ClaimColumns) -> str:
    """The standard raw columns of the lines Arrow typed (``typed_source``): each is one
    JSON object of known keys, each key once, no null, every value of its schema type
    (backends/jsonl_typed.py).  So the tests _json_raw_select makes of a value's JSON
    type hold by construction, and a key is present exactly when its column is not
    NULL; what remains is what _json_raw_select makes of the values."""
    quote = DUCKDB.quote
    select = ["idx", "line_number", "claim_id", "person_id", "date AS date_text", "scheme",
              "visit", "(" + " AND ".join(f"{key} IS NOT NULL" for key in TOP_KEYS[:5])
              + ") AS text_ok", "NULL AS date_value"]
    select += [f"coalesce(list_contains(identities, {literal(name)}), false) AS has_{i}"
               for i, name in enumerate(columns.identities)]
    select.append(f"coalesce(len(identities) <= {MAX_IDENTITIES_PER_CLAIM}, false) "
                  "AS identities_ok")
    select.append("len(identities) AS identities_len")
    select += ["total_cost AS total_text", "in_scope_cost AS in_scope_text",
               "NULL AS total_number", "NULL AS in_scope_number"]
    for i, line in enumerate(columns.upstream):
        amount = f"struct_extract(paid, {literal(line)})"
        select += [f"{amount} AS up_text_{i}", f"NULL AS up_number_{i}",
                   f"({amount} IS NOT NULL) AS up_present_{i}"]
    select.append("true AS paid_ok")
    for i, name in enumerate(columns.fields):
        select += [f"{quote(name)} AS fld_raw_{i}", f"true AS fld_ok_{i}",
                   f"({quote(name)} IS NOT NULL) AS fld_present_{i}"]
    select.append("true AS keys_ok")
    return "SELECT " + ",\n  ".join(select) + "\nFROM typed_source"


def _json_raw_select(columns: ClaimColumns, source: str = "source") -> str:
    paths = "[" + ", ".join(literal(p) for p in _json_paths(columns)) + "]"
    # Each json_* call over ``raw`` parses the whole line again: the identities and the
    # paid object are read from their own extracted text (s[8], s[9]), a few bytes.
    whole = (
        "SELECT idx, line_number, raw, "
        f"json_extract_string(raw, {paths}) AS s, json_type(raw, {paths}) AS t, "
        "json_keys(raw) AS top_keys "
        # TRY: NULL for a line that is not JSON, in one parse (json_valid would be two).
        # DuckDB's parser also takes a trailing comma ({"a": 1,}, [1,]), which JSON and
        # the decoder refuse (C300): such a line goes to the validator, as does one
        # whose text merely holds a comma before a bracket (the validator settles it).
        "FROM (SELECT idx, line_number, CASE WHEN try(json_type(raw)) = 'OBJECT' AND NOT "
        "regexp_matches(raw, ',[ \\t\\n\\r]*[}\\]]') THEN raw END AS raw "
        f"FROM {source})")
    inner = (
        "SELECT idx, line_number, raw, s, t, top_keys, "
        "CASE WHEN t[9] = 'OBJECT' THEN json_keys(s[9]) END AS paid_keys, "
        "CASE WHEN t[8] = 'ARRAY' THEN json_extract_string(s[8], '$[*]') END AS names, "
        "CASE WHEN t[8] = 'ARRAY' THEN json_type(s[8], '$[*]') END AS name_types "
        f"FROM ({whole})")
    select = ["idx", "line_number"]
    for k, name in enumerate(("claim_id", "person_id", "date_text", "scheme", "visit"), 1):
        select.append(f"CASE WHEN t[{k}] = 'VARCHAR' THEN s[{k}] END AS {name}")
    select.append("coalesce(" + " AND ".join(f"t[{k}] = 'VARCHAR'" for k in range(1, 6))
                  + ", false) AS text_ok")
    select.append("NULL AS date_value")
    select += [f"coalesce(t[8] = 'ARRAY' AND list_contains(names, {literal(name)}), false) "
               f"AS has_{i}" for i, name in enumerate(columns.identities)]
    select.append(
        f"coalesce(t[8] = 'ARRAY' AND len(list_filter(name_types, lambda x: x <> 'VARCHAR')) = 0 "
        f"AND len(names) <= {MAX_IDENTITIES_PER_CLAIM}, false) AS identities_ok")
    select.append("len(names) AS identities_len")
    select.append(f"CASE WHEN t[6] IN ({', '.join(EXACT_JSON)}) THEN s[6] END AS total_text")
    select.append(f"CASE WHEN t[7] IN ({', '.join(EXACT_JSON)}) THEN s[7] END AS in_scope_text")
    select += ["NULL AS total_number", "NULL AS in_scope_number"]
    base = 10
    for i in range(len(columns.upstream)):
        k = base + i
        select.append(f"CASE WHEN t[{k}] IN ({', '.join(EXACT_JSON)}) THEN s[{k}] END "
                      f"AS up_text_{i}")
        select.append(f"NULL AS up_number_{i}")
        select.append(f"(t[{k}] IS NOT NULL) AS up_present_{i}")
    # An object's keys are all known and each given once exactly when there are as many
    # as the known paths found in it: every path counts one distinct key, so an unknown
    # key or a key given twice (refused, C300, by the decoder; DuckDB would read the
    # first) leaves more keys than paths.  Counting paths costs a fifth of comparing key
    # lists (list_has_all, list_distinct) on every line.
    paid_paths = _present(base, len(columns.upstream))
    select.append(f"coalesce(t[9] IS NULL OR (t[9] = 'OBJECT' AND len(paid_keys) = {paid_paths}), "
                  "false) AS paid_ok")
    base += len(columns.upstream)
    kinds = columns.field_types()
    for i, name in enumerate(columns.fields):
        select += _json_field(i, base + i, kinds[name].type)
    top_paths = f"{_present(1, len(TOP_KEYS))} + {_present(base, len(columns.fields))}"
    select.append(f"coalesce(len(top_keys) = {top_paths}, false) AS keys_ok")
    return "SELECT " + ",\n  ".join(select) + f"\nFROM ({inner})"


def _present(first: int, count: int) -> str:
    """How many of the paths t[first], …, t[first + count − 1] the line holds."""
    if count == 0:
        return "0"
    return f"list_aggregate(t[{first}:{first + count - 1}], 'count')"


def _json_field(i: int, k: int, kind: str) -> list[str]:
    absent = f"(t[{k}] IS NULL OR t[{k}] = 'NULL')"
    if kind == "bool":
        typed = f"CASE WHEN t[{k}] = 'BOOLEAN' THEN s[{k}] = 'true' END"
        ok = f"({absent} OR t[{k}] = 'BOOLEAN')"
    elif kind == "count":
        typed = f"CASE WHEN t[{k}] IN ({', '.join(JSON_INTEGERS)}) THEN try_cast(s[{k}] AS BIGINT) END"
        ok = f"({absent} OR t[{k}] IN ({', '.join(JSON_INTEGERS)}))"
    else:
        typed = f"CASE WHEN t[{k}] IN ({', '.join(EXACT_JSON)}) THEN s[{k}] END"
        ok = f"({absent} OR t[{k}] IN ({', '.join(EXACT_JSON)}))"
    return [f"{typed} AS fld_raw_{i}", f"{ok} AS fld_ok_{i}",
            f"(t[{k}] IS NOT NULL) AS fld_present_{i}"]


def fetch_records(con, fmt: str, indexes: list[int],
                  undecodable: dict[int, bytes]) -> list[tuple[int, int, object]]:
    """(idx, line number, record) of the suspect rows, as the validator reads them."""
    if not indexes:
        return []
    import pyarrow as pa

    con.register("suspect_idx", pa.table({"idx": pa.array(indexes, pa.int64())}))
    rows = con.execute("SELECT s.* FROM source s JOIN suspect_idx USING (idx) ORDER BY idx")
    names = [d[0] for d in rows.description]
    found = []
    for row in rows.fetchall():
        data = dict(zip(names, row))
        idx, number = data.pop("idx"), data.pop("line_number")
        found.append((idx, number, suspect_record(fmt, data, undecodable.get(idx))))
    con.unregister("suspect_idx")
    return found
