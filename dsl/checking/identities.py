"""Identities: their declarations (S202), ``treated as`` (S203, S204), the cap on
their number (P114), ``take highest``, and resolving a name used as a table key
or member to an identity with its own treatment (S203, S217)."""

from __future__ import annotations

import attrs

from yibao.dsl import ast
from yibao.dsl.checking.state import CheckState, suggest
from yibao.dsl.limits import MAX_IDENTITIES
from yibao.dsl.model import OTHERS, IdentityDef, Rule


def declare_identities(state: CheckState) -> None:
    if state.parent:
        state.identities = [attrs.evolve(i, inherited=True) for i in state.parent.identities]
    declared = {i.name for i in state.identities}
    for item in state.tree.of_type(ast.Identity):
        name = item.name.text
        state.require_citation(item.citation, f"identity {name}", item.span)
        if name in declared:
            previous = [i for i in state.identities if i.name == name][0]
            if not previous.inherited:
                state.error("S202", f"identity {name} is declared twice", item.name.span)
                continue
            state.identities.remove(previous)
        declared.add(name)
        state.identities.append(IdentityDef(
            name, item.treated_as.text if item.treated_as else None, item.citation,
            item.span, state.version,
        ))
    if len(state.identities) > MAX_IDENTITIES:
        state.error("P114", f"more than {MAX_IDENTITIES} identities", state.tree.span)
        # Checking the rest would only repeat the error, slowly: chains are walked per identity.
        state.identities = state.identities[:MAX_IDENTITIES]
        return
    by_name = {i.name: i for i in state.identities}
    for item in state.tree.of_type(ast.Identity):
        if item.treated_as and item.treated_as.text not in by_name:
            state.error("S203", f"unknown identity {item.treated_as.text}", item.treated_as.span,
                        hint=suggest(item.treated_as.text, by_name))
    _check_treated_as_cycles(state, by_name)


def _check_treated_as_cycles(state: CheckState, by_name: dict[str, IdentityDef]) -> None:
    reported: set[frozenset[str]] = set()
    for identity in state.identities:
        seen = [identity.name]
        current = identity
        while current.treated_as and current.treated_as in by_name:
            current = by_name[current.treated_as]
            if current.name in seen:
                cycle = frozenset(seen[seen.index(current.name):])
                if cycle not in reported:  # one report per cycle, at its first member
                    reported.add(cycle)
                    chain = " → ".join(seen + [current.name])
                    state.error("S204", f"treated-as cycle: {chain}", identity.span,
                                hint="an identity must end at one that has its own treatment")
                break
            seen.append(current.name)


def take_highest(state: CheckState) -> Rule | None:
    items = state.tree.of_type(ast.TakeHighest)
    for extra in items[1:]:
        state.error("S226", "`take highest` is stated twice", extra.span)
    if items:
        state.require_citation(items[0].citation, "take highest", items[0].span)
        return state.rule(items[0].citation, items[0].span)
    if state.parent and state.parent.take_highest:
        return attrs.evolve(state.parent.take_highest, inherited=True)
    return None


def base_identity(state: CheckState, name: ast.Name,
                  allow_others: bool = True) -> str | None | bool:
    """Resolve a table key: an identity with its own treatment, or ``others``.

    Returns the identity name, ``None`` for others, or ``False`` when reported.
    """
    if name.text == OTHERS and allow_others:
        return None
    identity = next((i for i in state.identities if i.name == name.text), None)
    if identity is None:
        state.error("S203", f"unknown identity {name.text}", name.span,
                    hint=suggest(name.text, [i.name for i in state.identities]))
        return False
    if identity.treated_as:
        state.error(
            "S217", f"{name.text} is treated as {identity.treated_as}; its value is never read",
            name.span, hint=f"give the value to {identity.treated_as}",
        )
        return False
    return name.text


def members(state: CheckState, names) -> tuple[str, ...]:
    """The identities a rule lists (``identities …``, a group): ``others`` is no member;
    a name that does not resolve is reported and left out."""
    return tuple(n for n in (base_identity(state, m, False) for m in names) if n)
