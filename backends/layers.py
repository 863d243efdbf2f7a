"""Named column definitions → nested SELECTs, one level per dependency depth.

The lowering emits each node's value as a named expression over earlier
names.  SQL cannot refer to a column alias in the SELECT that defines it, and
window functions cannot nest, so the definitions are packed into levels: a
definition sits one level above the deepest name it reads.  Each level
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
    depth: dict[str, int] = {}
    levels: list[list[Definition]] = []
    for definition in definitions:
        if definition.name in depth:
            raise ValueError(f"column {definition.name} is defined twice")
        reads = {c.name for c in definition.expression.find_all(exp.Column)}
        level = 1 + max((depth[name] for name in reads if name in depth), default=0)
        depth[definition.name] = level
        while len(levels) < level:
            levels.append([])
        levels[level - 1].append(definition)
    return levels
