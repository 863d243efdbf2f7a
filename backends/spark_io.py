"""Spark: claims files as the ``source`` view and its standard raw columns.

Spark reads the file itself, so a cluster reads it from wherever it lives
(HDFS, S3, …).  JSON Lines are parsed into Spark's VARIANT, which keeps JSON
numbers exact and says what type each value has; CSV is read as text;
Parquet keeps its types.  Input order is the file's order
(``monotonically_increasing_id`` follows partitions in file order).
"""

from __future__ import annotations

from yibao.backends.columns import ClaimColumns
from yibao.backends.formats import suspect_record
from yibao.backends.raw_columns import SPARK, flat_raw_select, literal
from yibao.runtime.claims import MAX_IDENTITIES_PER_CLAIM, OPTIONAL, REQUIRED

INTEGER_TYPES = ("'BIGINT'", "'INT'", "'SMALLINT'", "'TINYINT'")
_ORDER = "row_number() OVER (ORDER BY monotonically_increasing_id())"


def load_source(spark, path: str, fmt: str) -> dict[str, str]:
    """Create the ``source`` view; returns its column types (name → SQL type)."""
    if fmt == "jsonl":
        lines = spark.read.text(path)
        lines.createOrReplaceTempView("source_lines")
        spark.sql(f"SELECT value AS raw, {_ORDER} AS line_number FROM source_lines") \
            .where("trim(raw) <> ''").createOrReplaceTempView("numbered_lines")
        frame = spark.sql("SELECT row_number() OVER (ORDER BY line_number) - 1 AS idx, "
                          "line_number, raw FROM numbered_lines")
    else:
        data = (spark.read.option("header", True).option("encoding", "UTF-8").csv(path)
                if fmt == "csv" else spark.read.parquet(path))
        data.createOrReplaceTempView("source_rows")
        first = 2 if fmt == "csv" else 1
        frame = spark.sql(f"SELECT {_ORDER} - 1 AS idx, {_ORDER} - 1 + {first} AS line_number, * "
                          "FROM source_rows")
    frame.cache().createOrReplaceTempView("source")
    return {name: kind for name, kind in frame.dtypes}


def raw_select(columns: ClaimColumns, fmt: str, types: dict[str, str]) -> str:
    if fmt == "jsonl":
        return _json_raw_select(columns)
    return flat_raw_select(columns, types, SPARK, from_text=(fmt == "csv"))


def _path(name: str) -> str:
    return f"$['{name}']"


def _kind(path: str) -> str:
    return f"schema_of_variant(variant_get(v, {literal(path)}))"


def _text(path: str) -> str:
    return f"try_variant_get(v, {literal(path)}, 'string')"


def _json_raw_select(columns: ClaimColumns) -> str:
    known = sorted(set(REQUIRED) | set(OPTIONAL) | set(columns.fields))
    # try_parse_json gives NULL for an object naming a key twice, so such a line is
    # suspect and the decoder refuses it (C300), as on the other paths.
    inner = ("SELECT idx, line_number, v, map_keys(top) AS top_keys, "
             "map_keys(try_variant_get(v, '$.paid', 'map<string,variant>')) AS paid_keys, "
             "try_variant_get(v, '$.identities', 'array<string>') AS names FROM ("
             "SELECT idx, line_number, CASE WHEN top IS NOT NULL THEN parsed END AS v, top FROM ("
             "SELECT idx, line_number, parsed, "
             "try_variant_get(parsed, '$', 'map<string,variant>') AS top FROM ("
             "SELECT idx, line_number, try_parse_json(raw) AS parsed FROM source)))")
    select = ["idx", "line_number"]
    text_checks = []
    for field, name in (("claim_id", "claim_id"), ("person_id", "person_id"),
                        ("date", "date_text"), ("scheme", "scheme"), ("visit", "visit")):
        path = _path(field)
        select.append(f"CASE WHEN {_kind(path)} = 'STRING' THEN {_text(path)} END AS {name}")
        text_checks.append(f"{_kind(path)} = 'STRING'")
    select.append(f"coalesce({' AND '.join(text_checks)}, false) AS text_ok")
    select.append("CAST(NULL AS DATE) AS date_value")
    identities = _kind("$.identities")
    select += [f"coalesce(array_contains(names, {literal(name)}), false) AS has_{i}"
               for i, name in enumerate(columns.identities)]
    select.append(
        f"coalesce(({identities} = 'ARRAY<STRING>' OR {identities} = 'ARRAY<VOID>') "
        f"AND size(names) <= {MAX_IDENTITIES_PER_CLAIM}, false) AS identities_ok")
    select.append("size(names) AS identities_len")
    for field, target in (("total_cost", "total"), ("in_scope_cost", "in_scope")):
        select += _money(_path(field), target + "_text")
        select.append(f"NULL AS {target}_number")
    for i, line in enumerate(columns.upstream):
        path = f"$.paid['{line}']"
        select += _money(path, f"up_text_{i}")
        select += [f"NULL AS up_number_{i}", f"({_kind(path)} IS NOT NULL) AS up_present_{i}"]
    upstream = ", ".join(literal(n) for n in columns.upstream)
    paid = _kind("$.paid")
    select.append(f"coalesce({paid} IS NULL OR ({paid} LIKE 'OBJECT%' AND "
                  f"size(array_except(coalesce(paid_keys, array()), array({upstream}))) = 0), "
                  "false) AS paid_ok")
    kinds = columns.field_types()
    for i, name in enumerate(columns.fields):
        select += _json_field(i, _path(name), kinds[name].type)
    select.append(f"coalesce(size(array_except(top_keys, array({', '.join(map(literal, known))}))) "
                  "= 0, false) AS keys_ok")
    return "SELECT " + ",\n  ".join(select) + f"\nFROM ({inner})"


def _money(path: str, name: str) -> list[str]:
    exact = f"{_kind(path)} IN ('STRING', {', '.join(INTEGER_TYPES)})"
    return [f"CASE WHEN {exact} THEN {_text(path)} END AS {name}"]


def _json_field(i: int, path: str, kind: str) -> list[str]:
    found = _kind(path)
    absent = f"({found} IS NULL OR {found} = 'VOID')"
    if kind == "bool":
        typed = f"CASE WHEN {found} = 'BOOLEAN' THEN try_variant_get(v, {literal(path)}, 'boolean') END"
        ok = f"({absent} OR {found} = 'BOOLEAN')"
    elif kind == "count":
        typed = (f"CASE WHEN {found} IN ({', '.join(INTEGER_TYPES)}) "
                 f"THEN try_variant_get(v, {literal(path)}, 'bigint') END")
        ok = f"({absent} OR {found} IN ({', '.join(INTEGER_TYPES)}))"
    else:
        typed = f"CASE WHEN {found} IN ('STRING', {', '.join(INTEGER_TYPES)}) THEN {_text(path)} END"
        ok = f"({absent} OR {found} IN ('STRING', {', '.join(INTEGER_TYPES)}))"
    return [f"{typed} AS fld_raw_{i}", f"{ok} AS fld_ok_{i}",
            f"({found} IS NOT NULL) AS fld_present_{i}"]


def fetch_records(spark, fmt: str, indexes: list[int]) -> list[tuple[int, int, object]]:
    """(idx, line number, record) of the suspect rows, collected to the driver."""
    if not indexes:
        return []
    spark.createDataFrame([(i,) for i in indexes], "idx bigint").createOrReplaceTempView(
        "suspect_idx")
    rows = spark.sql("SELECT s.* FROM source s JOIN suspect_idx USING (idx) ORDER BY idx").collect()
    found = []
    for row in rows:
        data = row.asDict()
        idx, number = data.pop("idx"), data.pop("line_number")
        found.append((idx, number, suspect_record(fmt, data)))
    return found
