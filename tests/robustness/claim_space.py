"""Random claims that a shipped policy accepts (docs/claims.md), as hypothesis strategies.

Every policy in ``policies/`` that loads on its own is a candidate; policies
added later are picked up without a change here.  A generated claim is valid
by construction: identities, scheme and declared fields of the version in
force on its date, money in fen, upstream payouts within what each upstream
line may pay (a share of the in-scope cost the earlier upstream lines left,
nothing on a line whose members the person is not).  Whether the policy can
*compute* the claim (it may need a value the notice leaves unspecified) is
known only by settling it: :func:`settled` filters those claims out.
"""

from __future__ import annotations

import datetime
import functools
import pathlib
from decimal import Decimal

import attrs
from hypothesis import assume
from hypothesis import strategies as st

from helpers import engines_that_load
from yibao.api import ClaimError, ClaimResult, evaluate_claims
from yibao.runtime.batch import Engine
from yibao.dsl.model import VISITS, Policy

ROOT = pathlib.Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
# Policies written for these tests (crossing schedules, a ceiling on computed lines).
FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures"
FEN = Decimal("0.01")
# A claim that needs a value the notice leaves unspecified (docs/specification.md §12).
NEEDS_UNSPECIFIED = "C311"


def shipped_policies() -> list[pathlib.Path]:
    return sorted(POLICIES.glob("*.policy"))


def policy_files() -> dict[str, pathlib.Path]:
    """The shipped policies and the fixtures, by file stem."""
    return {path.stem: path for path in shipped_policies() + sorted(FIXTURES.glob("*.policy"))}


@functools.cache
def loadable_engines() -> dict[str, Engine]:
    """Every shipped policy that loads on its own, and the fixtures, by file stem."""
    return engines_that_load(policy_files().values())


def money(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def to_fen(amount: str | Decimal) -> int:
    return int(Decimal(amount) / FEN)


@attrs.frozen
class Setting:
    """What one person's claims share when a claim is split: version, identities, visit…"""

    version: Policy
    date: datetime.date
    identities: tuple[str, ...]
    scheme: str
    visit: str
    fields: tuple[tuple[str, object], ...]

    def held(self) -> set[str]:
        return set(self.identities) | {self.version.effective_identity(i) for i in self.identities}

    def effective(self) -> set[str]:
        return {self.version.effective_identity(i) for i in self.identities}


def version_window(engine: Engine, version: Policy) -> tuple[datetime.date, datetime.date]:
    """The dates on which ``version`` is in force (two years for the latest)."""
    index = engine.versions.index(version)
    start = version.effective
    if index + 1 < len(engine.versions):
        return start, engine.versions[index + 1].effective - datetime.timedelta(days=1)
    return start, start + datetime.timedelta(days=730)


def year_window(engine: Engine, setting: Setting) -> tuple[datetime.date, datetime.date]:
    """Dates in the setting's calendar year under the same version (one ledger year)."""
    start, end = version_window(engine, setting.version)
    year = setting.date.year
    return max(start, datetime.date(year, 1, 1)), min(end, datetime.date(year, 12, 31))


def dates_between(start: datetime.date, end: datetime.date) -> st.SearchStrategy[datetime.date]:
    return st.integers(0, (end - start).days).map(lambda days: start + datetime.timedelta(days))


@st.composite
def settings_of(draw, engine: Engine, identities: tuple[int, int] = (0, 3), counts: bool = True):
    """A version in force, a date, identities, scheme, visit and declared fields.

    ``identities``: how many identities the person holds, at least and at most
    (at most 1: no take highest).  ``counts``: whether count fields (bed days…)
    may be non-zero.
    """
    version = draw(st.sampled_from(engine.versions))
    date = draw(dates_between(*version_window(engine, version)))
    names = [identity.name for identity in version.identities]
    least, most = identities
    assume(len(names) >= least)
    count = draw(st.sampled_from(range(least, min(most, len(names)) + 1))) if names else 0
    held = tuple(draw(st.lists(st.sampled_from(names), min_size=count, max_size=count,
                               unique=True)))
    scheme = draw(st.sampled_from(version.schemes))
    # Inpatient claims are what most lines cover: draw them as often as the rest.
    visit = draw(st.sampled_from(("住院",) * (len(VISITS) - 1) + VISITS))
    fields = []
    for field in version.fields:
        if field.type == "bool":
            value = draw(st.sampled_from([None, True, False]))
        elif field.type == "count":
            value = draw(st.integers(0, 40)) if counts else draw(st.sampled_from([None, 0]))
        else:
            value = money(draw(st.integers(0, 1_000_000)))
        if value is not None:
            fields.append((field.name, value))
    return Setting(version, date, held, scheme, visit, tuple(fields))




def fen_in_bands(*bands: tuple[int, int]) -> st.SearchStrategy[int]:
    """Amounts spread over orders of magnitude (hypothesis favours small integers)."""
    return st.sampled_from(bands).flatmap(lambda band: st.integers(*band))


# Up to 600,000 yuan: past Benxi's 20,000 caps and Jiamusi's 50,000 band edge.
IN_SCOPE_FEN = fen_in_bands((0, 100_000), (100_000, 1_000_000), (1_000_000, 5_000_000),
                            (5_000_000, 20_000_000), (20_000_000, 60_000_000))
OUT_OF_SCOPE_FEN = st.one_of(st.just(0), fen_in_bands((0, 100_000), (100_000, 3_000_000)))
UPSTREAM_PERCENT = st.one_of(st.just(0), st.integers(0, 100))


@st.composite
def amounts(draw, setting: Setting, in_scope: int | None = None):
    """(total, in-scope, upstream payouts) in fen, valid for ``setting``."""
    if in_scope is None:
        in_scope = draw(IN_SCOPE_FEN)
    total = in_scope + draw(OUT_OF_SCOPE_FEN)
    held = setting.held()
    left = in_scope
    paid = []
    for line in setting.version.upstream_lines:
        if line.members is not None and not held & set(line.members):
            share = 0
        else:
            share = left * draw(UPSTREAM_PERCENT) // 100
        left -= share
        paid.append((line.name, share))
    return total, in_scope, tuple(paid)


def record(claim_id: str, person_id: str, setting: Setting, total: int, in_scope: int,
           paid, date: datetime.date | None = None) -> dict:
    """A claim in the exchange format of docs/claims.md, money as two-decimal strings."""
    data = {
        "claim_id": claim_id, "person_id": person_id,
        "date": (date or setting.date).isoformat(), "identities": list(setting.identities),
        "scheme": setting.scheme, "visit": setting.visit,
        "total_cost": money(total), "in_scope_cost": money(in_scope),
        "paid": {name: money(fen) for name, fen in paid},
    }
    data.update(dict(setting.fields))
    return data


@st.composite
def claims(draw, engine: Engine, claim_id: str = "c-1", person_id: str = "p-1", **options):
    setting = draw(settings_of(engine, **options))
    total, in_scope, paid = draw(amounts(setting))
    return record(claim_id, person_id, setting, total, in_scope, paid)


@st.composite
def batches(draw, engine, people=(1, 4), per_person=(1, 4)):
    """Several people's claims: each claim its own identities (changes mid-year
    included), visit and amounts; some may need an unspecified value."""
    batch = []
    for person in range(draw(st.integers(*people))):
        for index in range(draw(st.integers(*per_person))):
            batch.append(draw(claims(engine, f"c-{person}-{index}", f"p-{person}")))
    return batch


def settled(engine: Engine, records: list[dict]) -> list[ClaimResult]:
    """Settle valid claims; discard the example when one needs an unspecified value.

    Any other error means the generator or the engine is wrong, so it fails.
    """
    outcomes = evaluate_claims(engine, records)
    for outcome in outcomes:
        if isinstance(outcome, ClaimError):
            assume(outcome.code != NEEDS_UNSPECIFIED)
            raise AssertionError(f"a valid claim was rejected: {outcome} {outcome.hint}")
    return outcomes


def computed_total(result: ClaimResult, version: Policy) -> Decimal:
    computed = {line.name for line in version.computed_lines}
    return sum((amount for name, amount in result.payouts if name in computed), Decimal(0))


def ceiling_binds(setting: Setting) -> bool:
    """Xinjiang §四: the ratio ceiling binds a key target's claim of a listed visit."""
    ceiling = setting.version.ceiling
    return (ceiling is not None and setting.visit in ceiling.visits
            and bool(setting.effective() & set(ceiling.identities)))
