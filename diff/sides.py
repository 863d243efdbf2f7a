"""The two sides of a diff: a policy file as it settles claims, or one version pinned.

``yibao diff OLD NEW`` settles the corpus under each file as ``yibao eval``
would (each claim under the version in force on its date).  Pinning a side to
a date (``--at``/``--vs``) takes the version in force on that date and settles
*every* claim under it, whatever the claim's date: the question a reviewer of
a revision asks is "what would this corpus be paid under the old rules and
under the new ones".  Dates still decide the calendar year a claim's
year-to-date figures belong to; no claim is re-dated, and a claim dated before
the pinned version's effective date is settled under it all the same (never
refused with C310).
"""

from __future__ import annotations

import bisect
import datetime
import pathlib

import attrs

from yibao.runtime.batch import Engine
from yibao.dsl.loader import LoadedPolicy, load_policy
from yibao.dsl.model import Policy


class NoVersionInForce(ValueError):
    """A side pinned to a date before the policy's first version."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.hint = hint


class PinnedEngine(Engine):
    """An engine that settles every claim under one version, whatever its date."""

    def __init__(self, loaded: LoadedPolicy, version: Policy):
        # Only the pinned version is compiled.
        pinned = LoadedPolicy((version,), loaded.sources, loaded.warnings, loaded.missing_base)
        super().__init__(pinned)

    def version_for(self, date: datetime.date, claim_id: str | None = None) -> Policy:
        return self.versions[0]


@attrs.frozen
class Side:
    """One side of a diff: its label, the version whose values are compared, its engine."""

    label: str
    policy: Policy
    loaded: LoadedPolicy = attrs.field(eq=False)
    pinned_to: datetime.date | None = None
    path: str = ""                   # the policy file as given on the command line

    def engine(self) -> Engine:
        if self.pinned_to is None:
            return Engine(self.loaded)
        return PinnedEngine(self.loaded, self.policy)

    def to_json(self) -> dict:
        return {"label": self.label, "policy": self.policy.policy_id,
                "effective": str(self.policy.effective),
                "versions": [p.policy_id for p in self.loaded.versions],
                "pinned_to": str(self.pinned_to) if self.pinned_to else None,
                "file": self.path}


def version_in_force(loaded: LoadedPolicy, date: datetime.date, path: str = "") -> Policy:
    """The version in force on ``date`` (the latest whose effective date is not after it)."""
    dates = [p.effective for p in loaded.versions]
    index = bisect.bisect_right(dates, date) - 1
    if index < 0:
        first = loaded.versions[0]
        raise NoVersionInForce(
            f"{path or first.policy_id}: no version of {loaded.latest.policy_id} is in force "
            f"on {date}; {first.policy_id} takes effect on {first.effective}",
            "versions: " + ", ".join(f"{p.policy_id} from {p.effective}"
                                     for p in loaded.versions))
    return loaded.versions[index]


def make_side(loaded: LoadedPolicy, pinned_to: datetime.date | None = None,
              path: str = "") -> Side:
    if pinned_to is None:
        policy = loaded.latest
        return Side(policy.policy_id, policy, loaded, path=path)
    policy = version_in_force(loaded, pinned_to, path)
    return Side(f"{policy.policy_id}@{pinned_to}", policy, loaded, pinned_to, path)


def load_sides(old_path: str | pathlib.Path, new_path: str | pathlib.Path | None = None,
               at: datetime.date | None = None, vs: datetime.date | None = None):
    """(old, new) sides: two files, or one policy family at two dates."""
    old_loaded = load_policy(old_path)
    new_loaded = old_loaded if new_path is None else load_policy(new_path)
    old = make_side(old_loaded, at, str(old_path))
    new = make_side(new_loaded, vs, str(new_path or old_path))
    if old.label == new.label and old.path != new.path:
        # Two files of one policy id (a draft against the notice in force) read
        # "benxi-2023 → benxi-2023" otherwise: the files tell the sides apart.
        old, new = (attrs.evolve(side, label=f"{side.label} ({side.path})") for side in (old, new))
    return old, new
