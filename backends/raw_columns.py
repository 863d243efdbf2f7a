"""The standard raw columns from a flat (CSV or Parquet) source, in either dialect.

backends/admission.py documents the standard raw columns.  A flat source has
one column per field (backends/formats.py); what differs between DuckDB and
Spark is only how a list is read and how a column is quoted, which
:class:`Dialect` supplies.  JSON Lines sources are read by each engine's own
JSON functions (backends/duckdb_io.py, backends/spark_io.py).
"""

from __future__ import annotations

import attrs

from yibao.backends.columns import ClaimColumns
from yibao.runtime.claims import MAX_IDENTITIES_PER_CLAIM, OPTIONAL, REQUIRED

TEXT_FIELDS = ("claim_id", "person_id", "date", "scheme", "visit")
STRING_TYPES = ("VARCHAR", "STRING")
EXACT_NUMBER_PREFIXES = ("DECIMAL", "BIGINT", "INTEGER", "INT", "SMALLINT", "TINYINT",
                         "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "HUGEINT", "LONG",
                         "SHORT", "BYTE")


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@attrs.frozen
class Dialect:
    name: str
    quote_char: str

    def quote(self, name: str) -> str:
        return f"{self.quote_char}{name}{self.quote_char}"

    def contains(self, array: str, value: str) -> str:
        fn = "list_contains" if self.name == "duckdb" else "array_contains"
        return f"coalesce({fn}({array}, {literal(value)}), false)"

    def size(self, array: str) -> str:
        return f"len({array})" if self.name == "duckdb" else f"size({array})"

    def split_names(self, text: str) -> str:
        if self.name == "duckdb":
            return f"list_filter(string_split({text}, ';'), lambda s: s <> '')"
        return f"filter(split({text}, ';'), s -> s <> '')"

    def matches(self, text: str, pattern: str) -> str:
        if self.name == "duckdb":
            return f"regexp_matches({text}, {literal(pattern)})"
        return f"({text} RLIKE {literal(pattern)})"

    def as_text(self, column: str) -> str:
        return f"cast({column} as {'varchar' if self.name == 'duckdb' else 'string'})"


DUCKDB = Dialect("duckdb", '"')
SPARK = Dialect("spark", "`")


def flat_raw_select(columns: ClaimColumns, source_types: dict[str, str], dialect: Dialect,
                    from_text: bool, source: str = "source") -> str:
    """SELECT of the standard raw columns from a flat source with ``source_types``
    (column → SQL type name; CSV sources are all text, empty cells NULL)."""
    q = dialect.quote
    present = set(source_types)

    def value(name: str) -> str:
        if name not in present:
            return "NULL"
        column = q(name)
        return f"nullif({column}, '')" if from_text else column

    def is_string(name: str) -> bool:
        return from_text or source_types.get(name, "").upper() in STRING_TYPES

    def money_text(name: str) -> str:
        kind = source_types.get(name, "").upper()
        if name in present and (from_text or kind in STRING_TYPES):
            return value(name)
        return "NULL"   # numbers come as money_number; a float column goes to the validator

    def money_number(name: str) -> str:
        kind = source_types.get(name, "").upper()
        if name in present and not from_text and _exact_money_type(kind):
            return q(name)
        return "NULL"

    date_column = "date" in present and source_types["date"].upper() == "DATE"

    def text_value(name: str) -> str:
        if is_string(name):
            return value(name)
        if name == "date" and date_column:
            return "'date'"   # a date column: typed below, as formats.py reads it
        return "NULL"

    select = ["idx", "line_number"]
    for name in TEXT_FIELDS:
        target = "date_text" if name == "date" else name
        select.append(f"{text_value(name)} AS {target}")
    select.append("(" + " AND ".join(f"{text_value(n)} IS NOT NULL" for n in TEXT_FIELDS)
                  + (f" AND {q('date')} IS NOT NULL" if date_column else "") + ") AS text_ok")
    select.append(f"{q('date') if date_column else 'NULL'} AS date_value")
    select += _identity_columns(columns, dialect, value("identities"), from_text,
                                "identities" in present)
    for name, target in (("total_cost", "total"), ("in_scope_cost", "in_scope")):
        select.append(f"{money_text(name)} AS {target}_text")
        select.append(f"{money_number(name)} AS {target}_number")
    for i, line in enumerate(columns.upstream):
        name = f"paid.{line}"
        select.append(f"{money_text(name)} AS up_text_{i}")
        select.append(f"{money_number(name)} AS up_number_{i}")
        select.append(f"({value(name)} IS NOT NULL) AS up_present_{i}")
    unknown_paid = [n for n in present if n.startswith("paid.")
                    and n[5:] not in columns.upstream]
    select.append(_all_null(unknown_paid, value) + " AS paid_ok")
    select += _field_columns(columns, source_types, dialect, value, from_text)
    known = set(REQUIRED) | set(OPTIONAL) | set(columns.fields)
    unknown = [n for n in present if n not in known and not n.startswith("paid.")
               and n not in ("idx", "line_number")]
    select.append(_all_null(unknown, value) + " AS keys_ok")
    return "SELECT " + ",\n  ".join(select) + f"\nFROM {source}"


def _exact_money_type(kind: str) -> bool:
    """Integers, and decimals with at most 2 places: exact money as they stand."""
    if kind.startswith("DECIMAL"):
        scale = kind.rstrip(")").split(",")[-1].strip() if "," in kind else "0"
        return scale.isdigit() and int(scale) <= 2
    return kind.startswith(EXACT_NUMBER_PREFIXES)


def _all_null(names, value) -> str:
    if not names:
        return "true"
    return "(" + " AND ".join(f"{value(n)} IS NULL" for n in names) + ")"


def _identity_columns(columns: ClaimColumns, dialect: Dialect, raw: str, from_text: bool,
                      present: bool) -> list[str]:
    if not present:
        return [f"false AS has_{i}" for i in range(len(columns.identities))] + [
            "false AS identities_ok", "0 AS identities_len"]
    names = dialect.split_names(f"coalesce({raw}, '')") if from_text else raw
    result = [f"{dialect.contains(names, name)} AS has_{i}"
              for i, name in enumerate(columns.identities)]
    ok = f"{names} IS NOT NULL AND {dialect.size(names)} <= {MAX_IDENTITIES_PER_CLAIM}"
    return result + [f"coalesce({ok}, false) AS identities_ok",
                     f"{dialect.size(names)} AS identities_len"]


def _field_columns(columns: ClaimColumns, source_types, dialect: Dialect, value,
                   from_text: bool) -> list[str]:
    result = []
    kinds = columns.field_types()
    for i, name in enumerate(columns.fields):
        kind = kinds[name].type
        raw = value(name)
        source_type = source_types.get(name, "").upper()
        if name not in source_types:
            typed, ok = "NULL", "true"
        elif kind == "bool" and from_text:
            typed = f"CASE {raw} WHEN 'true' THEN true WHEN 'false' THEN false END"
            ok = f"({raw} IS NULL OR {raw} IN ('true', 'false'))"
        elif kind == "bool":
            typed, ok = (raw, "true") if source_type == "BOOLEAN" else ("NULL", f"{raw} IS NULL")
        elif kind == "count" and from_text:
            whole = dialect.matches(raw, "^[0-9]{1,9}$")
            typed = f"CASE WHEN {whole} THEN cast({raw} AS BIGINT) END"
            ok = f"({raw} IS NULL OR {whole})"
        elif kind == "count":
            exact = source_type.startswith(EXACT_NUMBER_PREFIXES) and "DECIMAL" not in source_type
            typed, ok = (f"cast({raw} AS BIGINT)", "true") if exact else ("NULL", f"{raw} IS NULL")
        else:
            text = raw if (from_text or source_type in STRING_TYPES) else (
                dialect.as_text(raw) if source_type.startswith(EXACT_NUMBER_PREFIXES) else "NULL")
            typed, ok = text, f"({raw} IS NULL OR {text} IS NOT NULL)"
        result += [f"{typed} AS fld_raw_{i}", f"{ok} AS fld_ok_{i}",
                   f"({raw} IS NOT NULL) AS fld_present_{i}"]
    return result
