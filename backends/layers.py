"""Named column definitions → nested SELECTs, one level per dependency depth.

The lowering emits each node's value as a named expression over earlier
names.  SQL cannot refer to a column alias in the SELECT that defines it, and
window functions cannot nest, so the definitions are packed into levels: a
definition sits one level above the deepest name it reads, and window functions
of the same rank share a level, since each level with a window is a sort.  Each level
carries forward only the columns a later level or the result still reads
(planners spend their time on wide ``SELECT *`` chains, not on this).
"""

from __future__ import annotations

from typing import Sequence

import attrs
from sqlglot import exp


@attrs.frozen
class Definition:
    name: str
    expression: exp.Expression


def layered_select(source: exp.Expression, definitions: Sequence[Definition],
                   keep: Sequence[str | exp.Expression] | None = None,
                   alias: str = "level") -> exp.Select:
    """SELECT ``keep`` (default: every source column and definition) over ``source``.

    ``source`` is a table or a subquery (anything a FROM accepts).
    """
    levels = _levels(definitions)
    final = [exp.Star()] if keep is None else [
        exp.column(k) if isinstance(k, str) else k for k in keep]
    # What each level must pass on: what the levels above it and the result read.
    needed_above: list[set[str] | None] = [None] * len(levels)
    needed = None if keep is None else _reads(final)
    for depth in range(len(levels) - 1, -1, -1):
        needed_above[depth] = None if needed is None else set(needed)
        if needed is not None:
            for definition in levels[depth]:
                needed.discard(definition.name)
                needed |= _reads([definition.expression])
    query: exp.Expression = source
    for depth, batch in enumerate(levels):
        passed = needed_above[depth]
        defined = {d.name for d in batch}
        carried = [exp.Star()] if passed is None else [
            exp.column(name) for name in sorted(passed - defined)]
        columns = carried + [exp.alias_(d.expression, d.name, quoted=False, copy=False)
                             for d in batch]
        query = exp.select(*columns, copy=False).from_(_subquery(query, f"{alias}{depth + 1}"),
                                                       copy=False)
    return exp.select(*final, copy=False).from_(_subquery(query, f"{alias}{len(levels) + 1}"),
                                                copy=False)


def _reads(expressions) -> set[str]:
    return {c.name for e in expressions for c in e.find_all(exp.Column)}


def _subquery(query: exp.Expression, name: str) -> exp.Expression:
    if isinstance(query, exp.Select):
        return query.subquery(name, copy=False)
    return query


def _levels(definitions: Sequence[Definition]) -> list[list[Definition]]:
    """Each definition one level above the deepest name it reads — except that window
    functions wait for one another.

    Every level holding a window costs the engine a sort of the whole relation, so the
    windows of the same *rank* (how many windows lie on their longest chain of reads,
    their own included) share one level: the level after the last of their inputs.
    Everything else sits as low as its inputs allow."""
    reads: dict[str, set[str]] = {}
    rank: dict[str, int] = {}
    windowed: dict[str, bool] = {}
    for definition in definitions:
        if definition.name in reads:
            raise ValueError(f"column {definition.name} is defined twice")
        names = {c.name for c in definition.expression.find_all(exp.Column)} & reads.keys()
        reads[definition.name] = names
        windowed[definition.name] = definition.expression.find(exp.Window) is not None
        rank[definition.name] = max((rank[n] for n in names), default=0) + windowed[
            definition.name]
    depth: dict[str, int] = {}

    def place(definition: Definition) -> int:
        return 1 + max((depth[n] for n in reads[definition.name]), default=0)

    for r in range(max(rank.values(), default=0) + 1):
        windows = [d for d in definitions if rank[d.name] == r and windowed[d.name]]
        shared = max((place(d) for d in windows), default=0)
        for d in windows:
            depth[d.name] = shared
        for d in definitions:   # in the order given, which reads before it defines
            if rank[d.name] == r and not windowed[d.name]:
                depth[d.name] = place(d)
    levels: list[list[Definition]] = [[] for _ in range(max(depth.values(), default=0))]
    for definition in definitions:
        levels[depth[definition.name] - 1].append(definition)
    return levels
