"""The kinds of claim a policy's lines can see, each with the values they apply.

A scenario is one effective identity (after 参照执行), one visit type and one
assignment of the claim's yes/no fields: it fixes which computed lines cover
the claim and which deductible, rate, cap or per-unit amount each applies.
The analyses of over-protection, monotonicity and lines that never pay look at
every scenario in turn.  Values are exact fractions of yuan.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import attrs

from yibao.compiler.conditions import condition_fields, holds
from yibao.dsl.model import UNSPECIFIED, VISITS, BandSchedule, LineDef, Policy

# Beyond this many yes/no fields in line conditions, conditions are taken as
# satisfiable one by one rather than enumerating every assignment.
MAX_ENUMERATED_FIELDS = 10

Bands = tuple[tuple[Fraction, Fraction | None, Fraction], ...]   # (lower, upper, rate)


@attrs.frozen
class LineTerms:
    """What one computed line applies to one identity.

    A per-unit line (床日定额) pays amount × units within its base; units are a
    claim field without bound, so at most it pays its whole base: it is analysed
    as such (rate 100%, no deductible), within its cap.
    """

    name: str
    deductible: Fraction
    rate: Fraction | Bands
    cap: Fraction | None
    base_terms: tuple[str, ...]
    per_unit: bool = False


@attrs.frozen
class Scenario:
    identity: str | None
    visit: str
    fields: tuple[tuple[str, bool], ...]   # the yes/no fields that decide which lines apply
    lines: tuple[LineTerms, ...]           # computed lines covering the claim, in order
    unknown: tuple[tuple[str, str], ...]   # (line, value) left out: the value is unspecified
    ceiling_applies: bool

    @property
    def line_names(self) -> tuple[str, ...]:
        return tuple(line.name for line in self.lines)

    def describe(self) -> str:
        fields = ", ".join(f"{name}={'是' if value else '否'}" for name, value in self.fields)
        return self.visit + (f", {fields}" if fields else "")


def effective_identities(policy: Policy) -> list[str | None]:
    """Identities with their own treatment, in the policy's order, then no identity (None)."""
    return [i.name for i in policy.identities if not i.treated_as] + [None]


def scenarios(policy: Policy, identity: str | None) -> list[Scenario]:
    """Every distinct scenario of ``identity``; the first assignment of fields found is kept."""
    found: dict[tuple, Scenario] = {}
    for visit in VISITS:
        for fields in _assignments(policy):
            scenario = _scenario(policy, identity, visit, fields)
            key = (scenario.line_names, scenario.unknown, scenario.ceiling_applies)
            found.setdefault(key, scenario)
    return list(found.values())


def _assignments(policy: Policy) -> list[dict[str, bool] | None]:
    names: list[str] = []
    for line in policy.computed_lines:
        for name in condition_fields(line.condition):
            if name not in names:
                names.append(name)
    if len(names) > MAX_ENUMERATED_FIELDS:
        return [None]
    # Each field's default first, so that the scenario reported is the ordinary claim.
    choices = []
    for name in names:
        field = policy.field(name)
        default = bool(field.default) if field is not None else False
        choices.append((default, not default))
    return [dict(zip(names, values)) for values in itertools.product(*choices)]


def _scenario(policy: Policy, identity: str | None, visit: str,
              fields: dict[str, bool] | None) -> Scenario:
    lines: list[LineTerms] = []
    unknown: list[tuple[str, str]] = []
    for line in policy.computed_lines:
        if visit not in line.visits or not line.covers_identity(identity):
            continue
        if line.condition is not None and fields is not None and not holds(
                line.condition, fields.__getitem__):
            continue
        terms = line_terms(line, identity)
        if isinstance(terms, str):
            unknown.append((line.name, terms))
        else:
            lines.append(terms)
    ceiling = policy.ceiling
    applies = ceiling is not None and identity in ceiling.identities and visit in ceiling.visits
    relevant = tuple(sorted((fields or {}).items()))
    return Scenario(identity, visit, relevant, tuple(lines), tuple(unknown), applies)


def line_terms(line: LineDef, identity: str | None) -> LineTerms | str:
    """The line's values for ``identity``, or the word of the first unspecified one."""
    values = {}
    for word, table in (("起付标准", line.deductible), ("支付比例", line.rate),
                        ("年度限额", line.cap), ("定额标准", line.per_unit)):
        sourced = table.for_identity(identity) if table is not None else None
        if sourced is not None and sourced.value is UNSPECIFIED:
            return word
        values[word] = sourced.value if sourced is not None else None
    cap = values["年度限额"]
    cap = Fraction(cap) if cap is not None else None
    if line.per_unit is not None:
        amount = values["定额标准"]
        rate = Fraction(1) if amount is not None and amount > 0 else Fraction(0)
        return LineTerms(line.name, Fraction(0), rate, cap, line.base_terms, per_unit=True)
    deductible = Fraction(values["起付标准"]) if values["起付标准"] is not None else Fraction(0)
    return LineTerms(line.name, deductible, _rate(values["支付比例"]), cap, line.base_terms)


def _rate(value) -> Fraction | Bands:
    if value is None:   # a member without a rate: the line pays it nothing
        return Fraction(0)
    if isinstance(value, BandSchedule):
        return tuple((Fraction(band.lower), Fraction(band.upper) if band.upper is not None
                      else None, Fraction(band.rate)) for band in value.slices)
    return Fraction(value)
