"""Hypothesis profiles for the robustness tests: bounded in CI, long on demand.

``ci`` (the default) runs a modest, derandomized number of examples so that
CI is fast and never flaky; ``long`` explores with fresh random examples:

    HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest tests/robustness

The profile is applied to these tests only (as a decorator), so it never
changes the settings of other test folders.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

settings.register_profile(
    "yibao-robustness-ci", max_examples=25, deadline=None, derandomize=True, database=None,
    suppress_health_check=_SLOW_OK, print_blob=True,
)
settings.register_profile(
    "yibao-robustness-long", max_examples=2000, deadline=None,
    suppress_health_check=_SLOW_OK, print_blob=True,
)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE not in ("ci", "long"):
    raise ValueError(f"HYPOTHESIS_PROFILE={PROFILE}: the robustness tests know ci and long")

ROBUSTNESS = settings.get_profile(f"yibao-robustness-{PROFILE}")


def scaled(factor: float) -> settings:
    """The active profile with ``factor`` times its examples (heavy or cheap tests)."""
    return settings(ROBUSTNESS, max_examples=max(1, int(ROBUSTNESS.max_examples * factor)))
