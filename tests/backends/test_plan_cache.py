"""The rendered SQL plan kept on disk (backends/plan_cache.py): the same statements as
rendering them, a new key for a new policy text, a bad file a miss, never an error."""

from __future__ import annotations

import shutil

import pytest

from helpers import POLICIES
from yibao.backends import plan_cache
from yibao.backends.plan_cache import plan_key, render, rendered_plan
from yibao.dsl.loader import load_policy


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("YIBAO_CACHE_DIR", str(tmp_path))
    return tmp_path / "plans"


def test_a_cached_plan_is_the_rendered_plan(cache):
    loaded = load_policy(POLICIES / "benxi-2023.policy")
    first = rendered_plan(loaded, "duckdb")            # rendered, and stored
    assert [p.name for p in cache.iterdir()] == [f"{plan_key(loaded, 'duckdb')}.json"]
    second = rendered_plan(loaded, "duckdb")           # read back
    fresh = render(loaded, "duckdb")
    assert second.statements == first.statements == fresh.statements
    assert second.unspecified == fresh.unspecified
    # Benxi §(五) leaves the bed-day amount open: the C311 wording survives the file
    assert any("精神障碍床日定额救助.定额标准" in need.message for need in second.unspecified)


def test_the_key_follows_the_policy_text_and_the_code(tmp_path, cache, monkeypatch):
    original = POLICIES / "benxi-2023.policy"
    copy = tmp_path / "benxi-2023.policy"
    shutil.copy(original, copy)
    same = plan_key(load_policy(copy), "duckdb")
    assert same == plan_key(load_policy(original), "duckdb")   # text, not path
    copy.write_text(copy.read_text(encoding="utf-8") + "\n# 注释\n", encoding="utf-8")
    assert plan_key(load_policy(copy), "duckdb") != same
    assert plan_key(load_policy(original), "spark") != same
    monkeypatch.setattr(plan_cache, "engine_version", lambda: "another yibao")
    assert plan_key(load_policy(original), "duckdb") != same


@pytest.mark.parametrize("content", ["", '{"statements": {"claims": "SEL', "[]", "{}"])
def test_a_bad_file_is_rendered_again(cache, content):
    loaded = load_policy(POLICIES / "benxi-2023.policy")
    cache.mkdir(parents=True)
    path = cache / f"{plan_key(loaded, 'duckdb')}.json"
    path.write_text(content, encoding="utf-8")   # a half-written file, or a foreign one
    plan = rendered_plan(loaded, "duckdb")
    assert plan.statements == render(loaded, "duckdb").statements
    assert rendered_plan(loaded, "duckdb").statements == plan.statements   # rewritten whole


def test_an_unwritable_cache_renders_every_time(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("YIBAO_CACHE_DIR", str(blocker))
    loaded = load_policy(POLICIES / "benxi-2023.policy")
    assert rendered_plan(loaded, "duckdb").statements == render(loaded, "duckdb").statements
    monkeypatch.setenv("YIBAO_CACHE_DIR", "off")
    assert plan_cache.cache_directory() is None
