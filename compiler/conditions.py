"""Conditions on a claim's declared fields: ``in_province or referred``."""

from __future__ import annotations

from typing import Callable, Mapping

from yibao.dsl import ast


def holds(condition: ast.Condition, fields: Mapping[str, object]) -> bool:
    """Whether ``condition`` holds on a claim's declared-field values, by the function
    :func:`compile_condition` builds: the one reading of a condition in Python (the SQL
    lowering writes it as SQL, the views as words).  Built at each call, which costs
    less than looking it up (hashing the condition's tree); the hot paths keep theirs."""
    return compile_condition(condition_tree(condition))(fields)


def compile_condition(tree: tuple) -> Callable[[dict], bool]:
    """A condition in graph form (:func:`condition_tree`) as a function of a claim's
    declared-field values, built once."""
    kind = tree[0]
    if kind == "field":
        name = tree[1]
        return lambda fields: bool(fields[name])
    if kind == "not":
        operand = compile_condition(tree[1])
        return lambda fields: not operand(fields)
    operands = tuple(compile_condition(o) for o in tree[1:])
    # Loops rather than all()/any() over a generator: a line's condition is read
    # on every claim, and a generator costs more than the fields it reads.
    if kind == "all":
        def every(fields: dict) -> bool:
            for operand in operands:
                if not operand(fields):
                    return False
            return True
        return every

    def some(fields: dict) -> bool:
        for operand in operands:
            if operand(fields):
                return True
        return False
    return some


def condition_fields(condition: ast.Condition | None) -> list[str]:
    """The fields a condition reads, each once, in order."""
    if condition is None:
        return []
    if isinstance(condition, ast.FieldRef):
        return [condition.name.text]
    if isinstance(condition, ast.Not):
        return condition_fields(condition.operand)
    fields: list[str] = []
    for operand in condition.operands:
        for field in condition_fields(operand):
            if field not in fields:
                fields.append(field)
    return fields


def tree_fields(tree: tuple | None) -> list[str]:
    """:func:`condition_fields` for a condition in graph form: the same fields, in the
    same order (the lowering lists a COVERS node's field inputs in this order)."""
    if tree is None:
        return []
    if tree[0] == "field":
        return [tree[1]]
    if tree[0] == "not":
        return tree_fields(tree[1])
    fields: list[str] = []
    for operand in tree[1:]:
        for field in tree_fields(operand):
            if field not in fields:
                fields.append(field)
    return fields


def condition_tree(condition: ast.Condition, label: Callable[[str], str] | None = None) -> tuple:
    """A condition as plain data, the graph's form of it (a node carries this, never the
    dsl's tree), and the trace's facts and their JSON:
    ``("field", name)``, ``("not", tree)``, ``("all", tree, …)`` or ``("any", tree, …)``.
    With ``label`` (``Policy.field_label``), a field with a display name is
    ``("field", name, display name)``: the views show 省内就医, the data keeps in_province."""
    if isinstance(condition, ast.FieldRef):
        name = condition.name.text
        shown = label(name) if label is not None else name
        return ("field", name) if shown == name else ("field", name, shown)
    if isinstance(condition, ast.Not):
        return ("not", condition_tree(condition.operand, label))
    kind = "all" if isinstance(condition, ast.All) else "any"
    return (kind, *(condition_tree(operand, label) for operand in condition.operands))
