"""The policy pages: the folder's policies, and one policy's versions, clauses with
their quoted words, evaluation graph, lint findings and ``--shares`` summary.

A policy is named by its file under ``--policies`` (``benxi-2023``); the name is
looked up among the files found when the desk started, never joined to a path.
The lint findings and shares are ``yibao lint`` / ``yibao lint --shares`` over
that file (settings from the nearest pyproject.toml, as the command reads
them); the graph is ``yibao graph``'s, drawn by Graphviz, cached per version.
"""

from __future__ import annotations

import functools
import pathlib

import attrs

from starlette.responses import Response

from yibao.desk.context import UnknownPolicy
from yibao.desk.render import page


def policies_page(ctx, status):
    return page(ctx, status, "policies.html", "政策", names=sorted(ctx.policy_files))


@functools.lru_cache(maxsize=64)
def _graph_svg(path: str, mtime: float, version: str) -> str:
    from yibao.compiler.lower import lower_policy
    from yibao.dsl.loader import load_policy
    from yibao.explain.graph import graph_dot, inline_svg

    loaded = load_policy(path)
    policy = next(p for p in loaded.versions if p.policy_id == version)
    return inline_svg(graph_dot(lower_policy(policy)))


@functools.lru_cache(maxsize=64)
def _lint(path: str, mtime: float):
    from yibao.lint.render import shares_text
    from yibao.lint.runner import lint_paths

    report = lint_paths([pathlib.Path(path)])[0]
    context = report.context
    shares = (shares_text(pathlib.Path(path).name, context.protection, context.config.ceiling)
              if context is not None and context.policy else "")
    return report.findings, shares


def quotes_by_clause(policy) -> dict[str, list[str]]:
    """Every quoted phrase the policy's rules and values cite, by clause, in text order.

    A walk over the model's attrs nodes (lines, rules, value tables, alerts, identities):
    each :class:`~yibao.dsl.ast.Citation` names a clause and, usually, the notice's words.
    """
    from yibao.dsl.ast import Citation

    found: dict[str, list[str]] = {}
    seen: set[int] = set()
    pending = [policy]
    while pending:
        node = pending.pop()
        if isinstance(node, Citation):
            if node.quote and node.quote not in found.setdefault(node.clause, []):
                found[node.clause].append(node.quote)
        elif isinstance(node, (tuple, list)):
            pending.extend(reversed(node))
        elif attrs.has(type(node)) and id(node) not in seen:
            seen.add(id(node))
            pending.extend(reversed([getattr(node, f.name) for f in attrs.fields(type(node))]))
    return found


def _version(loaded, wanted: str):
    return next((p for p in loaded.versions if p.policy_id == wanted), loaded.latest)


def policy_page(ctx, status, name: str, version: str):
    from yibao.dsl.loader import load_policy

    try:
        path = ctx.policy_path(name)
    except UnknownPolicy:
        return page(ctx, status, "missing.html", "没有这个政策", code=404, what="政策", name=name)
    loaded = load_policy(path)
    policy = _version(loaded, version)
    mtime = path.stat().st_mtime
    findings, shares = _lint(str(path), mtime)
    return page(ctx, status, "policy.html", policy.title or name, name=name, loaded=loaded,
                policy=policy, graph=_graph_svg(str(path), mtime, policy.policy_id),
                findings=findings, shares=shares, quotes=quotes_by_clause(policy),
                file_names={p.policy_id: pathlib.Path(p.source_path).name for p in loaded.versions})


def graph_file(ctx, name: str, version: str) -> Response:
    """The graph alone, full size, as an SVG document."""
    from yibao.dsl.loader import load_policy

    try:
        path = ctx.policy_path(name)
    except UnknownPolicy:
        return Response("no such policy", status_code=404, media_type="text/plain")
    policy = _version(load_policy(path), version)
    svg = _graph_svg(str(path), path.stat().st_mtime, policy.policy_id)
    return Response('<?xml version="1.0" encoding="UTF-8"?>\n' + svg,
                    media_type="image/svg+xml")
