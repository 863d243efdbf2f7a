"""One frozen payload class per :class:`~yibao.compiler.graph.Op`: what a node needs
beyond its inputs, as plain data (issue 23 item 1).

A payload holds strings, Decimals, booleans, tuples and frozensets only, never a
dsl model object: the visitors (scalar evaluator, SQL lowering, columnar engine,
lint's model, the views) read these fields and need not know the dsl's classes.
Tables are tuples of (key, value) pairs, in the notice's order, so a payload is
hashable and the SQL written from it is the same on every run.  Where a reader needs
an order (SQL text, words), a field is a tuple in the notice's order; where it only
tests membership, a frozenset.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple, Union

import attrs

from yibao.compiler.graph import Op
from yibao.dsl.model import row_for

class Band(NamedTuple):
    """One slice of a banded rate (分段支付): the amount above the deductible from
    ``lower`` to ``upper`` (None: no upper bound) is paid at ``rate``.  A tuple, as
    compiler/arithmetic.bands takes bands."""

    lower: Decimal
    upper: Decimal | None
    rate: Decimal


@attrs.frozen
class UnspecifiedSource:
    """Where the notice leaves a value open, for the C311 refusal's words."""

    clause: str = ""
    note: str | None = None     # why, in the drafter's words
    version: str = ""           # the policy id whose text left it open


@attrs.frozen
class Looked:
    """A table's value as plain data: a Decimal (rate, amount), the bands of a banded
    rate, or None for "no limit" (不设); ``unspecified`` (its source) where the notice
    leaves it to another document (a claim that needs it is refused, C311)."""

    value: Union[Decimal, tuple[Band, ...], None]
    unspecified: UnspecifiedSource | None = None


# (identity, or None for everyone else; its value) in the notice's order
Table = tuple[tuple[Union[str, None], Looked], ...]


def _tuple(value) -> tuple:
    return tuple(value)


def _frozenset(value) -> frozenset:
    return frozenset(value)


def table_value(table: Table, key: str | None) -> Looked | None:
    """The value for ``key``, falling back on the row for everyone else (None), as the
    checked policy's tables read (dsl.model.row_for); None when the table has neither."""
    return row_for(table, key)


@attrs.frozen
class InputPayload:
    field: str
    declared: bool = False     # a field the policy declares (省内就医), read from claim.fields
    label: str = ""            # its display name, shown by the views


@attrs.frozen
class UpstreamPayload:
    line: str


@attrs.frozen
class IdentityPayload:
    pass


@attrs.frozen
class LookupPayload:
    line: str
    quantity: str              # deductible, rate, cap or per_unit (lower.QUANTITIES)
    table: str                 # the table's name (基本救助.起付标准), for messages
    values: Table = attrs.field(converter=_tuple)
    # visit → the whole table again for claims of that visit (an amendment naming visits)
    by_visit: tuple[tuple[str, Table], ...] = attrs.field(default=(), converter=_tuple)

    @property
    def varies_by_visit(self) -> bool:
        return bool(self.by_visit)

    def for_claim(self, identity: str | None, visit: str) -> Looked | None:
        for named, values in self.by_visit:
            if named == visit:
                return table_value(values, identity)
        return table_value(self.values, identity)


@attrs.frozen
class CoversPayload:
    line: str
    visits: tuple[str, ...] = attrs.field(converter=_tuple)   # the notice's order (SQL, words)
    condition: tuple | None     # compiler/conditions.condition_tree's graph form
    members: frozenset = attrs.field(converter=_frozenset)    # identities the line covers
    covers_nobody: bool = False  # a claim with no identity (None candidate) is covered

    def covers_identity(self, identity: str | None) -> bool:
        """LineDef.covers_identity, over the policy's identities."""
        return self.covers_nobody if identity is None else identity in self.members


@attrs.frozen
class DifferencePayload:
    remaining: bool = False               # a line's base: what earlier lines left
    lines: tuple[str, ...] | None = None  # an alert's burden: after these lines


@attrs.frozen
class YearToDatePayload:
    line: str


@attrs.frozen
class SchedulePayload:
    line: str


@attrs.frozen
class PerUnitPayload:
    line: str
    unit: str                  # the claim field counting the units (住院天数)


@attrs.frozen
class CapPayload:
    line: str


@attrs.frozen
class CeilingPayload:
    rate: Decimal
    identities: tuple[str, ...] = attrs.field(converter=_tuple)
    visits: tuple[str, ...] = attrs.field(converter=_tuple)
    lines: tuple[str, ...] = attrs.field(converter=_tuple)
    reduces: tuple[str, ...] = attrs.field(converter=_tuple)   # cut last first


@attrs.frozen
class CeilingCutPayload:
    line: str


@attrs.frozen
class SumPayload:
    lines: tuple[str, ...] = attrs.field(default=(), converter=_tuple)


@attrs.frozen
class TakeHighestPayload:
    pass


@attrs.frozen
class AlertPayload:
    name: str
    visits: tuple[str, ...] = attrs.field(converter=_tuple)
    group: tuple[str, ...] = attrs.field(converter=_tuple)   # as written (alerts or identities)
    group_excludes: bool
    # the identities whose holder is in the group (named ones; everyone outside
    # them when group_excludes), after 参照执行 is applied by the reader
    members: frozenset = attrs.field(converter=_frozenset)
    thresholds: Table = attrs.field(converter=_tuple)          # by scheme, None: everyone
    above: bool = False         # 超过: over the threshold; else reaching it (达到)


@attrs.frozen
class ReferralPayload:
    name: str
    # the notice's order, which the SQL lists (a frozenset's order changes per run);
    # None: whoever the lines paid
    identities: tuple[str, ...] | None
    lines: tuple[str, ...] = attrs.field(converter=_tuple)


Payload = Union[InputPayload, UpstreamPayload, IdentityPayload, LookupPayload,
                CoversPayload, DifferencePayload, YearToDatePayload, SchedulePayload,
                PerUnitPayload, CapPayload, CeilingPayload, CeilingCutPayload, SumPayload,
                TakeHighestPayload, AlertPayload, ReferralPayload]

PAYLOAD_BY_OP: dict[Op, type] = {
    Op.INPUT: InputPayload, Op.UPSTREAM: UpstreamPayload, Op.IDENTITY: IdentityPayload,
    Op.LOOKUP: LookupPayload, Op.COVERS: CoversPayload, Op.DIFFERENCE: DifferencePayload,
    Op.YEAR_TO_DATE: YearToDatePayload, Op.SCHEDULE: SchedulePayload,
    Op.PER_UNIT: PerUnitPayload, Op.CAP: CapPayload, Op.CEILING: CeilingPayload,
    Op.CEILING_CUT: CeilingCutPayload, Op.SUM: SumPayload,
    Op.TAKE_HIGHEST: TakeHighestPayload, Op.ALERT: AlertPayload,
    Op.REFERRAL: ReferralPayload,
}
