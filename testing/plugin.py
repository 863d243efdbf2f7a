"""The pytest plugin shipped with yibao: the ``yibao_case`` snapshot fixture.

Installed with yibao (entry point ``pytest11``), so a policy team's tests only
need syrupy (``pip install syrupy``)::

    def test_examples(yibao_case):
        yibao_case("policies/benxi-2023.policy", "policies/examples/benxi-2023.jsonl")

The claims file is settled under the policy (each claim under the version in
force on its date, or every claim under the version in force on ``at=DATE``)
and the whole document — every claim's result and explanation — is compared
with ``__snapshots__/<test file>/<test name>.txt``.  ``pytest --snapshot-update``
writes it; the snapshot's diff in review is the change to the settlements.
The fixture returns the outcomes for further assertions.

Nothing here imports syrupy until the fixture is used, so installing yibao
never breaks a pytest run that does not use snapshots.
"""

from __future__ import annotations

import datetime
import pathlib
import re

import pytest


class SnapshotMismatch(AssertionError):
    """The settled document differs from the stored snapshot; the message is the diff."""

    def __init__(self, diff: list[str]):
        # syrupy colours its diff character by character; in a failure report that
        # is unreadable noise (and a CI log shows the escapes), so it is stripped.
        super().__init__("the settlements differ from the snapshot "
                         "(- snapshot, + now; pytest --snapshot-update accepts them):\n"
                         + "\n".join(_ANSI.sub("", line) for line in diff))


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def yibao_case(request):
    snapshot = request.getfixturevalue("snapshot")   # syrupy's fixture
    from yibao.testing.snapshot import settle_for_snapshot, snapshot_document
    from yibao.testing.syrupy_text import PolicySnapshotExtension

    def check(policy, claims, *, at: datetime.date | str | None = None, name: str | None = None):
        __tracebackhide__ = True   # a failure points at the test and the snapshot diff
        if isinstance(at, str):
            at = datetime.date.fromisoformat(at)
        engine, outcomes = settle_for_snapshot(policy, claims, at)
        document = snapshot_document(engine, outcomes, pathlib.Path(claims).name)
        stored = snapshot(extension_class=PolicySnapshotExtension, name=name)
        if document != stored:
            # Not a bare `assert`: pytest rewrites the asserts of an entry-point plugin
            # only in some installs (never in an editable one), and unrewritten, a
            # failure was a bare AssertionError with no diff (issue 24 item 12).
            raise SnapshotMismatch(stored.get_assert_diff())
        return outcomes

    return check
