"""Admission in SQL: raw claims → the typed claims relation, or to the validator.

Each engine's reader (backends/duckdb_io.py, backends/spark_io.py) turns a
JSON Lines, CSV or Parquet file into the *standard raw* columns below; this
module types them in SQL that both dialects share.  The SQL only accepts a
claim it can vouch for: plain decimal money from a string, an integer or a
decimal column, an ISO date, known names, upstream payouts within their
bounds.  Every other row is *suspect* and goes, as a record, to the project's
own validator (runtime/claims.py), which either refuses it with the exact
code, field, message and hint the scalar path gives, or accepts it (money
written as 1e3, say), and then its typed values are used.  So the SQL backends
accept and refuse exactly what the scalar path does.

Standard raw columns: ``idx``, ``line_number``, ``claim_id``, ``person_id``,
``date_text``, ``scheme``, ``visit`` (text, NULL when absent or not a string),
``date_value`` (a date column), ``text_ok``; ``has_<i>``, ``identities_ok`` (a
list of at most 50 strings), ``identities_len`` (its length: admission accepts it
only when every entry is a distinct known identity, that is when it equals the
number of ``has_<i>`` that hold — anything else is the validator's to judge);
money as ``total_text``/``total_number``, ``in_scope_text``/``in_scope_number``,
``up_text_<i>``/``up_number_<i>`` (text, or an exact number column),
``up_present_<i>``, ``paid_ok``;
``fld_raw_<i>``, ``fld_ok_<i>``, ``fld_present_<i>``; ``keys_ok``.
"""

from __future__ import annotations

from decimal import Decimal

from yibao.backends.sql import exp

from yibao.backends import sql
from yibao.backends.columns import ClaimColumns, fen
from yibao.backends.layers import Definition
from yibao.runtime.claims import MAX_COUNT
from yibao.dsl.model import SCHEMES, VISITS, Policy

PLAIN_MONEY = r"^[0-9]{1,12}([.][0-9]{1,2})?$"
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
SAFE_TEXT = 100   # characters; longer names are left to the validator's exact limit


def money_fen(text: exp.Expression, number: exp.Expression | None = None) -> exp.Expression:
    """Fen from an exact number column, or else from plain decimal text; NULL otherwise."""
    decimal = exp.Cast(this=text, to=exp.DataType.build("DECIMAL(18, 2)"))
    from_text = sql.when(exp.RegexpLike(this=text, expression=sql.text(PLAIN_MONEY)),
                         sql.bigint(exp.Mul(this=decimal, expression=sql.num(100))),
                         sql.typed_null("BIGINT"))
    if number is None:
        return from_text
    in_range = sql.all_of([number >= sql.num(0), number < sql.num(10 ** 12)])
    return sql.case([(number.is_(exp.null()), from_text),
                     (in_range, sql.bigint(exp.Mul(this=number, expression=sql.num(100))))],
                    sql.typed_null("BIGINT"))


# Claim and person ids the SQL admits on its own hold only these characters: printable
# ASCII but the space, and the CJK Unified Ideographs of Unicode 1.1 (U+4E00–U+9FA5).
# Every other id is suspect and goes to the validator (runtime/claims._id), which
# refuses format, control and separator characters and ids not in NFKC form.
# A safe repertoire rather than the refused characters themselves, because
# - NFKC is a property of the whole text, not of each character: 'e' followed by
#   U+0301 is refused though neither character is, so no character class can say it;
# - the SQL engines' regular expressions (RE2 in DuckDB, java.util.regex in Spark) and
#   Python each have their own Unicode version: \p{Cf} in one is not \p{Cf} in the
#   other, and a class of the NFKC-unstable code points written out from Python's
#   tables would run to thousands of ranges in every row's test.
# Each character here is NFKC-stable, of category P, S, L or N, a starter that
# composes with nothing (tests/backends/test_admission.py checks it against
# unicodedata), so any text of them is an id the validator accepts.  The price:
# ids in other scripts take the validator's path, which is exact but slower.
SAFE_ID_RANGES = (("!", "~"), ("\u4e00", "\u9fa5"))
# The characters themselves, not escapes: RE2 writes \x{4e00} and Java \u4e00.
UNSAFE_ID_CHARACTER = "[^" + "".join(f"{low}-{high}" for low, high in SAFE_ID_RANGES) + "]"


def _text_ok(name: str) -> exp.Expression:
    """The id is present, not empty, short and of the safe repertoire: no need of the
    validator.  An id without a space is blank only when empty: no TRIM needed."""
    column = sql.col(name)
    return sql.all_of([column.is_(exp.null()).not_(),
                       column.neq(sql.text("")),
                       exp.Length(this=column) <= sql.num(SAFE_TEXT),
                       exp.RegexpLike(this=column,
                                      expression=sql.text(UNSAFE_ID_CHARACTER)).not_()])


def admission_definitions(columns: ClaimColumns) -> list[Definition]:
    versions = columns.versions
    definitions = [
        Definition("date", exp.func("COALESCE", sql.col("date_value"), sql.when(
            exp.RegexpLike(this=sql.col("date_text"), expression=sql.text(ISO_DATE)),
            exp.TryCast(this=sql.col("date_text"), to=exp.DataType.build("DATE"), safe=True),
            exp.Cast(this=exp.null(), to=exp.DataType.build("DATE"))))),
        Definition("total_fen", money_fen(sql.col("total_text"), sql.col("total_number"))),
        Definition("in_scope_fen", money_fen(sql.col("in_scope_text"),
                                             sql.col("in_scope_number"))),
    ]
    definitions += [Definition(f"up_{i}", money_fen(sql.col(f"up_text_{i}"),
                                                    sql.col(f"up_number_{i}")))
                    for i in range(len(columns.upstream))]
    definitions.append(Definition("year", exp.Extract(this=exp.var("YEAR"),
                                                      expression=sql.col("date"))))
    definitions.append(Definition("version", _version(versions)))
    for index, name in enumerate(columns.fields):
        definitions.append(Definition(f"fld_{index}", _field_value(columns, index, name)))
    checks = [_version_checks(columns, v, policy) for v, policy in enumerate(versions)]
    valid = sql.all_of([
        sql.col("text_ok"), sql.col("identities_ok"), sql.col("paid_ok"), sql.col("keys_ok"),
        sql.col("identities_len").eq(sql.add([
            sql.when(sql.col(f"has_{i}"), sql.num(1), sql.num(0))
            for i in range(len(columns.identities))] or [sql.num(0)])),
        *[_text_ok(name) for name in ("claim_id", "person_id")],
        sql.col("date").is_(exp.null()).not_(),
        sql.col("version") >= sql.num(0),
        sql.one_of(sql.col("visit"), VISITS),
        sql.col("total_fen").is_(exp.null()).not_(),
        sql.col("in_scope_fen").is_(exp.null()).not_(),
        sql.col("in_scope_fen") <= sql.col("total_fen"),
        *[sql.col(f"fld_ok_{i}") for i in range(len(columns.fields))],
        exp.paren(sql.case([(sql.col("version").eq(sql.num(v)), check)
                            for v, check in enumerate(checks)], exp.false())),
    ])
    definitions.append(Definition("suspect", sql.negate(exp.paren(valid))))
    return definitions


def _version(versions: tuple[Policy, ...]) -> exp.Expression:
    """The version in force on the claim's date (runtime/batch.py's version_for)."""
    branches = [(sql.col("date") >= exp.cast(sql.text(p.effective.isoformat()), "DATE"),
                 sql.num(v)) for v, p in reversed(list(enumerate(versions)))]
    return sql.case(branches, sql.num(-1))


def _field_value(columns: ClaimColumns, index: int, name: str) -> exp.Expression:
    field = columns.field_types()[name]
    raw = sql.col(f"fld_raw_{index}")
    if field.type == "money":
        return money_fen(raw)
    defaults = []
    for v, policy in enumerate(columns.versions):
        declared = policy.field(name)
        if declared is not None and declared.default is not None:
            value = declared.default
            literal = sql.boolean(value) if isinstance(value, bool) else sql.num(int(value))
            defaults.append((sql.col("version").eq(sql.num(v)), literal))
    if not defaults:
        return raw
    return exp.func("COALESCE", raw, sql.case(defaults))


def _version_checks(columns: ClaimColumns, v: int, policy: Policy) -> exp.Expression:
    known = {i.name for i in policy.identities}
    upstream = [line.name for line in policy.upstream_lines]
    declared = {f.name: f for f in policy.fields}
    tests = [
        sql.one_of(sql.col("scheme"), [s for s in SCHEMES if s in policy.schemes]),
        *[sql.negate(sql.col(columns.has_column(name))) for name in columns.identities
          if name not in known],
        *[sql.negate(sql.col(f"up_present_{i}")) for i, name in enumerate(columns.upstream)
          if name not in upstream],
        *[sql.col(columns.upstream_column(name)).is_(exp.null()).not_() for name in upstream],
        *[sql.negate(sql.col(f"fld_present_{i}")) for i, name in enumerate(columns.fields)
          if name not in declared],
    ]
    for name, field in declared.items():
        if field.type == "count":
            value = sql.col(f"fld_raw_{columns.fields.index(name)}")
            tests.append(exp.paren(sql.any_of([
                value.is_(exp.null()),
                sql.all_of([value >= sql.num(0), value <= sql.num(MAX_COUNT)])])))
        elif field.type == "money":
            present = sql.col(f"fld_present_{columns.fields.index(name)}")
            tests.append(exp.paren(sql.any_of([
                sql.negate(present),
                sql.col(columns.field_column(name)).is_(exp.null()).not_()])))
    tests += _upstream_bounds(columns, policy)
    return exp.paren(sql.all_of(tests))


def _upstream_bounds(columns: ClaimColumns, policy: Policy) -> list[exp.Expression]:
    """runtime/claims.check_upstream_bounds in SQL: C308 claims go to the validator."""
    from yibao.backends.lowering import condition_sql
    from yibao.compiler.conditions import condition_tree

    tests = []
    earlier: list[str] = []
    amount = lambda name: sql.col(columns.upstream_column(name))  # noqa: E731
    start = {"in_scope_cost": sql.col("in_scope_fen"), "total_cost": sql.col("total_fen")}
    for line in policy.lines:
        if not line.upstream:
            earlier.append(line.name)
            continue

        def bound(terms) -> exp.Expression:
            if terms is None:   # unspecified: paid anything, the validator refuses it (C311)
                return sql.num(0)
            if not terms:
                terms = ("in_scope_cost", *earlier)
            first, *minus = terms
            known = [amount(t) for t in minus if t in columns.upstream]
            # sqlglot writes a tree as it is, adding no parentheses: without these,
            # a − (b + c) would be rendered, and run, as a − b + c.
            return exp.Sub(this=start[first], expression=exp.paren(sql.add(known)))

        branches = [(exp.paren(condition_sql(columns, policy, condition_tree(condition))),
                     bound(terms))
                    for condition, terms, _ in line.conditional_bases]
        limit = sql.case(branches, bound(line.base_terms)) if branches else bound(line.base_terms)
        tests.append(amount(line.name) <= sql.positive(limit))
        if line.members is not None:
            held = sql.any_of([sql.col(columns.has_column(i.name)) for i in policy.identities
                               if i.name in line.members
                               or policy.effective_identity(i.name) in line.members])
            tests.append(exp.paren(sql.any_of([amount(line.name).eq(sql.num(0)), held])))
        earlier.append(line.name)
    return tests


def typed_row(claim, columns: ClaimColumns, version: int, idx: int, line_number: int) -> dict:
    """A claim the validator accepted → a row of the typed claims relation."""
    row = {"idx": idx, "line_number": line_number, "claim_id": claim.claim_id,
           "person_id": claim.person_id, "date": claim.date, "year": claim.date.year,
           "version": version, "scheme": claim.scheme, "visit": claim.visit,
           "total_fen": fen(claim.total_cost), "in_scope_fen": fen(claim.in_scope_cost)}
    paid = dict(claim.paid)
    for i, name in enumerate(columns.upstream):
        row[f"up_{i}"] = fen(paid[name]) if name in paid else None
    fields = dict(claim.fields)
    for i, name in enumerate(columns.fields):
        value = fields.get(name)
        row[f"fld_{i}"] = fen(value) if isinstance(value, Decimal) else value
    held = set(claim.identities)
    for i, name in enumerate(columns.identities):
        row[f"has_{i}"] = name in held
    return row

