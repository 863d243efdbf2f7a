"""Fixtures for the batch backends: one local Spark session for the whole run."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def spark():
    from yibao.backends.spark_runner import local_session

    session = local_session("local[2]")
    yield session
    session.stop()
