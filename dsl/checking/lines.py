"""The lines of defence, in file order: inherited lines, lines settled upstream,
computed lines and the ``amend`` statements between them (S206, S215, S216,
P114)."""

from __future__ import annotations

from yibao.dsl import ast
from yibao.dsl.checking.amendments import amend_line
from yibao.dsl.checking.line_rules import apply_rules, rules_by_type, upstream_rules
from yibao.dsl.checking.state import CheckState
from yibao.dsl.inherit import inherit_line
from yibao.dsl.limits import MAX_LINES_OF_DEFENCE
from yibao.dsl.model import LineDef


def build_lines(state: CheckState) -> None:
    if state.parent:
        state.lines = [inherit_line(line) for line in state.parent.lines]
    own: set[str] = set()
    # One walk in file order: an `amend` changes the lines stated before it.
    for item in state.tree.items:
        if isinstance(item, ast.UpstreamLine):
            state.require_citation(item.citation, f"line {item.name.text}", item.span)
            line = LineDef(item.name.text, True, item.citation, item.span,
                           version=state.version)
            line = upstream_rules(state, line, item.rules, f"line {item.name.text}")
            _add_line(state, item.name, own, line)
        elif isinstance(item, ast.ComputedLine):
            line = _computed_line(state, item)
            if line is not None:
                _add_line(state, item.name, own, line)
        elif isinstance(item, ast.Amendment):
            amend_line(state, item)
    if len(state.lines) > MAX_LINES_OF_DEFENCE:
        state.error("P114", f"more than {MAX_LINES_OF_DEFENCE} lines", state.tree.span)


def _add_line(state: CheckState, name: ast.Name, own: set[str], line: LineDef) -> None:
    if name.text in own:
        state.error("S206", f"line {name.text} is defined twice", name.span,
                    hint="a line is stated once; a revision uses `amend`")
        return
    own.add(name.text)
    for index, existing in enumerate(state.lines):
        if existing.name == name.text:   # a revision restates an inherited line
            state.lines[index] = line
            return
    state.lines.append(line)


def _computed_line(state: CheckState, item: ast.ComputedLine) -> LineDef | None:
    name = item.name.text
    rules = rules_by_type(state, item.rules, f"line {name}")
    line = LineDef(name, False, None, item.span, version=state.version)
    line = apply_rules(state, line, rules, f"line {name}")
    if ast.Rate not in rules and ast.PerUnit not in rules:
        state.error("S215", f"line {name} has neither a rate nor a per-unit amount",
                    item.name.span,
                    hint="add: rate 60% §…  (or bands, or per bed_days …)")
    if ast.Covers not in rules:
        state.error("S215", f"line {name} does not say which visits it covers", item.name.span,
                    hint="add: covers 住院, 门诊慢特病 §…")
    _check_table_agreement(state, line, item)
    return line


def _check_table_agreement(state: CheckState, line: LineDef, item: ast.ComputedLine) -> None:
    """S216: without `identities`, a line covers whom its tables name: they must agree."""
    if line.members is not None:
        return
    tables = [t for t in (line.deductible, line.rate, line.per_unit) if t is not None]
    keyed = [set(t.keys()) for t in tables if None not in t.keys()]
    if len(keyed) > 1 and any(k != keyed[0] for k in keyed):
        missing = sorted(set().union(*keyed) - set.intersection(*keyed))
        verb = "appears" if len(missing) == 1 else "appear"
        state.error(
            "S216", f"line {line.name}: {', '.join(missing)} {verb} in some of its tables only",
            item.name.span,
            hint="give every identity a deductible and a rate, or list members with `identities`",
        )
