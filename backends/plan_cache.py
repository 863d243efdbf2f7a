"""A policy chain's SQL plan, rendered once and kept on disk between runs.

Building the plan (backends/plan.py) lowers every version to its graph, builds
the sqlglot trees and renders them: 0.2 to 0.3 s of every run, more than
settling 10^5 claims takes, and it needs networkx and the compiler.  What it
renders depends on nothing but the policy texts and yibao's own code, so the
statements a runner executes are kept in a file, keyed by

* the SHA-256 of the chain's source texts, in the loader's order, and the base an
  amendment awaits (dsl/loader.py's ``LoadedPolicy``);
* the engine version: yibao's version, a digest of the code that builds plans
  (the ``core``, ``dsl``, ``compiler``, ``runtime`` and ``backends`` modules: a change to any
  of them renders anew, released or not) and sqlglot's version;
* the dialect.

The directory is ``plans`` in yibao's cache (core/cache.py: ``$YIBAO_CACHE_DIR``,
else ``$XDG_CACHE_HOME/yibao``, else ``~/.cache/yibao``); ``YIBAO_CACHE_DIR=off``
renders every time.
A plan is written to a temporary file in that directory and renamed onto its
name (``os.replace``, atomic on one file system), so runs at the same time read
a whole plan or none, and two that render the same key write the same text.
A file that cannot be read or parsed, or a directory that cannot be written,
is a miss: the run renders its plan and goes on.
"""

from __future__ import annotations

import functools
import hashlib
import json
import pathlib

import attrs

from yibao.backends.columns import ClaimColumns
from yibao.core import cache as core_cache

FORMAT = 1   # of the file below; a new one is a new key
# The code a plan is rendered by: any change there may change a statement.
PLAN_CODE = ("core", "dsl", "compiler", "runtime", "backends")


@attrs.frozen
class Need:
    """A value the notice leaves open, as a C311 refusal words it (backends/prepare.py's
    ``Unspecified``)."""

    message: str
    hint: str


@attrs.frozen
class RenderedPlan:
    """Every statement a runner executes, by name, and the C311 refusals ``c311`` indexes
    (what backends/outcomes.py's ``Refusals`` reads of a plan)."""

    columns: ClaimColumns
    statements: dict[str, str]
    unspecified: tuple[Need, ...]

    def sql(self, name: str) -> str:
        return self.statements[name]


def _statements(plan, dialect: str) -> dict[str, str]:
    """The statements of backends/duckdb_runner.py, over its relations' names."""
    trees = {
        "claims": plan.claims("raw_claims", dialect),
        "accepted": plan.accepted("accepted", dialect),
        "collisions": plan.collisions("claims"),
        "dense_keys": plan.dense_keys("claims"),
        "duplicate_ids": plan.duplicate_ids("claims"),
        "later_copies": plan.later_copies("claims", "duplicated"),
        "settleable": plan.settleable("claims", None),
        "settleable_without_copies": plan.settleable("claims", "copies"),
        "unspecified_claims": plan.unspecified_claims("claims"),
        "slow_person_years": plan.slow_person_years("settleable"),
        "fast_claims": plan.fast_claims("settleable", "slow_py"),
        "walk_claims": plan.walk_claims("settleable", "slow_py"),
        "window": plan.window_settled("fast_claims"),
        "walk": plan.walk_settled("walk_claims"),
        "results": plan.results("settled", "claims"),
    }
    return {name: tree.sql(dialect) for name, tree in trees.items()}


def render(loaded, dialect: str) -> RenderedPlan:
    """The plan of ``loaded`` built and rendered now (no cache)."""
    from yibao.backends.plan import SettlementPlan

    plan = SettlementPlan(loaded)
    return RenderedPlan(plan.columns, _statements(plan, dialect),
                        tuple(Need(need.message, need.hint) for need in plan.unspecified))


def rendered_plan(loaded, dialect: str) -> RenderedPlan:
    """The plan of ``loaded`` from the cache, else rendered and stored there."""
    directory = cache_directory()
    if directory is None:
        return render(loaded, dialect)
    path = directory / f"{plan_key(loaded, dialect)}.json"
    columns = ClaimColumns.of(loaded.versions)
    found = _read(path, columns)
    if found is not None:
        return found
    plan = render(loaded, dialect)
    _write(path, plan)
    return plan


def cache_directory() -> pathlib.Path | None:
    return core_cache.cache_directory("plans")


def plan_key(loaded, dialect: str) -> str:
    return core_cache.key_of((f"format {FORMAT}", engine_version(), dialect,
                              loaded.missing_base or "", *loaded.sources.values()))


@functools.cache
def engine_version() -> str:
    """yibao's version, the digest of the code plans are rendered by, sqlglot's version."""
    from yibao import __version__

    code = core_cache.code_digest(PLAN_CODE)
    return f"yibao {__version__} code {code} sqlglot {_sqlglot_version()}"


def _sqlglot_version() -> str:
    """sqlglot's version, read from its ``_version.py`` without importing sqlglot (0.1–0.2
    s: a run whose plan is cached never needs it); imported when that file is not there."""
    import importlib.util

    spec = importlib.util.find_spec("sqlglot")
    if spec is not None and spec.origin:
        try:
            text = (pathlib.Path(spec.origin).parent / "_version.py").read_text(encoding="utf-8")
            return hashlib.sha256(text.encode("utf-8")).hexdigest()
        except OSError:
            pass
    import sqlglot

    return sqlglot.__version__


def _read(path: pathlib.Path, columns: ClaimColumns) -> RenderedPlan | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return RenderedPlan(columns, dict(data["statements"]),
                            tuple(Need(message, hint) for message, hint in data["unspecified"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None   # absent, half a file from an older yibao, unreadable: render it


def _write(path: pathlib.Path, plan: RenderedPlan) -> None:
    text = json.dumps({"statements": plan.statements,
                       "unspecified": [[need.message, need.hint] for need in plan.unspecified]},
                      ensure_ascii=False)
    core_cache.write_atomically(path, text.encode("utf-8"))
