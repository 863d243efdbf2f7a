"""Shared fixtures: the repository's policies, compiled once per session."""

from __future__ import annotations

import os
import tempfile

import pytest

from helpers import POLICIES
from yibao.api import load_engine

# The rendered SQL plans (backends/plan_cache.py) of this session go to a directory of
# its own, not the user's cache; subprocesses (the CLI tests) inherit it.
os.environ["YIBAO_CACHE_DIR"] = tempfile.mkdtemp(prefix="yibao-test-cache-")


@pytest.fixture(scope="session")
def benxi_engine():
    return load_engine(POLICIES / "benxi-2023.policy")
