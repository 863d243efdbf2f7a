"""Amendments: how a revision changes an inherited value table.

``amend 大病保险 { rate plus 5% §… }`` adds five points to every identity's
rate (``amend 基本医保 for 住院 §… { … }``: for claims of those visits only);
``deductible { 建档立卡贫困人口: times 50% }`` halves one identity's
deductible (falling back to the inherited ``others`` value); a plain value
replaces.  Values the amendment does not touch stay, marked inherited.  When
the inherited value is unknown (the base policy is not available, or left the
value unspecified) the result is unspecified, naming the clause that needs it.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from yibao.dsl import ast
from yibao.dsl.checking.identities import base_identity
from yibao.dsl.checking.state import CheckState
from yibao.dsl.checking.tables import require_spec_citation, sourced
from yibao.dsl.model import UNSPECIFIED, BandSchedule, ByIdentity, Sourced
from yibao.dsl.values import Kind


def amend_table(state: CheckState, current: ByIdentity | None, name: str,
                spec: ast.ValueSpec, kind: Kind, what: str,
                visits: tuple[str, ...] | None = None) -> ByIdentity | None:
    """``current`` changed by ``spec``: for every visit, or (``visits``) for claims of
    those visits only, each of which then gets its own table."""
    require_spec_citation(state, spec, what)
    if isinstance(spec, ast.InlineValue):
        changes = [(_EVERY, spec.value, spec.citation, spec.span)]
    else:
        changes = []
        for entry in spec.entries:
            for key_name in entry.names:
                key = base_identity(state, key_name)
                if key is not False:
                    changes.append((key, entry.value, entry.citation or spec.citation, entry.span))
    written: dict[int, Sourced | None] = {}   # a plain value is checked (and reported) once

    def changed(values) -> tuple:
        table = dict(values)
        fallback = table.get(None)
        for index, (key, value, citation, span) in enumerate(changes):
            for target in (list(table) or [None]) if key is _EVERY else [key]:
                before = table.get(target, fallback)
                if not isinstance(value, (ast.PlusRate, ast.TimesValue)):
                    if index not in written:
                        written[index] = _apply(state, before, value, citation, span, kind, what)
                    updated = written[index]
                else:
                    updated = _apply(state, before, value, citation, span, kind, what)
                if updated is not None:
                    table[target] = updated
        return tuple(table.items())

    values = () if current is None else current.values
    by_visit = dict(current.by_visit) if current is not None else {}
    if visits is None:
        return ByIdentity(name, changed(values),
                          tuple((visit, changed(old)) for visit, old in by_visit.items()))
    for visit in visits:
        by_visit[visit] = changed(by_visit.get(visit, values))
    return ByIdentity(name, values, tuple(by_visit.items()))


# An inline value: it changes every entry of the table.
_EVERY = object()


def _apply(state: CheckState, before: Sourced | None, value: ast.Value,
           citation: ast.Citation | None, span, kind: Kind, what: str) -> Sourced | None:
    version = state.version
    if isinstance(value, ast.PlusRate):
        return _derive(before, lambda old: _plus(old, value.delta.value), citation, span, version,
                       f"{what}: plus {value.delta.text} on a value the base policy must give")
    if isinstance(value, ast.TimesValue):
        return _derive(before, lambda old: _times(old, value.factor.value), citation, span, version,
                       f"{what}: times {value.factor.text} on a value the base policy must give")
    return sourced(state, value, citation, kind, what, span)


def _derive(before: Sourced | None, change, citation, span, version: str, missing_note: str):
    if before is None or before.value is UNSPECIFIED:
        return Sourced(UNSPECIFIED, citation, span, version, note=missing_note)
    if before.value is None:  # no limit stays no limit
        return Sourced(None, citation, span, version)
    return Sourced(change(before.value), citation, span, version)


def _plus(old, delta: Decimal):
    if isinstance(old, BandSchedule):
        return BandSchedule(tuple(attrs.evolve(b, rate=b.rate + delta) for b in old.slices))
    return old + delta


def _times(old, factor: Decimal):
    if isinstance(old, BandSchedule):
        return BandSchedule(tuple(attrs.evolve(b, rate=b.rate * factor) for b in old.slices))
    return old * factor
