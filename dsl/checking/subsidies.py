"""Premium subsidies (资助参保): the table by identity, ``at most`` bounds (S208),
``zero contribution only for`` and the over-subsidy it forbids (S229)."""

from __future__ import annotations

from yibao.dsl import ast
from yibao.dsl.checking.identities import members
from yibao.dsl.checking.state import CheckState
from yibao.dsl.checking.tables import table
from yibao.dsl.inherit import inherit_table
from yibao.dsl.model import OTHERS, ByIdentity, FixedSubsidyValue, FullSubsidyValue, Rule
from yibao.dsl.values import Kind


def subsidy(state: CheckState) -> ByIdentity | None:
    items = state.tree.of_type(ast.Subsidy)
    for extra in items[1:]:
        state.error("S226", "premium subsidies are stated twice", extra.span,
                    hint="one `subsidy` table by identity")
    if not items:
        return inherit_table(state.parent.subsidy) if state.parent else None
    subsidies = table(state, "资助参保", items[0].spec, Kind.SUBSIDY, "subsidy")
    if subsidies is not None:
        _check_subsidy_bounds(state, subsidies)
    return subsidies


def _check_subsidy_bounds(state: CheckState, subsidies: ByIdentity) -> None:
    for key, sourced in subsidies.items():
        value = sourced.value
        if not isinstance(value, FixedSubsidyValue) or value.at_most is None:
            continue
        bound = subsidies.for_identity(value.at_most)
        if bound is None or not isinstance(bound.value, FixedSubsidyValue):
            state.error("S208", f"subsidy of {key}: `at most {value.at_most}` needs a fixed "
                        f"subsidy for {value.at_most}", sourced.span)


def zero_contribution(state: CheckState) -> tuple[tuple[str, ...] | None, Rule | None]:
    items = state.tree.of_type(ast.ZeroContribution)
    for extra in items[1:]:
        state.error("S226", "`zero contribution only for` is stated twice", extra.span)
    if not items:
        if state.parent:
            return state.parent.zero_contribution, state.parent.zero_contribution_rule
        return None, None
    item = items[0]
    state.require_citation(item.citation, "zero contribution", item.span)
    return members(state, item.names), state.rule(item.citation, item.span)


def check_over_subsidy(state: CheckState, subsidies: ByIdentity | None, allowed) -> None:
    """Jilin §一(三): a full subsidy for anyone else leaves zero contribution: 过度资助."""
    if subsidies is None or allowed is None:
        return
    for key, sourced in subsidies.items():
        if isinstance(sourced.value, FullSubsidyValue) and key not in allowed:
            who = key or OTHERS
            state.error("S229", f"full subsidy for {who} leaves a zero contribution, which only "
                        f"{', '.join(allowed)} may have (过度资助)", sourced.span,
                        hint="give a fixed amount or a share instead")
