"""Synthetic claims for any policy: deterministic by seed, realistic in shape.

The differential test and the benchmark need many claims that exercise what
makes settlement hard (docs/specification.md): several claims per person and calendar
year (deductibles consumed, caps crossed), claims of several years, people with
no identity, one identity, two identities (take highest) and an identity that
changes during the year, visits that the assistance lines do not cover, and
upstream payouts that sometimes push the combined payout past a ratio ceiling.

Everything is drawn from one ``random.Random(seed)`` using only ``random()``
and ``lognormvariate`` (both stable across Python versions), so a seed gives
the same claims everywhere.  Claims come out in date order (ties in generation
order), as a claims system exports them and as ``Engine.stream_records`` wants.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
import random
from typing import Iterator

import attrs

from yibao.dsl.loader import LoadedPolicy
from yibao.dsl.model import SCHEMES, LineDef, Policy

# Visit mix and the median bill (yuan) and spread of each kind of visit.
# One stay in two thousand is catastrophic (CAR-T, a transplant): without it no
# person-year would reach a 大病保险 cap of 500,000 yuan (Jiamusi 2021), which
# takes an in-scope bill near 2 million once 基本医保 has paid its share.
VISIT_SHAPES = (
    ("住院", 0.4495, 12_000, 0.9),
    ("住院", 0.0005, 2_000_000, 0.5),
    ("门诊慢特病", 0.30, 3_000, 0.8),
    ("高值药品", 0.10, 8_000, 0.7),
    ("普通门诊", 0.15, 300, 0.8),
)
MAX_BILL_FEN = 1_000_000_000  # 10,000,000 yuan


@attrs.frozen
class IdentityMix:
    """Shares of people by identity profile (the rest hold no identity)."""

    single: float = 0.42
    double: float = 0.08      # two identities all year: take highest decides
    change: float = 0.10      # identities change on a date (often mid-year)


@attrs.frozen
class _Person:
    scheme: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    change_day: int           # claims from this day (ordinal) on hold `after`
    favourite_days: tuple[int, ...]


class _Draw:
    """The one random stream, with the few shapes the generator needs."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.rng.random()

    def below(self, n: int) -> int:
        return min(int(self.rng.random() * n), n - 1)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, items):
        return items[self.below(len(items))]

    def fen(self, median_yuan: float, sigma: float) -> int:
        amount = self.rng.lognormvariate(0.0, sigma) * median_yuan * 100
        return max(50_00, min(int(amount), MAX_BILL_FEN))


def synthetic_claims(loaded: LoadedPolicy, count: int, seed: int = 0,
                     mix: IdentityMix = IdentityMix(), claims_per_person_year: float = 3.0,
                     prefix: str = "syn") -> Iterator[dict]:
    """``count`` claims in docs/claims.md's format, in date order."""
    draw = _Draw(seed)
    first, last = loaded.versions[0], loaded.versions[-1]
    start = first.effective or datetime.date(2023, 1, 1)
    end_year = max(start.year + 1, (last.effective or start).year + 1)
    days = (datetime.date(end_year, 12, 31) - start).days + 1
    years = end_year - start.year + 1
    people = max(1, int(count / (claims_per_person_year * years)))
    policy = loaded.latest
    persons = [_person(draw, policy, start, days, mix) for _ in range(people)]
    drawn = []
    for _ in range(count):
        # Skewed: a few people claim often (chronic illness), most rarely.
        person_index = int(people * draw.rng.random() ** 1.6)
        person = persons[person_index]
        if person.favourite_days and draw.chance(0.08):
            day = draw.pick(person.favourite_days)   # same-day claims: ties in input order
        else:
            day = draw.below(days)
        drawn.append((day, person_index, _visit(draw)))
    order = sorted(range(count), key=lambda i: drawn[i][0])
    width = max(7, len(str(count)))
    for position, index in enumerate(order, 1):
        day, person_index, visit = drawn[index]
        person = persons[person_index]
        date = start + datetime.timedelta(days=day)
        version = _version_on(loaded, date)
        yield _claim(draw, version, f"{prefix}-{position:0{width}d}", f"p-{person_index:06d}",
                     date, person, day, visit)


def _person(draw: _Draw, policy: Policy, start: datetime.date, days: int,
            mix: IdentityMix) -> _Person:
    names = tuple(identity.name for identity in policy.identities)
    schemes = tuple(s for s in SCHEMES if s in policy.schemes)
    scheme = schemes[0] if len(schemes) == 1 or draw.chance(0.8) else schemes[1]
    roll = draw.rng.random()
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    change_day = days
    if names and roll < mix.single:
        before = after = (draw.pick(names),)
    elif names and roll < mix.single + mix.double and len(names) > 1:
        first = draw.pick(names)
        second = draw.pick([n for n in names if n != first])
        before = after = (first, second)
    elif names and roll < mix.single + mix.double + mix.change:
        # Newly recognised (none → identity), or moved between identities.
        before = () if draw.chance(0.4) else (draw.pick(names),)
        after = (draw.pick(names),)
        change_day = draw.below(days)
    favourite = tuple(draw.below(days) for _ in range(2)) if draw.chance(0.3) else ()
    return _Person(scheme, before, after, change_day, favourite)


def _visit(draw: _Draw) -> tuple[str, float, float]:
    roll = draw.rng.random()
    for visit, share, median, sigma in VISIT_SHAPES:
        if roll < share:
            return visit, median, sigma
        roll -= share
    visit, _, median, sigma = VISIT_SHAPES[-1]
    return visit, median, sigma


def _version_on(loaded: LoadedPolicy, date: datetime.date) -> Policy:
    chosen = loaded.versions[0]
    for version in loaded.versions:
        if version.effective is None or version.effective <= date:
            chosen = version
    return chosen


def _claim(draw: _Draw, policy: Policy, claim_id: str, person_id: str, date: datetime.date,
           person: _Person, day: int, visit: tuple[str, float, float]) -> dict:
    kind, median, sigma = visit
    total = draw.fen(median, sigma)
    in_scope = int(total * draw.uniform(0.7, 1.0))
    identities = person.after if day >= person.change_day else person.before
    record = {
        "claim_id": claim_id, "person_id": person_id, "date": date.isoformat(),
        "identities": list(identities), "scheme": person.scheme, "visit": kind,
        "total_cost": money(total), "in_scope_cost": money(in_scope),
    }
    upstream = policy.upstream_lines
    if upstream:
        record["paid"] = _upstream_payouts(draw, policy, upstream, in_scope, identities)
    for field in policy.fields:
        value = _field_value(draw, field, kind)
        if value is not None:
            record[field.name] = value
    return record


def _upstream_payouts(draw: _Draw, policy: Policy, lines: tuple[LineDef, ...], in_scope: int,
                      identities: tuple[str, ...]) -> dict[str, str]:
    """Payouts of the lines settled by other systems, within what each may pay.

    Each line pays a share of what the earlier ones left of the in-scope cost,
    which is within every bound a policy states (Jilin §二(一)); a line for
    named identities pays only them.  Shares are sometimes high, so that the
    combined payout crosses a ratio ceiling (Xinjiang §四).
    """
    held = {policy.effective_identity(n) for n in identities} | set(identities)
    remaining = in_scope
    paid = {}
    for index, line in enumerate(lines):
        if line.members is not None and not held & set(line.members):
            share = 0.0
        elif index == 0:
            share = draw.uniform(0.45, 0.75)
        else:
            share = 0.0 if draw.chance(0.45) else draw.uniform(0.0, 0.9)
        amount = int(remaining * share)
        remaining -= amount
        paid[line.name] = money(amount)
    return paid


def _field_value(draw: _Draw, field, visit: str):
    if field.type == "bool":
        default = field.default if isinstance(field.default, bool) else False
        return (not default) if draw.chance(0.08) else default
    if field.type == "count":
        return 1 + draw.below(30) if visit == "住院" else None
    return money(draw.below(1_000_000))


def money(fen: int) -> str:
    """Integer fen as the exchange format's money string."""
    return f"{fen // 100}.{fen % 100:02d}"


# ---- bad claims, for checking that every backend refuses the same ones ------------
CORRUPTIONS = (
    "missing_field", "bad_money", "negative_money", "exponent_money", "number_money",
    "unknown_identity", "unknown_field", "duplicate_id", "early_date", "in_scope_over_total",
    "upstream_over_bound", "impossible_date", "unknown_scheme", "missing_upstream", "not_json",
)
FLAT_CORRUPTIONS = ("missing_field", "unknown_identity", "duplicate_id", "early_date",
                    "in_scope_over_total", "upstream_over_bound", "unknown_scheme")


def corrupt(records: list, share: float, seed: int = 0,
            kinds: tuple[str, ...] = CORRUPTIONS) -> list:
    """Spoil ``share`` of the claims, one defect each (a JSON Lines text for ``not_json``)."""
    draw = _Draw(seed)
    result = list(records)
    for index in range(len(result)):
        if not draw.chance(share):
            continue
        kind = draw.pick(kinds)
        result[index] = _spoil(dict(records[index]), kind, records[max(0, index - 7)])
    return result


def _spoil(record: dict, kind: str, earlier: dict):
    paid = dict(record.get("paid") or {})
    if kind == "missing_field":
        record.pop("visit")
    elif kind == "bad_money":
        record["total_cost"] = record["total_cost"] + "5"       # three decimals
    elif kind == "negative_money":
        record["in_scope_cost"] = "-" + record["in_scope_cost"]
    elif kind == "exponent_money":
        record["total_cost"] = "1e7"                             # valid for the validator
    elif kind == "number_money":
        return json_line(record).replace(f'"total_cost": "{record["total_cost"]}"',
                                         f'"total_cost": {record["total_cost"]}')
    elif kind == "unknown_identity":
        record["identities"] = list(record["identities"]) + ["低保户"]
    elif kind == "unknown_field":
        record["hospital"] = "x"
    elif kind == "duplicate_id":
        record["claim_id"] = earlier["claim_id"]
    elif kind == "early_date":
        record["date"] = "1999-12-31"
    elif kind == "in_scope_over_total":
        record["in_scope_cost"], record["total_cost"] = record["total_cost"], record["in_scope_cost"]
        if record["in_scope_cost"] == record["total_cost"]:
            record["total_cost"] = "0.00"
    elif kind == "upstream_over_bound" and paid:
        first = next(iter(paid))
        paid[first] = money(int(Decimal(record["total_cost"]) * 100) + 100)
        record["paid"] = paid
    elif kind == "impossible_date":
        record["date"] = record["date"][:5] + "02-30"
    elif kind == "unknown_scheme":
        record["scheme"] = "新农合"
    elif kind == "missing_upstream" and paid:
        paid.pop(next(iter(paid)))
        record["paid"] = paid
    elif kind == "not_json":
        return json_line(record)[:-9]
    return record


def json_line(record: dict) -> str:
    import json

    return json.dumps(record, ensure_ascii=False)
