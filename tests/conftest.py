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


# Debian's Chromium, installed by scripts/ensure-system-packages.sh, driven by Playwright:
# one browser per test module (HTML, print, desk).  Not one per session: Playwright's sync
# API keeps an event loop running while it is open, and the language server's asyncio
# tests (tests/lsp) cannot start theirs beside it.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
