"""Claim fields: their declarations (S221, S222, S208), their display names (S232)
and the references to them in conditions and per-unit amounts (S214)."""

from __future__ import annotations

from yibao.core.diagnostics import Diagnostic, Severity
from yibao.dsl import ast
from yibao.dsl.checking.state import CheckState, suggest
from yibao.dsl.model import FieldDef

# Fields of docs/claims.md that every claim has; a policy may not redeclare them.
CORE_FIELDS = (
    "claim_id", "person_id", "date", "identities", "scheme", "visit", "total_cost",
    "in_scope_cost", "paid",
)


def declare_fields(state: CheckState) -> None:
    state.fields = list(state.parent.fields) if state.parent else []
    for item in state.tree.of_type(ast.FieldDecl):
        name = item.name.text
        state.require_citation(item.citation, f"field {name}", item.span)
        if name in CORE_FIELDS:
            state.error("S222", f"{name} is a field of every claim (docs/claims.md)",
                        item.name.span, hint="declare only fields the notice adds")
            continue
        if any(f.name == name for f in state.fields):
            state.error("S221", f"field {name} is declared twice", item.name.span)
            continue
        default = item.default
        if default is not None and (item.type == "bool") != isinstance(default, bool):
            state.error("S208", f"the default of {item.type} field {name} has the wrong type",
                        item.span)
            continue
        display = item.display_name
        if display is not None and not _display_name_ok(state, name, display):
            continue
        state.fields.append(FieldDef(name, item.type, default, item.citation, item.span,
                                     display.text if display is not None else None))


def _display_name_ok(state: CheckState, name: str, display: ast.DisplayName) -> bool:
    """S232: a display name says something, and names one field: the views show it in
    the field's place, so two fields of one name could not be told apart there."""
    if not display.text.strip():
        state.error("S232", f"field {name} has an empty display name", display.span,
                    hint="write the notice's words for it, e.g. \"省内就医\", or leave it out")
        return False
    other = next((f for f in state.fields if f.display_name == display.text), None)
    if other is not None:
        state.diagnostics.append(Diagnostic(
            "S232", Severity.ERROR,
            f"field {name} has the display name {display.text} of field {other.name}",
            display.span, hint="give each field the notice's words for that field",
            related=(("the field of that display name", other.span),)))
        return False
    return True


def field_of_type(state: CheckState, name: ast.Name, field_type: str) -> bool:
    """Whether ``name`` is a declared field of ``field_type``; reported (S214) when not."""
    field = next((f for f in state.fields if f.name == name.text), None)
    if field is None:
        state.error("S214", f"unknown claim field {name.text}", name.span,
                    hint=suggest(name.text, [f.name for f in state.fields])
                    or f"declare it: field {name.text}: {field_type} §…")
        return False
    if field.type != field_type:
        state.error("S214", f"field {name.text} is {field.type}, but a {field_type} is needed",
                    name.span)
        return False
    return True


def check_condition(state: CheckState, condition: ast.Condition) -> None:
    """Every field a condition reads is a declared bool field."""
    if isinstance(condition, ast.FieldRef):
        field_of_type(state, condition.name, "bool")
    elif isinstance(condition, ast.Not):
        check_condition(state, condition.operand)
    else:
        for operand in condition.operands:
            check_condition(state, operand)
