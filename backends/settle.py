"""Settlement in SQL: the window-function path and the per-person walk.

Both produce the same *settled* columns per claim (backends/columns.py): the
winning candidate ``cand`` and, per computed line, whether it covered the
claim, its base, its slice, its payout before the ratio ceiling and its final
payout; the final upstream payouts when a ceiling may cut them.

* :func:`window_settlement` — for the person-years that keep one candidate
  and one version all year, one SELECT per (version, candidate), year-to-date
  figures as window sums (backends/ledgers.py).
* :func:`walk_settlement` — a recursive CTE that walks each remaining
  person-year claim by claim (``seq``), carrying the cumulative base and
  payout of every line; every candidate is lowered as columns and take
  highest picks the winner, ties to the identity declared first.
"""

from __future__ import annotations

from sqlglot import exp

from yibao.backends import sql
from yibao.backends.columns import ClaimColumns
from yibao.backends.layers import Definition, layered_select
from yibao.backends.lowering import ColumnarLowering, Scope
from yibao.backends.prepare import ROUTE_STRIDE, candidates, held_column
from yibao.compiler.lower import CANDIDATE_TOTAL, CEILING, payout_id

KEYS = ("idx", "py", "ord", "version")   # the result phase joins the claim back by idx


def carried(columns: ClaimColumns) -> list[str]:
    return [*KEYS]


def settled_values(columns: ClaimColumns, lowering: ColumnarLowering, scope: Scope,
                   candidate: str | None) -> dict[str, exp.Expression]:
    """The settled columns of one lowered candidate, typed alike on every path."""
    values = scope.values
    ceiling = values.get(CEILING)
    lines = {line.name for line in lowering.policy.computed_lines}
    result: dict[str, exp.Expression] = {
        "cand": sql.text(candidate) if candidate is not None else sql.typed_null("VARCHAR")}
    for line in columns.computed:
        present = line in lines
        parts = {
            "cov": values[f"{line}.covered"] if present else exp.false(),
            "base": values[f"{line}.base"] if present else sql.num(0),
            "slice": values[f"{line}.slice"] if present else sql.num(0),
            "pay": values[payout_id(line)] if present else sql.num(0),
        }
        parts["fin"] = ceiling[line] if present and ceiling is not None else parts["pay"]
        for what, value in parts.items():
            result[columns.settled(what, line)] = value if what == "cov" else sql.bigint(value)
    for line in columns.upstream:
        upstream = sql.col(columns.upstream_column(line))
        final = ceiling.get(line, upstream) if ceiling is not None else upstream
        result[columns.final_upstream(line)] = sql.bigint(final)
    result["total"] = values[CANDIDATE_TOTAL]
    return result


# ---- one identity all year: window functions ---------------------------------------
def window_settlement(columns: ClaimColumns, lowerings: list[ColumnarLowering],
                      source: exp.Expression) -> exp.Expression:
    """UNION ALL of one SELECT per (version, candidate) over the claims in ``source``."""
    selects = []
    for lowering in lowerings:
        for k, candidate in enumerate(candidates(lowering.policy)):
            scope = lowering.lower_candidate(candidate, "c_")
            settled = settled_values(columns, lowering, scope, candidate)
            definitions = scope.definitions + [
                Definition(f"out_{name}", value) for name, value in settled.items()
                if name != "total"]
            route = sql.num(lowering.version * ROUTE_STRIDE + k)
            filtered = exp.select("*").from_(source.copy()).where(sql.col("route_key").eq(route))
            keep = carried(columns) + [exp.alias_(sql.col(f"out_{name}"), name, quoted=False)
                              for name in columns.settled_columns()]
            selects.append(layered_select(filtered.subquery("fast_rows"), definitions, keep,
                                          alias=f"w{lowering.version}_{k}_"))
    union = selects[0]
    for select in selects[1:]:
        union = exp.union(union, select, distinct=False, copy=False)
    return union


# ---- anything else: the per-person walk ------------------------------------------------
def walk_step(columns: ClaimColumns, lowerings: list[ColumnarLowering],
              source: exp.Expression) -> exp.Select:
    """Settle one claim per person-year from the previous claim's state (``prev_*``)."""
    definitions: list[Definition] = []
    per_version: list[tuple[int, dict[str, exp.Expression]]] = []
    for lowering in lowerings:
        v = lowering.version
        options = []
        for k, candidate in enumerate(candidates(lowering.policy)):
            scope = lowering.lower_candidate(candidate, f"v{v}k{k}_")
            definitions += scope.definitions
            settled = settled_values(columns, lowering, scope, candidate)
            total = f"v{v}k{k}_total"
            definitions.append(Definition(total, settled.pop("total")))
            options.append((k, sql.col(held_column(v, k)), sql.col(total), settled))
        definitions += _take_highest(v, options)
        chosen = {name: sql.case([(sql.col(f"win_{v}").eq(sql.num(k)), settled[name])
                                  for k, _, _, settled in options])
                  for name in options[0][3]}
        per_version.append((v, chosen))
    for name in columns.settled_columns():
        branches = [(sql.col("version").eq(sql.num(v)), chosen[name]) for v, chosen in per_version]
        value = branches[0][1] if len(branches) == 1 else sql.case(branches)
        definitions.append(Definition(f"out_{name}", value))
    for line in columns.computed:
        i = columns.line_index(line)
        definitions.append(Definition(f"s_c_{i}", exp.Add(
            this=sql.col(f"prev_c_{i}"), expression=sql.col(f"out_base_{i}"))))
        definitions.append(Definition(f"s_p_{i}", exp.Add(
            this=sql.col(f"prev_p_{i}"), expression=sql.col(f"out_fin_{i}"))))
    keep = carried(columns) + ["seq"] + [exp.alias_(sql.col(f"out_{name}"), name, quoted=False)
                             for name in columns.settled_columns()]
    keep += [sql.bigint(sql.col(f"{s}_{i}")).as_(f"{s}_{i}")
             for i in range(len(columns.computed)) for s in ("s_c", "s_p")]
    return layered_select(source, definitions, keep, alias="step")


def _take_highest(version: int, options) -> list[Definition]:
    """The held candidate with the highest total; ties to the first (DOMAIN.md §3.5)."""
    best = f"best_{version}"
    offers = [sql.when(held, total, sql.typed_null("BIGINT")) for _, held, total, _ in options]
    return [
        Definition(best, sql.greatest(*offers)),
        Definition(f"win_{version}", sql.case(
            [(sql.all_of([held, total.eq(sql.col(best))]), sql.num(k))
             for k, held, total, _ in options])),
    ]


def walk_settlement(columns: ClaimColumns, lowerings: list[ColumnarLowering],
                    source: str) -> exp.Expression:
    """WITH RECURSIVE walk: claim ``seq`` = 1 from zero, then each next claim from the last."""
    state = [(s, i) for i in range(len(columns.computed)) for s in ("c", "p")]
    claim_columns = exp.Column(this=exp.Star(), table=exp.to_identifier("c"))
    first = exp.select(claim_columns, *[
        sql.bigint(sql.num(0)).as_(f"prev_{s}_{i}") for s, i in state]).from_(
        exp.to_table(source).as_("c")).where(sql.col("seq").eq(sql.num(1)))
    following = exp.select(claim_columns.copy(), *[
        exp.column(f"s_{s}_{i}", table="w").as_(f"prev_{s}_{i}") for s, i in state]).from_(
        exp.to_table("walk").as_("w")).join(
        exp.to_table(source).as_("c"),
        on=sql.all_of([
            exp.column("py", table="c").eq(exp.column("py", table="w")),
            exp.column("seq", table="c").eq(exp.Add(this=exp.column("seq", table="w"),
                                                    expression=sql.num(1)))]))
    anchor = walk_step(columns, lowerings, first.subquery("first_claims"))
    recursive = walk_step(columns, lowerings, following.subquery("next_claims"))
    body = exp.union(anchor, recursive, distinct=False, copy=False)
    return exp.select(*[sql.col(k) for k in carried(columns)],
                      *[sql.col(name) for name in columns.settled_columns()]).from_(
        "walk").with_("walk", as_=body, recursive=True, copy=False)
