"""Every SQL statement of a batch, built once per policy chain from its graphs.

The relations a runner materialises, in order:

``claims``      raw → typed (admission) → prepared: candidates held, unspecified
                needs (``c311``), route, and the integer keys ``py``/``ord``;
                ``suspect`` rows go to the validator instead
``valid``       claims that are not suspect ∪ suspects the validator accepted
``settleable``  valid, without later copies of a claim id (C312) and C311 claims
``slow_py``     person-years the window path cannot settle (backends/prepare.py)
``settled``     every claim's outcome: window settlement of the rest ∪ the walk over
                ``slow_py``, in the settled columns (backends/result_phase.py); the
                results join each to its claim id

Each statement is a sqlglot tree; ``sql(dialect)`` renders it for DuckDB or
Spark.  Nothing here executes anything.
"""

from __future__ import annotations

import functools

from sqlglot import exp

from yibao.backends import sql
from yibao.backends.admission import admission_definitions
from yibao.backends.columns import ClaimColumns
from yibao.backends.layers import Definition, layered_select
from yibao.backends.ledgers import CarriedLedger, WindowLedger
from yibao.backends.lowering import ColumnarLowering
from yibao.backends.prepare import preparation, slow_person_years
from yibao.backends.result_phase import output_columns
from yibao.backends.settle import walk_settlement, window_settlement
from yibao.compiler.lower import lower_policy
from yibao.dsl.loader import LoadedPolicy

HASHES = {"duckdb": "hash", "spark": "xxhash64"}


def typed_columns(columns: ClaimColumns) -> list[str]:
    names = ["idx", "line_number", "claim_id", "person_id", "date", "year", "version", "scheme",
             "visit", "total_fen", "in_scope_fen"]
    names += [f"up_{i}" for i in range(len(columns.upstream))]
    names += [f"fld_{i}" for i in range(len(columns.fields))]
    names += [f"has_{i}" for i in range(len(columns.identities))]
    return names


class SettlementPlan:
    def __init__(self, loaded: LoadedPolicy):
        self.versions = loaded.versions
        self.columns = ClaimColumns.of(self.versions)
        graphs = [lower_policy(policy) for policy in self.versions]
        self.window = [ColumnarLowering(g, v, self.columns, WindowLedger())
                       for v, g in enumerate(graphs)]
        self.walk = [ColumnarLowering(g, v, self.columns, CarriedLedger(self.columns))
                     for v, g in enumerate(graphs)]
        self._preparation, self.unspecified = preparation(self.columns, self.walk)
        self._trees: dict[tuple[str, str], exp.Expression] = {}

    def prepared_columns(self) -> list[str]:
        return typed_columns(self.columns) + ["py", "ord"] + [
            d.name for d in self._preparation]

    @functools.cached_property
    def _stored_columns(self) -> list[str]:
        """The prepared columns a later statement reads: what ``claims`` keeps.  The
        identities, the date and the rest serve admission and preparation only, and
        writing a column costs the engine as much as computing several (Benxi: 29
        columns of 41)."""
        later = [self.window_settled("fast_claims"), self.walk_settled("walk_claims"),
                 self.slow_person_years("claims"), self.collisions("claims"),
                 self.later_copies("claims", "duplicated"), self.unspecified_claims("claims"),
                 self.settleable("claims", "copies"), self.fast_claims("claims", "slow_py"),
                 self.walk_claims("claims", "slow_py"), self.results("settled", "claims")]
        read = {c.name for statement in later for c in statement.find_all(exp.Column)}
        return [name for name in self.prepared_columns() if name in read]

    # ---- statements -------------------------------------------------------------------
    def claims(self, raw: str, dialect: str) -> exp.Expression:
        """Admission and preparation of every raw row, in one pass."""
        definitions = admission_definitions(self.columns) + self._keys(dialect) + self._preparation
        return layered_select(exp.to_table(raw), definitions,
                              self._stored_columns + ["suspect"], alias="admit")

    def accepted(self, accepted: str, dialect: str) -> exp.Expression:
        """Preparation of the typed rows the validator accepted (they were suspect)."""
        definitions = self._keys(dialect) + self._preparation
        return layered_select(exp.to_table(accepted), definitions,
                              self._stored_columns + [exp.false().as_("suspect")],
                              alias="accept")

    def _keys(self, dialect: str) -> list[Definition]:
        person_year = exp.Anonymous(this=HASHES[dialect],
                                    expressions=[sql.col("person_id"), sql.bigint(sql.col("year"))])
        if dialect == "duckdb":   # an unsigned 64-bit hash: keep 63 bits for BIGINT
            person_year = exp.BitwiseRightShift(this=person_year, expression=sql.num(1))
        days = exp.DateDiff(this=sql.col("date"), unit=exp.var("DAY"),
                            expression=exp.cast(sql.text("1970-01-01"), "DATE"))
        order = exp.Add(this=exp.Mul(this=sql.bigint(days), expression=sql.num(sql.ORDER_SHIFT)),
                        expression=sql.col("idx"))
        return [Definition("py", sql.bigint(person_year)), Definition("ord", order)]

    def dense_keys(self, valid: str) -> exp.Expression:
        """``py`` as a dense rank, for the (never yet seen) case of a hash collision."""
        rank = exp.Window(this=exp.Anonymous(this="DENSE_RANK"), over="OVER", order=exp.Order(
            expressions=[exp.Ordered(this=sql.col("person_id")), exp.Ordered(this=sql.col("year"))]))
        names = [n for n in self._stored_columns if n != "py"]
        return exp.select(*names, sql.bigint(rank).as_("py"), exp.false().as_("suspect")).from_(
            valid)

    def collisions(self, valid: str) -> exp.Expression:
        """Keys shared by two (person, year): must be none for ``py`` to be used."""
        distinct = exp.Count(this=exp.Distinct(expressions=[sql.col("person_id"), sql.col("year")]))
        return exp.select(exp.Count(this=exp.Star())).from_(
            exp.select("py").from_(valid).group_by("py").having(distinct > sql.num(1))
            .subquery("shared"))

    def duplicate_ids(self, valid: str) -> exp.Expression:
        return exp.select("claim_id").from_(valid).group_by("claim_id").having(
            exp.Count(this=exp.Star()) > sql.num(1))

    def later_copies(self, valid: str, duplicates: str) -> exp.Expression:
        rank = exp.Window(this=exp.RowNumber(), partition_by=[sql.col("claim_id")],
                          order=exp.Order(expressions=[exp.Ordered(this=sql.col("idx"))]),
                          over="OVER")
        ranked = exp.select("idx", "claim_id", "line_number", rank.as_("copy")).from_(valid).where(
            sql.col("claim_id").isin(query=exp.select("claim_id").from_(duplicates)))
        return exp.select("idx", "claim_id", "line_number").from_(ranked.subquery("ranked")).where(
            sql.col("copy") > sql.num(1))

    def unspecified_claims(self, valid: str) -> exp.Expression:
        return exp.select("idx", "claim_id", "c311", "line_number").from_(valid).where(
            sql.col("c311").is_(exp.null()).not_())

    def settleable(self, valid: str, copies: str | None) -> exp.Expression:
        query = exp.select("*").from_(valid).where(sql.col("c311").is_(exp.null()))
        if copies is not None:
            query = query.where(exp.Not(this=sql.col("idx").isin(
                query=exp.select("idx").from_(copies))))
        return query

    def slow_person_years(self, settleable: str) -> exp.Expression:
        return slow_person_years(settleable, self.columns)

    def fast_claims(self, settleable: str, slow: str) -> exp.Expression:
        return exp.select("*").from_(settleable).where(exp.Not(this=sql.col("py").isin(
            query=exp.select("py").from_(slow))))

    def window_settled(self, fast_claims: str) -> exp.Expression:
        return self._built_once(("window", fast_claims), lambda: window_settlement(
            self.columns, self.window, exp.to_table(fast_claims)))

    def walk_claims(self, settleable: str, slow: str) -> exp.Expression:
        seq = exp.Window(this=exp.RowNumber(), partition_by=[sql.col(c) for c in sql.PERSON_YEAR],
                         order=exp.Order(expressions=[exp.Ordered(this=sql.col(c))
                                                      for c in sql.CLAIM_ORDER]),
                         over="OVER")
        return exp.select(*self._walked_columns, exp.alias_(seq, "seq", quoted=False)).from_(
            settleable).where(sql.col("py").isin(query=exp.select("py").from_(slow)))

    @functools.cached_property
    def _walked_columns(self) -> list[str]:
        """The claim columns the walk reads: the ROW_NUMBER that numbers its claims sorts
        every column it is given (all of them took a third of its time at 10^6)."""
        read = {c.name for c in self.walk_settled("walk_claims").find_all(exp.Column)}
        return [name for name in self.prepared_columns() if name in read]

    def walk_settled(self, walk_claims: str) -> exp.Expression:
        return self._built_once(("walk", walk_claims), lambda: walk_settlement(
            self.columns, self.walk, walk_claims))

    def _built_once(self, key: tuple[str, str], build) -> exp.Expression:
        """The settlement trees are the largest (≈ 0.1 s each to build) and are read
        twice: rendered, and searched for the claim columns they need."""
        if key not in self._trees:
            self._trees[key] = build()
        return self._trees[key]

    def results(self, settled: str, claims: str) -> exp.Expression:
        """Settled rows in input order, each with its claim id from ``claims``."""
        names = [exp.column(name, table="c" if name == "claim_id" else "s")
                 for name in output_columns(self.columns)]
        return exp.select(*names).from_(exp.to_table(settled).as_("s")).join(
            exp.to_table(claims).as_("c"), on=exp.column("idx", table="s").eq(
                exp.column("idx", table="c"))).order_by(exp.column("idx", table="s"))

    def output_columns(self) -> list[str]:
        return output_columns(self.columns)
