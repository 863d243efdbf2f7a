"""Before settlement: each claim's candidates, the values it needs, and its route.

For every admitted claim this stage works out, from the claim alone:

* which candidate identities it holds under its version (``held_<v>_<k>``:
  docs/specification.md §8 evaluates the claim once per effective identity, or once with
  no identity);
* whether it needs a value the notice leaves unspecified (C311, docs/specification.md §12)
  — such a claim is refused and never touches the year-to-date figures;
* its route: the person-year is settled by window functions when every claim
  has exactly one candidate and the person keeps the same candidate and
  version all year (backends/ledgers.py proves that exact); otherwise by the
  per-person walk.  A ratio ceiling that may cut a capped computed line also
  sends the person-year to the walk, since the cut changes what is left of
  the cap (docs/specification.md §9), and so does an alert threshold that changes
  during the year (``thr_<a>``: the window path tests the running burden
  against the one threshold, backends/ledgers.py).
"""

from __future__ import annotations

import itertools
from typing import Callable, Iterator

import attrs
from yibao.backends.sql import exp

from yibao.backends import sql
from yibao.backends.columns import ClaimColumns
from yibao.backends.layers import Definition
from yibao.backends.lowering import ColumnarLowering
from yibao.runtime.awaited import awaited_values, refusal_words
from yibao.compiler.conditions import condition_fields, holds
from yibao.compiler.graph import Node, Op, Phase
from yibao.compiler.payloads import Looked, table_value
from yibao.dsl.model import NO_IDENTITY, VISITS, Policy

ROUTE_STRIDE = 1000   # route key = version × stride + candidate index


def candidates(policy: Policy) -> list[str | None]:
    """The candidates of a version, in take-highest order; None is "no identity"."""
    effective = {policy.effective_identity(i.name) for i in policy.identities}
    return [None] + sorted(effective, key=policy.identity_order)


def held_column(version: int, index: int) -> str:
    return f"held_{version}_{index}"


@attrs.frozen
class Unspecified:
    """A value a claim may need that its notice leaves open: the C311 message."""

    message: str
    hint: str = ("the notice leaves the value to another document: supply it in a revision "
                 "or a base policy; yibao never invents it")


def preparation(columns: ClaimColumns, lowerings: list[ColumnarLowering]
                ) -> tuple[list[Definition], list[Unspecified]]:
    """Definitions over the admitted claims, and the C311 messages ``c311`` indexes."""
    definitions: list[Definition] = []
    needs: list[tuple[exp.Expression, int]] = []
    messages: list[Unspecified] = []
    counts, keys, ceilings = [], [], []
    no_identity = sql.negate(exp.paren(sql.any_of(
        [sql.col(columns.has_column(name)) for name in columns.identities])))
    for lowering in lowerings:
        v, policy = lowering.version, lowering.policy
        is_version = sql.col("version").eq(sql.num(v))
        held = []
        for k, candidate in enumerate(candidates(policy)):
            test = no_identity if candidate is None else lowering.holds([candidate])
            definitions.append(Definition(held_column(v, k), test))
            held.append((k, sql.col(held_column(v, k))))
            needs_of = (_awaited_needs if policy.awaits_base is not None
                        else _unspecified_needs)
            for need in needs_of(lowering, candidate):
                condition, message = need
                needs.append((sql.all_of([is_version, sql.col(held_column(v, k)),
                                          exp.paren(condition)]), len(messages)))
                messages.append(message)
        count = sql.add([sql.when(h, sql.num(1), sql.num(0)) for _, h in held])
        counts.append((is_version, count))
        keys.append((is_version, sql.case([(h, sql.num(v * ROUTE_STRIDE + k)) for k, h in held])))
        ceilings.append((is_version, _ceiling_cuts_cap(lowering)))
    definitions.append(Definition("c311", sql.case(
        [(condition, sql.num(index)) for condition, index in needs], sql.typed_null("INT"))))
    definitions.append(Definition("n_candidates", _by_version(counts, sql.num(0))))
    definitions.append(Definition("route_key", _by_version(keys, sql.num(-1))))
    definitions.append(Definition("ceiling_walk", _by_version(ceilings, exp.false())))
    for name in columns.alerts:
        definitions.append(Definition(columns.threshold_column(name), _by_version(
            [(sql.col("version").eq(sql.num(lowering.version)), _threshold(lowering, name))
             for lowering in lowerings], sql.typed_null("BIGINT"))))
    return definitions, messages


def _threshold(lowering: ColumnarLowering, name: str) -> exp.Expression:
    alert = next((a for a in lowering.policy.alerts if a.name == name), None)
    return sql.typed_null("BIGINT") if alert is None else lowering.alert_threshold(alert)


def _by_version(branches, default):
    if len(branches) == 1:
        return branches[0][1]
    return sql.case(branches, default)


def open_lookups(graph, candidate: str | None, cover: Callable[[Node], object]
                 ) -> Iterator[tuple[Node, list[str], list[tuple[str | None, Looked]]]]:
    """The values ``candidate`` may read that the notice leaves unspecified, in evaluation
    order (the scalar evaluator stops at the first: runtime/evaluate.py): for each LOOKUP
    of the candidate phase that has one, (node, the visits its table names, [(visit,
    value)]), where visit None stands for every visit the table does not name.  An
    amendment naming visits gives those visits their own value (Lhasa §四(四)一).
    ``cover`` works out a COVERS node in the caller's own scope (SQL or arrays), which a
    LOOKUP's ``covered`` input then reads there."""
    for node in graph.phase(Phase.CANDIDATE):
        if node.op is Op.COVERS:
            cover(node)
            continue
        if node.op is not Op.LOOKUP:
            continue
        table = node.payload
        named = [visit for visit, _ in table.by_visit]
        cases = [(visit, table.for_claim(candidate, visit)) for visit in named]
        cases.append((None, table_value(table.values, candidate)))
        open_cases = [(visit, looked) for visit, looked in cases
                      if looked is not None and looked.unspecified is not None]
        if open_cases:
            yield node, named, open_cases


def _unspecified_needs(lowering: ColumnarLowering, candidate: str | None):
    """(claim condition, message) for each unspecified value the candidate may read."""
    policy = lowering.policy
    scope = lowering.claim_scope(candidate, "c311_")

    def cover(node: Node) -> None:
        scope.values[node.id] = lowering.lower_node(node, scope)

    for node, named, cases in open_lookups(lowering.graph, candidate, cover):
        covered = scope.values[node.input("covered")]
        if _never(covered):
            continue
        for visit, looked in cases:
            condition = _inline(covered, scope)
            if visit is not None:
                condition = sql.all_of([exp.paren(condition),
                                        sql.col("visit").eq(sql.text(visit))])
            elif named:
                others = sql.negate(exp.paren(sql.one_of(sql.col("visit"), named)))
                condition = sql.all_of([exp.paren(condition), others])
            yield condition, unspecified(policy, node.payload, candidate, looked.unspecified)


def unspecified(policy: Policy, table, candidate: str | None, sourced) -> Unspecified:
    """The C311 words for a value ``table`` (a LOOKUP's payload) leaves open for
    ``candidate``: the SQL's and the columnar engine's (backends/columnar/prepare.py)."""
    clause = f"§{sourced.clause}" if sourced.clause else "its clause"
    note = f" ({sourced.note})" if sourced.note else ""
    return Unspecified(f"{table.table} for {candidate or NO_IDENTITY} is unspecified in "
                       f"{sourced.version or policy.policy_id} {clause}{note}; this claim needs it")


def _awaited_needs(lowering: ColumnarLowering, candidate: str | None):
    """An amendment whose base is missing: (claim condition, refusal) for each visit and
    each truth of the fields the lines' conditions read — the values the claim needs
    depend on nothing else — worded by runtime/awaited.py as the scalar path words it."""
    policy = lowering.policy
    fields = []
    for line in policy.computed_lines:
        fields += [f for f in condition_fields(line.condition) if f not in fields]
    for visit in VISITS:
        for truths in itertools.product((False, True), repeat=len(fields)):
            value = dict(zip(fields, truths))
            needed = awaited_values(policy, candidate, visit,
                                    lambda condition: holds(condition, value))
            if not needed:
                continue
            message, hint = refusal_words(policy, needed)
            tests = [sql.col("visit").eq(sql.text(visit))] + [
                exp.paren(lowering.condition(_field_is(name, truth)))
                for name, truth in value.items()]
            yield sql.all_of(tests), Unspecified(message, hint)


def _field_is(name: str, truth: bool) -> tuple:
    """The condition `name` (or `not name`), in graph form (compiler/conditions.py)."""
    field = ("field", name)
    return field if truth else ("not", field)


def _inline(expression: exp.Expression, scope) -> exp.Expression:
    """Replace the scope's defined columns by their expressions (COVERS is claim-level)."""
    defined = {d.name: d.expression for d in scope.definitions}

    def substitute(node):
        if isinstance(node, exp.Column) and node.name in defined:
            return exp.paren(defined[node.name].copy())
        return node

    return expression.copy().transform(substitute)


def _never(covered) -> bool:
    return isinstance(covered, exp.Boolean) and not covered.this


def _ceiling_cuts_cap(lowering: ColumnarLowering) -> exp.Expression:
    policy = lowering.policy
    ceiling = policy.ceiling
    if ceiling is None:
        return exp.false()
    computed = {line.name: line for line in policy.computed_lines}
    capped = any(computed[name].cap is not None and any(
        sourced.value is not None for _, sourced in computed[name].cap.items())
        for name in ceiling.reduces if name in computed)
    if not capped:
        return exp.false()
    return sql.all_of([sql.one_of(sql.col("visit"), ceiling.visits),
                       exp.paren(lowering.holds(ceiling.identities))])


def slow_person_years(source: str, columns: ClaimColumns) -> exp.Select:
    """The person-years the window path cannot settle exactly (see the module doc).

    One group by person-year with as few aggregates as say it: each one costs the
    engine a state update per claim (the first form, with counts to tell a missing
    threshold from a present one, took 0.19 s at 10^6 claims; this one 0.14)."""
    key = sql.col("route_key")
    alone = sql.all_of([sql.col("n_candidates").eq(sql.num(1)),
                        sql.negate(exp.func("COALESCE", sql.col("ceiling_walk"), exp.false()))])
    one_route = sql.all_of([
        exp.Min(this=key).eq(exp.Max(this=key)),
        exp.LogicalAnd(this=alone),
    ] + [_one_threshold(sql.col(columns.threshold_column(name))) for name in columns.alerts])
    return exp.select("py").from_(source).group_by("py").having(sql.negate(exp.paren(one_route)))


# Amounts in a policy have no sign (dsl/policy.lark's AMOUNT), so no threshold is -1.
NO_THRESHOLD = -1


def _one_threshold(threshold: exp.Expression) -> exp.Expression:
    """The alert's threshold is the same on every claim of the person-year, or on none."""
    present_or_not = exp.func("COALESCE", threshold, sql.num(NO_THRESHOLD))
    return exp.Min(this=present_or_not).eq(exp.Max(this=present_or_not.copy()))


def window_person_years(py, count: int, route_key, alone, thresholds):
    """:func:`slow_person_years`'s rule over arrays, for the columnar engine
    (backends/columnar/prepare.py): ``py`` each claim's person-year as a dense code in
    [0, count); ``alone`` a claim's one candidate and no ceiling that may cut a capped
    line; ``thresholds`` each alert's threshold, NO_THRESHOLD where the claim has none.
    True for each person-year the window path settles: every claim alone, one route
    all year, each threshold the same on every claim.  No sort: a value differs within
    a person-year when it differs from the one any claim of it wrote."""
    import numpy as np

    window = np.ones(count, dtype=bool)
    window[py[~alone]] = False
    for values in [route_key, *thresholds]:
        written = np.empty(count, dtype=values.dtype)
        written[py] = values
        window[py[values != written[py]]] = False
    return window
