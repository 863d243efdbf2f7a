"""Shared fixtures: the repository's policies, compiled once per session."""

from __future__ import annotations

import pytest

from helpers import POLICIES
from yibao.api import load_engine


@pytest.fixture(scope="session")
def benxi_engine():
    return load_engine(POLICIES / "benxi-2023.policy")
