"""The checked policy: names resolved, tables expanded by identity, values typed.

This is the intermediate language between the AST (what was written) and the
evaluation graph (how a claim is settled).  Every value keeps the citation and
span it came from, and the version it was inherited from, so that a trace and
``yibao check`` can say where each figure comes from.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Union

import attrs

from yibao.core.span import NO_SPAN, Span
from yibao.dsl.ast import Citation, Condition

VISITS = ("住院", "门诊慢特病", "高值药品", "普通门诊")
SCHEMES = ("居民医保", "职工医保")
# The key of a table entry that applies to everyone the table does not name,
# people holding no identity included.
OTHERS = "others"
# How a claim with no identity the policy knows is labelled in traces.
NO_IDENTITY = "无救助身份"


@attrs.frozen
class BandSlice:
    lower: Decimal
    upper: Decimal | None
    rate: Decimal


@attrs.frozen
class BandSchedule:
    """Marginal rates by slice of the amount above the deductible (分段支付)."""

    slices: tuple[BandSlice, ...]


class _Unspecified:
    """A value the document leaves open; reading it for a claim is an error."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSPECIFIED"

    def __reduce__(self):
        return (_Unspecified, ())


UNSPECIFIED = _Unspecified()


@attrs.frozen
class FullSubsidyValue:
    pass


@attrs.frozen
class FixedSubsidyValue:
    amount: Decimal | _Unspecified
    at_most: str | None = None   # may not exceed this identity's fixed amount


@attrs.frozen
class ShareSubsidyValue:
    share: Decimal


# A parameter's value: an amount, a rate, a band schedule, None for "no limit",
# UNSPECIFIED, or a premium-subsidy rule.
ParamValue = Union[
    Decimal, BandSchedule, None, _Unspecified, FullSubsidyValue, FixedSubsidyValue,
    ShareSubsidyValue,
]


@attrs.frozen
class Sourced:
    """A value with where it comes from: clause, quote, span, and its version."""

    value: ParamValue
    citation: Citation | None
    span: Span = attrs.field(default=NO_SPAN, eq=False)
    version: str = ""          # the policy id whose text set it
    inherited: bool = False    # carried over unchanged from an earlier version
    note: str | None = None    # why a value is unspecified, in the drafter's words

    @property
    def clause(self) -> str:
        return self.citation.clause if self.citation else ""

    @property
    def is_unspecified(self) -> bool:
        return self.value is UNSPECIFIED or (
            isinstance(self.value, FixedSubsidyValue) and self.value.amount is UNSPECIFIED
        )


def row_for(rows, identity: str | None):
    """The value of ``rows`` ((identity or None, value) pairs) for ``identity``, falling
    back on the row for everyone else (None); None when there is neither.  The one
    reading of a by-identity table: the checked policy's and the graph's payloads'."""
    fallback = None
    for key, value in rows:
        if key == identity:
            return value
        if key is None:
            fallback = value
    return fallback


@attrs.frozen
class ByIdentity:
    """A value by effective identity; ``None`` keys the value for everyone else."""

    name: str                                # e.g. "基本救助.起付标准"
    values: tuple[tuple[str | None, Sourced], ...]
    # The whole table again for claims of one visit, where an amendment names the
    # visits it changes (Lhasa §四(四)一 raises 住院 and 门诊特殊病 only): visit → values.
    by_visit: tuple[tuple[str, tuple[tuple[str | None, Sourced], ...]], ...] = ()

    def for_identity(self, identity: str | None) -> Sourced | None:
        """The value for claims of every visit no amendment names."""
        return row_for(self.values, identity)

    def for_claim(self, identity: str | None, visit: str) -> Sourced | None:
        """The value for a claim of ``visit``."""
        for named, values in self.by_visit:
            if named == visit:
                return row_for(values, identity)
        return row_for(self.values, identity)

    @property
    def varies_by_visit(self) -> bool:
        return bool(self.by_visit)

    def visit_tables(self):
        """(None for the other visits, or a visit; its values), the unnamed visits first."""
        yield None, self.values
        yield from self.by_visit

    def keys(self) -> tuple[str | None, ...]:
        return tuple(key for key, _ in self.values)

    def items(self):
        return iter(self.values)


@attrs.frozen
class IdentityDef:
    name: str
    treated_as: str | None
    citation: Citation | None
    span: Span = attrs.field(default=NO_SPAN, eq=False)
    version: str = ""
    inherited: bool = False


@attrs.frozen
class Rule:
    """A line's rule that is not a value: coverage, condition, base, membership."""

    citation: Citation | None
    span: Span = attrs.field(default=NO_SPAN, eq=False)
    version: str = ""
    inherited: bool = False
    note: str | None = None   # an unspecified base's reason, in the drafter's words


@attrs.frozen
class LineDef:
    name: str
    upstream: bool
    citation: Citation | None = None
    span: Span = attrs.field(default=NO_SPAN, eq=False)
    visits: tuple[str, ...] = ()
    visits_rule: Rule | None = None
    condition: Condition | None = None
    condition_rule: Rule | None = None
    members: tuple[str, ...] | None = None   # None: everyone the tables cover
    members_rule: Rule | None = None
    base_terms: tuple[str, ...] = ()          # empty: remaining
    base_rule: Rule | None = None
    # Upstream lines only: bases chosen by a condition on claim fields, first match
    # first; the unconditional base applies otherwise.  Terms None: the notice gives no
    # bound for those claims, and one whose line paid anything is refused (C311).
    conditional_bases: tuple[tuple[Condition, tuple[str, ...] | None, Rule], ...] = ()
    deductible: ByIdentity | None = None
    rate: ByIdentity | None = None
    cap: ByIdentity | None = None
    per_unit_field: str | None = None
    per_unit: ByIdentity | None = None
    version: str = ""

    def covers_identity(self, identity: str | None) -> bool:
        if self.members is not None:
            return identity in self.members
        tables = [t for t in (self.deductible, self.rate, self.per_unit) if t is not None]
        return bool(tables) and all(t.for_identity(identity) is not None for t in tables)


@attrs.frozen
class AlertDef:
    name: str
    after_lines: tuple[str, ...] | None      # None: after all lines
    burden_rule: Rule | None
    visits: tuple[str, ...]
    visits_rule: Rule | None
    group: tuple[str, ...]
    group_excludes: bool                     # True: everyone outside the named alerts' groups
    group_rule: Rule | None
    threshold: ByIdentity                    # keyed by scheme (or None for everyone)
    span: Span = attrs.field(default=NO_SPAN, eq=False)
    version: str = ""
    # True: fires when the burden is over the threshold (超过, 高于); False: when it
    # reaches it (预警标准为, 达到), the default.
    above: bool = False


@attrs.frozen
class CeilingDef:
    rate: Sourced
    identities: tuple[str, ...]
    visits: tuple[str, ...]
    reduces: tuple[str, ...]                 # the lines cut to fit, last first
    span: Span = attrs.field(default=NO_SPAN, eq=False)


@attrs.frozen
class ReferralDef:
    """Refer a claim to case review when a listed line's annual cap cut its payout."""

    name: str
    identities: tuple[str, ...] | None   # None: whoever the lines paid
    lines: tuple[str, ...]
    citation: Citation | None
    span: Span = attrs.field(default=NO_SPAN, eq=False)
    version: str = ""


@attrs.frozen
class FieldDef:
    name: str
    type: str
    default: Union[bool, Decimal, None]
    citation: Citation | None
    span: Span = attrs.field(default=NO_SPAN, eq=False)
    # The notice's words for the field (省内就医), shown to readers in its place;
    # None when the policy gives none (lint L304 asks for one).
    display_name: str | None = None

    @property
    def label(self) -> str:
        return self.display_name or self.name


@attrs.frozen
class Policy:
    """One version of a policy, checked and resolved (revisions already applied)."""

    policy_id: str
    title: str
    region: str
    effective: datetime.date | None
    source: str
    extends: str | None
    identities: tuple[IdentityDef, ...]
    take_highest: Rule | None
    lines: tuple[LineDef, ...]
    alerts: tuple[AlertDef, ...]
    subsidy: ByIdentity | None
    ceiling: CeilingDef | None
    params: tuple[ByIdentity, ...]
    fields: tuple[FieldDef, ...]
    clauses: tuple[tuple[str, str], ...]
    schemes: tuple[str, ...] = SCHEMES
    referrals: tuple[ReferralDef, ...] = ()
    zero_contribution: tuple[str, ...] | None = None   # None: the policy does not restrict it
    zero_contribution_rule: Rule | None = None
    source_path: str = ""
    source_sha256: str = ""
    # The id of the base policy this version (or the version it extends) amends but that
    # is not beside it (Lhasa 2020 amends xizang-2019): the values it would give are
    # unspecified, and a claim that needs them is refused (C311) naming them all.
    awaits_base: str | None = None

    # ---- lookups --------------------------------------------------------------
    def identity(self, name: str) -> IdentityDef | None:
        for identity in self.identities:
            if identity.name == name:
                return identity
        return None

    def effective_identity(self, name: str) -> str:
        """Follow 参照执行 mappings (the checker has ruled out cycles)."""
        seen = set()
        current = self.identity(name)
        while current is not None and current.treated_as and current.name not in seen:
            seen.add(current.name)
            current = self.identity(current.treated_as)
        return current.name if current else name

    def identity_order(self, name: str | None) -> int:
        for index, identity in enumerate(self.identities):
            if identity.name == name:
                return index
        return len(self.identities)

    def line(self, name: str) -> LineDef | None:
        for line in self.lines:
            if line.name == name:
                return line
        return None

    @property
    def computed_lines(self) -> tuple[LineDef, ...]:
        return tuple(line for line in self.lines if not line.upstream)

    @property
    def upstream_lines(self) -> tuple[LineDef, ...]:
        return tuple(line for line in self.lines if line.upstream)

    def field(self, name: str) -> FieldDef | None:
        for field in self.fields:
            if field.name == name:
                return field
        return None

    def field_label(self, name: str) -> str:
        """What a reader is shown for the claim field ``name``: its display name, or the
        name itself (a field every claim has, or one declared without a display name).
        The field's clause and quote are ``self.field(name).citation``."""
        field = self.field(name)
        return field.label if field is not None else name

    def clause_text(self, clause: str) -> str | None:
        for key, text in self.clauses:
            if key == clause:
                return text
        return None

    def param(self, name: str) -> ByIdentity | None:
        for param in self.params:
            if param.name == name:
                return param
        return None
