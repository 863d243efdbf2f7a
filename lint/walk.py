"""Walk a policy's AST: every node with the nodes it sits in."""

from __future__ import annotations

from typing import Iterator

import attrs

from yibao.dsl import ast


def walk(node, ancestors: tuple = ()) -> Iterator[tuple[object, tuple]]:
    """Every AST node under ``node`` (itself included), depth first, with its ancestors."""
    yield node, ancestors
    if not attrs.has(type(node)):
        return
    inner = ancestors + (node,)
    for field in attrs.fields(type(node)):
        if field.name == "span":
            continue
        value = getattr(node, field.name)
        children = value if isinstance(value, tuple) else (value,)
        for child in children:
            if attrs.has(type(child)):
                yield from walk(child, inner)


def citations(tree: ast.PolicyFile) -> Iterator[ast.Citation]:
    for node, _ in walk(tree):
        if isinstance(node, ast.Citation):
            yield node
