"""Settlement in SQL: the window-function path and the per-person walk.

Both give every claim its outcome in the output columns
(backends/result_phase.py): the identity that won, each line's final payout,
the totals, alerts and referrals.

* :func:`window_settlement` — person-years that keep one candidate and one
  version all year: one SELECT per (version, candidate), year-to-date figures
  as window sums (backends/ledgers.py).
* :func:`walk_settlement` — a recursive CTE that walks each remaining
  person-year claim by claim (``seq``), carrying each line's cumulative base
  and payout and each alert's burden and state; every candidate is lowered as
  columns and take highest picks the winner, ties to the identity declared
  first (docs/specification.md §8).
"""

from __future__ import annotations

from sqlglot import exp

from yibao.backends import sql
from yibao.backends.columns import ClaimColumns
from yibao.backends.layers import Definition, layered_select
from yibao.backends.lowering import ColumnarLowering
from yibao.backends.prepare import ROUTE_STRIDE, candidates, held_column
from yibao.backends.result_phase import (outputs, settled_columns, settled_type, winner_parts,
                                         winner_values)
from yibao.compiler.lower import CANDIDATE_TOTAL, final_payout_id

KEYS = ("idx", "version")


def _candidate_text(candidate: str | None) -> exp.Expression:
    return sql.text(candidate) if candidate is not None else sql.typed_null("VARCHAR")


def _keep(columns: ClaimColumns) -> list:
    named = [exp.alias_(sql.col(f"out_{name}"), name, quoted=False)
             for name in settled_columns(columns) if name not in KEYS]
    return [*KEYS] + named


# ---- one identity all year: window functions ---------------------------------------
def window_settlement(columns: ClaimColumns, lowerings: list[ColumnarLowering],
                      source: exp.Expression) -> exp.Expression:
    """UNION ALL of one SELECT per (version, candidate) over the claims in ``source``."""
    selects = []
    for lowering in lowerings:
        for k, candidate in enumerate(candidates(lowering.policy)):
            scope = lowering.lower_settlement(candidate, "c_")
            results = outputs(columns, lowering, scope, _candidate_text(candidate))
            definitions = scope.definitions + [
                Definition(f"out_{name}", value) for name, value in results.items()]
            route = sql.num(lowering.version * ROUTE_STRIDE + k)
            filtered = exp.select("*").from_(source.copy()).where(sql.col("route_key").eq(route))
            selects.append(layered_select(filtered.subquery("fast_rows"), definitions,
                                          _keep(columns), alias=f"w{lowering.version}_{k}_"))
    union = selects[0]
    for select in selects[1:]:
        union = exp.union(union, select, distinct=False, copy=False)
    return union


# ---- anything else: the per-person walk ------------------------------------------------
def _state_names(columns: ClaimColumns) -> list[tuple[str, int, str]]:
    """(state, index, SQL type) carried from claim to claim of a person-year."""
    lines = [(s, i, "BIGINT") for i in range(len(columns.computed)) for s in ("c", "p")]
    alerts = [(s, i, kind) for i in range(len(columns.alerts))
              for s, kind in (("ab", "BIGINT"), ("af", "BOOLEAN"))]
    return lines + alerts


def _winner_part(columns: ClaimColumns, v: int, part: str, line: str) -> str:
    index = columns.upstream.index(line) if part == "fin_up" else columns.line_index(line)
    return f"v{v}_{part}_{index}"


def _version_step(columns: ClaimColumns, lowering: ColumnarLowering):
    """One version's candidates, take highest, and result phase over the winner."""
    v, policy = lowering.version, lowering.policy
    definitions: list[Definition] = []
    options = []
    for k, candidate in enumerate(candidates(policy)):
        scope = lowering.lower_candidate(candidate, f"v{v}k{k}_")
        definitions += scope.definitions
        values = scope.values
        parts = {(part, line.name): values[node]
                 for line in policy.computed_lines
                 for part, node in winner_parts(policy, line.name).items()}
        parts.update({("fin_up", line.name): values[final_payout_id(policy, line.name)]
                      for line in policy.upstream_lines})
        total = f"v{v}k{k}_total"
        definitions.append(Definition(total, values[CANDIDATE_TOTAL]))
        options.append((k, candidate, sql.col(held_column(v, k)), sql.col(total), parts))
    definitions += _take_highest(v, options)
    wins = lambda k: sql.col(f"win_{v}").eq(sql.num(k))  # noqa: E731
    for part, line in options[0][4]:
        definitions.append(Definition(_winner_part(columns, v, part, line), sql.case(
            [(wins(k), parts[(part, line)]) for k, _, _, _, parts in options])))
    chosen = f"v{v}_cand"
    definitions.append(Definition(chosen, sql.case(
        [(wins(k), _candidate_text(candidate)) for k, candidate, _, _, _ in options])))
    result = lowering.lower_result(
        winner_values(lowering, lambda part, line: sql.col(_winner_part(columns, v, part, line))),
        sql.col(chosen), f"v{v}r_")
    definitions += result.definitions
    return definitions, outputs(columns, lowering, result, sql.col(chosen)), result.state


def walk_step(columns: ClaimColumns, lowerings: list[ColumnarLowering],
              source: exp.Expression) -> exp.Select:
    """Settle one claim per person-year from the previous claim's state (``prev_*``)."""
    definitions: list[Definition] = []
    per_version = []
    for lowering in lowerings:
        version_definitions, results, state = _version_step(columns, lowering)
        definitions += version_definitions
        per_version.append((lowering, results, state))

    def by_version(value_of, default):
        branches = [(sql.col("version").eq(sql.num(lowering.version)), value_of(lowering, r, s))
                    for lowering, r, s in per_version]
        return branches[0][1] if len(branches) == 1 else sql.case(branches, default)

    for name in settled_columns(columns):
        if name not in KEYS:
            definitions.append(Definition(f"out_{name}", by_version(
                lambda lowering, results, state: results[name], exp.null())))
    for state_name, index, kind in _state_names(columns):
        previous = sql.col(f"prev_{state_name}_{index}")
        definitions.append(Definition(f"s_{state_name}_{index}", exp.Cast(
            this=by_version(lambda lowering, results, state: _next_state(
                columns, lowering, results, state, state_name, index, previous), previous),
            to=sql.data_type(kind))))
    keep = [exp.alias_(sql.col(f"out_{name}"), name, quoted=False) if part == "output" else name
            for name, part in _walk_row(columns)]
    return layered_select(source, definitions, keep, alias="step")


def _walk_row(columns: ClaimColumns) -> list[tuple[str, str]]:
    """A walk row's columns in order, each a "key", an "output" or a "state": the
    step and the anchor must list them alike (UNION ALL matches by position)."""
    return ([(name, "key") for name in (*KEYS, "py", "seq")]
            + [(name, "output") for name in settled_columns(columns) if name not in KEYS]
            + [(f"s_{s}_{i}", "state") for s, i, _ in _state_names(columns)])


def _next_state(columns, lowering, results, state, name: str, index: int, previous):
    """The state after this claim: the winner's base and payout are committed (the scalar
    evaluator's _commit); an alert's burden and state come from the ledger."""
    if name in ("ab", "af"):
        return state.get((name, index), previous)
    line = columns.computed[index]
    if lowering.policy.line(line) is None:
        return previous
    if name == "c":
        added = sql.col(_winner_part(columns, lowering.version, "base", line))
    else:
        added = results[columns.settled("fin", line)]
    return exp.Add(this=previous, expression=added)


def _take_highest(version: int, options) -> list[Definition]:
    """The held candidate with the highest total; ties to the first (docs/specification.md §8)."""
    best = f"best_{version}"
    offers = [sql.when(held, total, sql.typed_null("BIGINT")) for _, _, held, total, _ in options]
    return [
        Definition(best, sql.greatest(*offers)),
        Definition(f"win_{version}", sql.case(
            [(sql.all_of([held, total.eq(sql.col(best))]), sql.num(k))
             for k, _, held, total, _ in options])),
    ]


def walk_settlement(columns: ClaimColumns, lowerings: list[ColumnarLowering],
                    source: str) -> exp.Expression:
    """WITH RECURSIVE walk: a zero state at ``seq`` 0, then each claim from the last.

    The anchor is a state, not a claim, so the step's SQL appears once: the engine
    plans it once (the step is most of the statement, and planning it took as long
    as settling 10^5 walked claims)."""
    state = _state_names(columns)
    zero = {f"s_{s}_{i}": sql.bigint(sql.num(0)) if kind == "BIGINT" else exp.false()
            for s, i, kind in state}

    def first(name: str, part: str) -> exp.Expression:
        if part == "state":
            return zero[name]
        if part == "output":
            return sql.typed_null(settled_type(name))
        return sql.bigint(sql.num(0)) if name == "seq" else exp.column(name, table="c")

    anchor = exp.select(*[first(name, part).as_(name) for name, part in _walk_row(columns)]).from_(
        exp.to_table(source).as_("c")).where(exp.column("seq", table="c").eq(sql.num(1)))
    claim_columns = exp.Column(this=exp.Star(), table=exp.to_identifier("c"))
    following = exp.select(claim_columns, *[
        exp.column(f"s_{s}_{i}", table="w").as_(f"prev_{s}_{i}") for s, i, _ in state]).from_(
        exp.to_table("walk").as_("w")).join(
        exp.to_table(source).as_("c"),
        on=sql.all_of([
            exp.column("py", table="c").eq(exp.column("py", table="w")),
            exp.column("seq", table="c").eq(exp.Add(this=exp.column("seq", table="w"),
                                                    expression=sql.num(1)))]))
    recursive = walk_step(columns, lowerings, following.subquery("next_claims"))
    body = exp.union(anchor, recursive, distinct=False, copy=False)
    return exp.select(*settled_columns(columns)).from_("walk").where(
        sql.col("seq") > sql.num(0)).with_("walk", as_=body, recursive=True, copy=False)
