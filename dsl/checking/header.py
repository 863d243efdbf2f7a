"""The policy header (S201, S218, S223, S226, S227), its schemes and the clauses
the file quotes."""

from __future__ import annotations

from yibao.core.span import Span
from yibao.dsl import ast
from yibao.dsl.checking.state import CheckState, suggest
from yibao.dsl.model import SCHEMES


def check_header(state: CheckState) -> ast.Header | None:
    headers = state.tree.of_type(ast.Header)
    if not headers:
        state.error(
            "S201", "the file has no `policy` header", Span.point(state.tree.path, 1, 1),
            hint="start the file with: policy my-policy-2023 { effective 2023-01-01 }",
        )
        return None
    for extra in headers[1:]:
        state.error("S226", "a file holds one policy: a second `policy` header", extra.span)
    header = headers[0]
    parent = state.parent
    if header.effective is None:
        state.error("S201", f"policy {header.policy_id} has no effective date", header.span,
                    hint="add: effective 2023-01-01")
    if header.extends and parent and parent.policy_id != header.extends:
        state.error("S223", f"extends {header.extends}, but was given {parent.policy_id}",
                    header.span)
    if (parent and parent.effective and header.effective
            and header.effective <= parent.effective):
        state.error("S227", "a revision must take effect after the version it extends",
                    header.span,
                    hint=f"{parent.policy_id} takes effect {parent.effective}")
    return header


def schemes(state: CheckState, header: ast.Header) -> tuple[str, ...]:
    if header.schemes is None:
        return state.parent.schemes if state.parent else SCHEMES
    state.require_citation(header.schemes.citation, "schemes", header.schemes.span)
    for name in header.schemes.names:
        if name.text not in SCHEMES:
            state.error("S218", f"unknown scheme {name.text}", name.span,
                        hint=suggest(name.text, SCHEMES) or "one of " + ", ".join(SCHEMES))
    return tuple(n.text for n in header.schemes.names if n.text in SCHEMES)


def clauses(state: CheckState) -> tuple[tuple[str, str], ...]:
    """The clause texts the file quotes, after the inherited ones."""
    texts = dict(state.parent.clauses) if state.parent else {}
    for clause in state.tree.of_type(ast.ClauseText):
        texts[clause.clause] = clause.text
    return tuple(texts.items())
