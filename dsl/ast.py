"""The policy AST: one frozen attrs class per construct of the language.

Every node carries the span it was written at.  Spans never take part in
equality, so ``parse(fmt(src)) == parse(src)`` compares meaning, not layout.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Callable, Union

import attrs

from yibao.core.span import NO_SPAN, Span


def _span() -> attrs.Attribute:
    return attrs.field(default=NO_SPAN, eq=False, repr=False, kw_only=True)


@attrs.frozen
class Name:
    """A name as written: an identity, a line, a visit, a field or a scheme."""

    text: str
    span: Span = _span()

    def __str__(self) -> str:
        return self.text


@attrs.frozen
class Citation:
    """``§(五) "quoted words"``: the clause a rule implements, with its words."""

    clause: str
    quote: str | None = None
    span: Span = _span()


# ---- values -------------------------------------------------------------------


@attrs.frozen
class Amount:
    """Yuan, exact: ``2000``, ``2万`` (text keeps the drafter's spelling)."""

    value: Decimal
    text: str
    span: Span = _span()


@attrs.frozen
class Percent:
    """A rate as a fraction: ``70%`` → Decimal('0.7')."""

    value: Decimal
    text: str
    span: Span = _span()


@attrs.frozen
class NoLimit:
    """``none``: no cap, no deductible limit (不设年度救助限额)."""

    span: Span = _span()


@attrs.frozen
class Unspecified:
    """``unspecified``: the document leaves the value to another document."""

    note: str | None = None
    span: Span = _span()


@attrs.frozen
class FullSubsidy:
    span: Span = _span()


@attrs.frozen
class FixedSubsidy:
    """A fixed amount; ``amount`` is None when the document does not give it.

    ``at_most`` names an identity whose fixed amount this one may not exceed.
    """

    amount: Amount | None
    note: str | None = None
    at_most: Name | None = None
    span: Span = _span()


@attrs.frozen
class ShareSubsidy:
    share: Percent
    span: Span = _span()


@attrs.frozen
class PlusRate:
    """An amendment adding percentage points: 提高5% → ``plus 5%``."""

    delta: Percent
    span: Span = _span()


@attrs.frozen
class TimesValue:
    """An amendment scaling a value: 降低50% → ``times 50%``."""

    factor: Percent
    span: Span = _span()


@attrs.frozen
class Band:
    """One slice of the amount above the deductible and its marginal rate."""

    lower: Amount
    upper: Amount | None
    rate: Percent
    span: Span = _span()


@attrs.frozen
class Bands:
    bands: tuple[Band, ...]
    span: Span = _span()


Value = Union[
    Amount, Percent, NoLimit, Unspecified, FullSubsidy, FixedSubsidy, ShareSubsidy,
    PlusRate, TimesValue, Bands,
]


@attrs.frozen
class TableEntry:
    names: tuple[Name, ...]
    value: Value
    citation: Citation | None = None
    span: Span = _span()


@attrs.frozen
class InlineValue:
    """One value for everyone: ``cap 20000 §(五)``."""

    value: Value
    citation: Citation | None = None
    span: Span = _span()


@attrs.frozen
class TableValue:
    """A value by identity (or by scheme, for thresholds)."""

    entries: tuple[TableEntry, ...]
    citation: Citation | None = None
    span: Span = _span()


ValueSpec = Union[InlineValue, TableValue]


# ---- conditions on claim fields -------------------------------------------------


@attrs.frozen
class FieldRef:
    name: Name
    span: Span = _span()


@attrs.frozen
class Not:
    operand: "Condition"
    span: Span = _span()


@attrs.frozen
class All:
    operands: tuple["Condition", ...]
    span: Span = _span()


@attrs.frozen
class Any_:
    operands: tuple["Condition", ...]
    span: Span = _span()


Condition = Union[FieldRef, Not, All, Any_]


def condition_text(condition: Condition, negation: str, conjunction: str,
                   disjunction: str, label: Callable[[str], str] = str) -> str:
    """A condition in words, with the connectives given: the policy's own (``not``,
    ``and``, ``or``) for check's inventory, Chinese (非, 且, 或) for the views.  Every
    compound part is parenthesised, so the grouping never depends on precedence.
    ``label`` names each field: the views pass the policy's display names (省内就医
    for in_province), check's inventory keeps the names as written."""
    def text(part: Condition) -> str:
        if isinstance(part, FieldRef):
            return label(part.name.text)
        if isinstance(part, Not):
            return f"{negation} {text(part.operand)}"
        joiner = f" {conjunction} " if isinstance(part, All) else f" {disjunction} "
        return "(" + joiner.join(text(o) for o in part.operands) + ")"
    return text(condition)


# ---- rules inside a line ---------------------------------------------------------


@attrs.frozen
class Covers:
    visits: tuple[Name, ...]
    citation: Citation | None = None
    span: Span = _span()


@attrs.frozen
class When:
    condition: Condition
    citation: Citation | None = None
    span: Span = _span()


@attrs.frozen
class Members:
    """``identities A, B``: who a line or the ceiling applies to."""

    names: tuple[Name, ...]
    citation: Citation | None = None
    span: Span = _span()


@attrs.frozen
class Base:
    """What a line pays a share of: ``remaining`` or ``in_scope_cost - 基本医保``.

    On a line settled upstream it bounds what the other system may have paid;
    there a ``when`` condition may select it (Jilin: out-of-province claims).
    """

    terms: tuple[Name, ...]  # empty: remaining (in-scope cost less every earlier line)
    citation: Citation | None = None
    condition: "Condition | None" = None
    # ``base unspecified "…" when …``: the notice gives no bound for those claims
    unspecified: "Unspecified | None" = None
    span: Span = _span()

    @property
    def is_remaining(self) -> bool:
        return not self.terms


@attrs.frozen
class Deductible:
    spec: ValueSpec
    span: Span = _span()


@attrs.frozen
class Rate:
    spec: ValueSpec
    span: Span = _span()


@attrs.frozen
class Cap:
    spec: ValueSpec
    span: Span = _span()


@attrs.frozen
class PerUnit:
    """``per bed_days 120``: a fixed amount per unit of a claim field (床日定额)."""

    unit: Name
    spec: ValueSpec
    span: Span = _span()


LineRule = Union[Covers, When, Members, Base, Deductible, Rate, Cap, PerUnit]


# ---- top-level items -----------------------------------------------------------


@attrs.frozen
class Header:
    policy_id: str
    extends: str | None = None
    title: str | None = None
    region: str | None = None
    effective: datetime.date | None = None
    source: str | None = None
    document: str | None = None
    schemes: "Members | None" = None
    span: Span = _span()


@attrs.frozen
class ClauseText:
    """``clause §(五) "…"``: a clause of the document and its words."""

    clause: str
    text: str
    span: Span = _span()


@attrs.frozen
class Identity:
    name: Name
    treated_as: Name | None = None
    citation: Citation | None = None
    span: Span = _span()


@attrs.frozen
class TakeHighest:
    citation: Citation | None = None
    span: Span = _span()


@attrs.frozen
class UpstreamLine:
    """A line settled by another system: its payout comes from the claim's ``paid``."""

    name: Name
    citation: Citation | None = None
    rules: tuple[Union["Base", "Members"], ...] = ()
    span: Span = _span()


@attrs.frozen
class ComputedLine:
    name: Name
    rules: tuple[LineRule, ...]
    span: Span = _span()


@attrs.frozen
class Amendment:
    """``amend 大病保险 { … }``: a revision changes named values of an inherited line.

    ``amend 基本医保 for 住院, 门诊慢特病 §… { … }`` changes them for claims of those
    visits only (``visits``); claims of the line's other visits keep the old values.
    """

    target: Name
    rules: tuple[LineRule, ...]
    visits: "Visits | None" = None
    span: Span = _span()


@attrs.frozen
class BurdenAfter:
    lines: tuple[Name, ...]  # empty: after all lines
    citation: Citation | None = None
    span: Span = _span()

    @property
    def after_all_lines(self) -> bool:
        return not self.lines


@attrs.frozen
class Visits:
    visits: tuple[Name, ...]
    citation: Citation | None = None
    span: Span = _span()


@attrs.frozen
class Group:
    """Who an alert watches: holders of ``names``, or everyone outside other alerts' groups."""

    names: tuple[Name, ...]
    excluding: bool
    citation: Citation | None = None
    span: Span = _span()


@attrs.frozen
class Threshold:
    """``threshold 5000``: reached at 5000 (≥); ``threshold above 5000``: over it (>)."""

    spec: ValueSpec
    above: bool = False
    span: Span = _span()


AlertRule = Union[BurdenAfter, Visits, Group, Threshold]


@attrs.frozen
class Alert:
    name: Name
    rules: tuple[AlertRule, ...]
    span: Span = _span()


@attrs.frozen
class Subsidy:
    spec: ValueSpec
    span: Span = _span()


@attrs.frozen
class Reduces:
    """The lines the ratio ceiling cuts, last first (default: the last line)."""

    lines: tuple[Name, ...]
    citation: Citation | None = None
    span: Span = _span()


@attrs.frozen
class Ceiling:
    rate: Percent
    citation: Citation | None
    rules: tuple[Union[Members, Visits, Reduces], ...]
    span: Span = _span()


@attrs.frozen
class ZeroContribution:
    """``zero contribution only for 特困供养人员, 孤儿``: nobody else may pay nothing."""

    names: tuple[Name, ...]
    citation: Citation | None = None
    span: Span = _span()


@attrs.frozen
class Param:
    name: Name
    spec: ValueSpec
    span: Span = _span()


@attrs.frozen
class DisplayName:
    """A field's name in the notice's words (``"省内就医"``), unquoted, with the span
    of the quoted text."""

    text: str
    span: Span = _span()


@attrs.frozen
class FieldDecl:
    """A claim field the policy reads beyond docs/claims.md's required ones."""

    name: Name
    type: str  # bool | count | money
    default: Union[bool, Decimal, None] = None
    citation: Citation | None = None
    span: Span = _span()
    display_name: DisplayName | None = None


@attrs.frozen
class Capped:
    lines: tuple[Name, ...]
    citation: Citation | None = None
    span: Span = _span()


@attrs.frozen
class Referral:
    """``refer 一事一议 { … }``: case review when a cap cut a payout (never a payout)."""

    name: Name
    rules: tuple[Union[Members, Capped], ...]
    span: Span = _span()


Item = Union[
    Header, ClauseText, Identity, TakeHighest, UpstreamLine, ComputedLine, Amendment,
    Alert, Subsidy, Ceiling, Param, FieldDecl, Referral, ZeroContribution,
]


@attrs.frozen
class PolicyFile:
    path: str
    items: tuple[Item, ...]
    span: Span = _span()

    def of_type(self, kind: type) -> list:
        return [item for item in self.items if isinstance(item, kind)]

    @property
    def header(self) -> Header | None:
        headers = self.of_type(Header)
        return headers[0] if headers else None
