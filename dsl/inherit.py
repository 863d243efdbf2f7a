"""Mark everything a revision starts from as inherited from its predecessor.

A revision (``extends``) begins with its predecessor's values, each flagged
``inherited`` and keeping the version that set it; whatever the revision
states again replaces them.  `check` and the trace show what was carried over.
"""

from __future__ import annotations

import attrs

from yibao.dsl.model import AlertDef, ByIdentity, LineDef


def inherit_table(table: ByIdentity | None) -> ByIdentity | None:
    if table is None:
        return None
    return ByIdentity(table.name, _inherited(table.values), tuple(
        (visit, _inherited(values)) for visit, values in table.by_visit))


def _inherited(values):
    return tuple((key, attrs.evolve(value, inherited=True)) for key, value in values)


def inherit_line(line: LineDef) -> LineDef:
    return attrs.evolve(
        line,
        deductible=inherit_table(line.deductible),
        rate=inherit_table(line.rate),
        cap=inherit_table(line.cap),
        per_unit=inherit_table(line.per_unit),
    )


def inherit_alert(alert: AlertDef) -> AlertDef:
    return attrs.evolve(alert, threshold=inherit_table(alert.threshold))
