"""Every package of the source tree is in the wheel: pyproject.toml lists them by hand
(the repository root is the package), and a new folder left off the list installs
without it, which only a fresh install shows (yibao.dsl.checking was missed once)."""

from __future__ import annotations

import tomllib

from helpers import ROOT

NOT_SHIPPED = {"tests", "benchmarks", "fuzz", "scripts", "editors", "docs", "policies", "out"}


def test_every_source_package_is_listed_for_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
                 ["tool"]["setuptools"]["packages"])
    found = {"yibao"}
    for init in ROOT.rglob("__init__.py"):
        parts = init.parent.relative_to(ROOT).parts
        if not parts or parts[0] in NOT_SHIPPED or parts[0].startswith("."):
            continue
        if any(part.endswith(".egg-info") or part == "__pycache__" for part in parts):
            continue
        found.add(".".join(("yibao", *parts)))
    assert found == listed
