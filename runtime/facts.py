"""What each op computed for one claim, as typed figures: the trace's facts.

In trace mode every evaluated node yields one small frozen record of the
figures it worked with (exact Decimals, never rounded for show), what bound
its result and which documented reading of the notice decided it.  The
records hold no words: the views in :mod:`yibao.explain` write them, Chinese
in one module and English in another, from the same facts.

What bound a figure (:class:`Bound`) and the readings the semantics choose
(:class:`Reading`, docs/specification.md) are named here once, so a view can
say why a line paid 0 or less than its formula without parsing anything.
"""

from __future__ import annotations

import enum
import functools
import types
import typing
from decimal import Decimal
from typing import Any, Union

import attrs

from yibao.dsl.model import BandSchedule, BandSlice

Amount = Decimal
Rate = Union[Decimal, BandSchedule]


class Bound(enum.Enum):
    """What held a node's figure below what its formula alone would give."""

    NOT_COVERED = "not_covered"                # the claim's visit is outside the line
    CONDITION_FAILED = "condition_failed"      # the line's `when` condition does not hold
    IDENTITY_NOT_COVERED = "identity_not_covered"   # the line does not pay this identity
    DEDUCTIBLE_NOT_REACHED = "deductible_not_reached"   # the year's base is still under it
    CAP_REACHED = "cap_reached"                # what is left of the annual cap cut the slice
    CEILING_CUT = "ceiling_cut"                # the ratio ceiling reduced the lines' payouts
    BASE = "base"                              # a per-unit payout held to the line's base
    CLAMPED_AT_ZERO = "clamped_at_zero"        # a difference below 0 is 0


class Reading(enum.Enum):
    """The documented interpretations that decide a figure (docs/specification.md)."""

    # §6.3, §16.1: the deductible is met once a year, on the cumulative base C, and each
    # claim is paid round(G(C_after)) − round(G(C_before)), never G of its base alone.
    DEDUCTIBLE_ONCE_PER_YEAR = "deductible_once_per_year_on_cumulative_base"
    # §6.3: the annual cap bounds what the line paid this person in the calendar year.
    CAP_PER_CALENDAR_YEAR = "cap_per_calendar_year"
    # §9: the ceiling's bound is rounded down to the fen; the cut is final (never paid
    # back by a later claim).
    CEILING_FLOOR_FEN_CUT_FINAL = "ceiling_floor_to_fen_cut_final"
    # §8, §16.1: take highest compares each identity's total; a tie goes to the
    # identity the policy declares first.
    TAKE_HIGHEST_FIRST_DECLARED_ON_TIE = "take_highest_first_declared_on_tie"


# A field the JSON always carries, even at its default: the reading that decided a figure.
_SHOWN = {"shown": True}


# ---- one record per op -----------------------------------------------------------------
# Each record caches its hash: results.py looks a step's JSON up by the step, thousands
# of times a batch.

@attrs.frozen(cache_hash=True)
class InputFacts:
    field: str
    value: Any                           # as claimed: an amount, a name, names, a flag
    label: str = ""                      # the field's display name (省内就医), if declared


@attrs.frozen(cache_hash=True)
class UpstreamFacts:
    line: str
    amount: Amount                       # claim.paid[line], settled by another system


@attrs.frozen(cache_hash=True)
class IdentityFacts:
    identity: str | None                 # the candidate evaluated (None: no identity)
    held: tuple[str, ...] = ()           # the claim's identities that give this candidate
    treated_from: tuple[str, ...] = ()   # of those, the ones only treated as it (参照执行)


@attrs.frozen(cache_hash=True)
class LookupFacts:
    line: str | None
    quantity: str                        # deductible | rate | cap | per_unit
    identity: str | None
    value: Rate | None                   # None: 不设, or not read (the line does not apply)
    applies: bool                        # False: the line does not cover the claim


@attrs.frozen(cache_hash=True)
class CoversFacts:
    line: str
    visit: str
    visits: tuple[str, ...]              # the visits the line covers
    identity: str | None
    covered: bool
    bound: Bound | None = None           # why not, when not covered
    condition: tuple | None = None       # compiler/conditions.py condition_tree
    condition_held: bool | None = None   # None: the line has no condition (or not reached)
    condition_clause: str = ""           # the condition's own clause (`when … §…`)
    condition_quote: str = ""


@attrs.frozen(cache_hash=True)
class DifferenceFacts:
    terms: tuple[tuple[str, Amount], ...]   # (node id, amount): the minuend first
    result: Amount
    applies: bool = True
    bound: Bound | None = None           # CLAMPED_AT_ZERO when the terms went below 0


@attrs.frozen(cache_hash=True)
class YearToDateFacts:
    line: str
    before: Amount
    after: Amount
    this_claim: Amount                   # the base this claim adds (0 when not counted)
    counted: bool


@attrs.frozen(cache_hash=True)
class ScheduleFacts:
    line: str
    applies: bool
    rate: Rate | None = None
    deductible: Amount = Decimal(0)
    before: Amount = Decimal(0)          # C before this claim
    after: Amount = Decimal(0)           # C after it
    g_before: Amount = Decimal(0)        # round(G(C_before))
    g_after: Amount = Decimal(0)         # round(G(C_after))
    payout: Amount = Decimal(0)
    bound: Bound | None = None           # DEDUCTIBLE_NOT_REACHED when C_after ≤ deductible
    reading: Reading = attrs.field(default=Reading.DEDUCTIBLE_ONCE_PER_YEAR, metadata=_SHOWN)


@attrs.frozen(cache_hash=True)
class PerUnitFacts:
    line: str
    applies: bool
    amount: Amount | None = None
    units: Any = None
    unit: str = ""                       # the claim field counting the units
    unit_label: str = ""                 # its display name (住院床日), if declared
    base: Amount = Decimal(0)
    payout: Amount = Decimal(0)
    bound: Bound | None = None           # BASE when the base held the payout


@attrs.frozen(cache_hash=True)
class CapFacts:
    line: str
    applies: bool
    due: Amount = Decimal(0)             # the slice this claim would pay
    cap: Amount | None = None            # None: no annual cap
    paid: Amount = Decimal(0)            # what the line paid this person this year before
    room: Amount | None = None           # cap − paid
    payout: Amount = Decimal(0)
    bound: Bound | None = None           # CAP_REACHED when the room cut the slice
    reading: Reading = attrs.field(default=Reading.CAP_PER_CALENDAR_YEAR, metadata=_SHOWN)


@attrs.frozen(cache_hash=True)
class CeilingFacts:
    applies: bool
    rate: Decimal
    in_scope_cost: Amount
    before: tuple[tuple[str, Amount], ...]    # each line's payout before the ceiling
    after: tuple[tuple[str, Amount], ...]     # and after it
    limit: Amount | None = None               # floor_fen(rate × in-scope cost), when it applies
    combined: Amount = Decimal(0)             # the lines' payouts before the ceiling
    held: tuple[str, ...] = ()                # the key-target identities that make it apply
    bound: Bound | None = None                # CEILING_CUT when a line was reduced
    reading: Reading = attrs.field(default=Reading.CEILING_FLOOR_FEN_CUT_FINAL, metadata=_SHOWN)

    @property
    def cut(self) -> Amount:
        return sum((b for _, b in self.before), Decimal(0)) - sum(
            (a for _, a in self.after), Decimal(0))


@attrs.frozen(cache_hash=True)
class CeilingCutFacts:
    line: str
    before: Amount                       # the line's payout before the ratio ceiling
    after: Amount                        # and after it: what the claim's totals count

    @property
    def cut(self) -> Amount:
        return self.before - self.after


@attrs.frozen(cache_hash=True)
class SumFacts:
    parts: tuple[tuple[str, Amount], ...]    # (line, amount)
    total: Amount


@attrs.frozen(cache_hash=True)
class TakeHighestFacts:
    totals: tuple[tuple[str | None, Amount], ...]   # each candidate's total, declared order
    winner: str | None
    tied: bool
    reading: Reading = attrs.field(default=Reading.TAKE_HIGHEST_FIRST_DECLARED_ON_TIE, metadata=_SHOWN)
    # (candidate, the identities the person holds that are only treated as it): a
    # candidate the person does not hold itself (参照执行), shown as the ones they hold.
    treated_from: tuple[tuple[str, tuple[str, ...]], ...] = ()


@attrs.frozen(cache_hash=True)
class AlertFacts:
    alert: str
    visit: str
    counted: bool                        # this claim's visit counts toward the burden
    burden: Amount                       # the year's burden with this claim
    threshold: Amount | None
    above: bool                          # 超过 (strictly above) rather than 达到 (reaches)
    in_group: bool
    fired: bool
    fired_before: bool                   # already on earlier this year
    members: tuple[str, ...] = ()        # the identities that put the person in the group
    excludes: bool = False               # the group is everyone outside the named groups


@attrs.frozen(cache_hash=True)
class ReferralFacts:
    referral: str
    identity: str | None
    eligible: bool                       # the identity is one the referral is for
    capped: tuple[str, ...]              # the lines whose cap cut this claim's payout
    personal_burden: Amount
    referred: bool


@attrs.frozen(cache_hash=True)
class RecordedWords:
    """A step of an audit record written before the trace carried facts (yibao-audit/1–2):
    its words as recorded, shown as they are (never parsed back into figures)."""

    value: str
    formula: str = ""
    inputs: tuple[tuple[str, str], ...] = ()
    covered: bool | None = None          # a coverage step's answer (None for other ops)
    label: str = ""                      # the node's label as the record wrote it


Facts = Union[InputFacts, UpstreamFacts, IdentityFacts, LookupFacts, CoversFacts,
              DifferenceFacts, YearToDateFacts, ScheduleFacts, PerUnitFacts, CapFacts,
              CeilingFacts, CeilingCutFacts, SumFacts, TakeHighestFacts, AlertFacts, ReferralFacts, RecordedWords]


# ---- JSON ------------------------------------------------------------------------------

def facts_to_json(facts: Facts) -> dict:
    """The facts as JSON (docs/views.md): amounts and rates as exact decimal strings,
    enums by value, bands as a list of slices, a condition as nested lists.  A field
    at its default is left out, except the reading that decided the figure."""
    data = {}
    for name, default in _fields(type(facts)):
        value = getattr(facts, name)
        if value is default or (default is not _ALWAYS and value == default):
            continue
        data[name] = str(value) if type(value) is Decimal else _json(value)
    return data


_ALWAYS = object()


@functools.lru_cache(maxsize=None)
def _fields(kind: type) -> tuple[tuple[str, Any], ...]:
    """A facts class's (field, default) pairs, worked out once: a trace writes thousands
    of steps (_ALWAYS: no default, or one the JSON carries anyway)."""
    return tuple((field.name, _ALWAYS if field.default is attrs.NOTHING
                  or field.metadata.get("shown") else field.default)
                 for field in attrs.fields(kind))


def _json(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is bool or kind is int or value is None:
        return value
    if kind is Decimal:
        return str(value)
    if kind is tuple:
        return [_json(item) for item in value]
    if isinstance(value, enum.Enum):
        return value.value
    if kind is BandSchedule:
        return [{"lower": str(band.lower), "upper": None if band.upper is None else str(band.upper),
                 "rate": str(band.rate)} for band in value.slices]
    return str(value)


FACTS_BY_OP = {
    "input": InputFacts, "upstream": UpstreamFacts, "identity": IdentityFacts,
    "lookup": LookupFacts, "covers": CoversFacts, "difference": DifferenceFacts,
    "year_to_date": YearToDateFacts, "schedule": ScheduleFacts, "per_unit": PerUnitFacts,
    "cap": CapFacts, "ceiling": CeilingFacts, "ceiling_cut": CeilingCutFacts, "sum": SumFacts,
    "take_highest": TakeHighestFacts, "alert": AlertFacts, "referral": ReferralFacts,
}


def facts_from_json(op: str, data: dict) -> Facts:
    """The inverse of :func:`facts_to_json` for a step of ``op``."""
    kind = FACTS_BY_OP[op]
    hints = typing.get_type_hints(kind)
    return kind(**{name: _decode(hints[name], value) for name, value in data.items()})


_UNIONS = (Union, types.UnionType)


def _decode(hint: Any, value: Any) -> Any:  # noqa: C901 - one case per kind of field
    if value is None:
        return None
    options = typing.get_args(hint) if typing.get_origin(hint) in _UNIONS else (hint,)
    if isinstance(value, list) and BandSchedule in options and value and isinstance(
            value[0], dict):
        return BandSchedule(tuple(BandSlice(Decimal(s["lower"]),
                                            None if s["upper"] is None else Decimal(s["upper"]),
                                            Decimal(s["rate"])) for s in value))
    for option in options:
        if isinstance(option, type) and issubclass(option, enum.Enum):
            return option(value)
    if Decimal in options and isinstance(value, str):
        return Decimal(value)
    if typing.get_origin(hint) is tuple and isinstance(value, list):
        items = typing.get_args(hint)
        if len(items) == 2 and items[1] is Ellipsis:
            return tuple(_decode(items[0], item) for item in value)
        if items:
            return tuple(_decode(item_hint, item) for item_hint, item in zip(items, value))
    if isinstance(value, list):   # a condition tree, a list of names
        return tuple(_decode(Any, item) for item in value)
    return value
