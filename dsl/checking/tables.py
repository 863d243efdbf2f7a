"""Value typing: a written value or table → a :class:`ByIdentity` of model values,
each with its citation (S205, S208, S209, S210, S212, S218, S224)."""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from yibao.core.money import format_rate
from yibao.core.span import Span
from yibao.dsl import ast
from yibao.dsl.checking.identities import base_identity
from yibao.dsl.checking.state import CheckState, suggest
from yibao.dsl.model import OTHERS, BandSchedule, ByIdentity, Sourced
from yibao.dsl.values import Kind, ValueKindError, rates_in, to_model_value

# The same words as lint's L101: `check` and `lint` give one hint for one mistake.
RATE_RANGE_HINT = "a rate is a share between 0% and 100%"


def require_spec_citation(state: CheckState, spec: ast.ValueSpec, what: str) -> None:
    """A value is cited by its own citation, or a table by one citation per entry."""
    if spec.citation is None and not (
        isinstance(spec, ast.TableValue) and all(e.citation for e in spec.entries)
    ):
        state.require_citation(None, what, spec.span)


def table(state: CheckState, name: str, spec: ast.ValueSpec, kind: Kind, what: str,
          identity_keys: bool = True, keys: Iterable[str] | None = None) -> ByIdentity | None:
    """A value spec → ByIdentity; ``keys`` restricts non-identity keys (e.g. schemes)."""
    require_spec_citation(state, spec, what)
    entries: list[tuple[str | None, Sourced]] = []
    if isinstance(spec, ast.InlineValue):
        value = sourced(state, spec.value, spec.citation, kind, what, spec.span)
        return None if value is None else ByIdentity(name, ((None, value),))
    seen: dict[str | None, Span] = {}
    ok = True
    for entry in spec.entries:
        value = sourced(state, entry.value, entry.citation or spec.citation, kind, what,
                        entry.span)
        ok = ok and value is not None
        for key_name in entry.names:
            key = _table_key(state, key_name, identity_keys, keys)
            if key is False:
                ok = False
                continue
            if key in seen:
                state.error("S212", f"{key_name.text} is given two values in {what}",
                            key_name.span)
                ok = False
                continue
            seen[key] = key_name.span
            if value is not None:
                entries.append((key, value))
    return ByIdentity(name, tuple(entries)) if ok else None


def _table_key(state: CheckState, name: ast.Name, identity_keys: bool,
               keys: Iterable[str] | None):
    if identity_keys:
        return base_identity(state, name)
    if name.text == OTHERS:
        return None
    if keys is not None and name.text not in keys:
        state.error("S218", f"unknown key {name.text}", name.span,
                    hint=suggest(name.text, keys) or "expected one of " + ", ".join(keys))
        return False
    return name.text


def sourced(state: CheckState, value: ast.Value, citation: ast.Citation | None, kind: Kind,
            what: str, span: Span) -> Sourced | None:
    """A written value as a model value with its citation; None (reported) when bad."""
    if isinstance(value, (ast.PlusRate, ast.TimesValue)):
        state.error("S224", f"{what}: plus/times change an inherited value; use them in `amend`",
                    span)
        return None
    try:
        model_value = to_model_value(value, kind)
    except ValueKindError as error:
        state.error("S208", f"{what}: {error.message}", span, hint=error.hint)
        return None
    if kind in (Kind.RATE, Kind.SUBSIDY) or isinstance(value, (ast.Percent, ast.Bands)):
        _check_rates(state, model_value, what, value)
    note = value.note if isinstance(value, (ast.Unspecified, ast.FixedSubsidy)) else None
    return Sourced(model_value, citation, span, state.version, note=note)


def _check_rates(state: CheckState, model_value, what: str, value: ast.Value) -> None:
    for rate in rates_in(model_value):
        if not Decimal(0) <= rate <= Decimal(1):
            state.error("S209", f"{what}: rate {format_rate(rate)} is outside 0–100%",
                        value.span, hint=RATE_RANGE_HINT)
    if isinstance(model_value, BandSchedule):
        _check_bands(state, model_value, what, value)


def _check_bands(state: CheckState, schedule: BandSchedule, what: str, value: ast.Value) -> None:
    expected_lower = Decimal(0)
    slices = schedule.slices
    for index, (band, written) in enumerate(zip(slices, value.bands)):
        if band.lower != expected_lower:
            problem = "overlaps the band before" if band.lower < expected_lower else "leaves a gap"
            state.error("S210", f"{what}: band from {written.lower.text} {problem}",
                        written.span, hint=f"start it at {expected_lower}")
            return
        if band.upper is None and index != len(slices) - 1:
            state.error("S210", f"{what}: an open band (no `to`) must be the last",
                        written.span)
            return
        if band.upper is not None and band.upper <= band.lower:
            state.error("S210", f"{what}: band ends before it starts", written.span)
            return
        expected_lower = band.upper if band.upper is not None else expected_lower
