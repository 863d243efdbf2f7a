"""The kinds of claim a policy's lines can see, each with the lines that cover it.

A scenario is one effective identity (after 参照执行), one visit type and one
assignment of the claim's yes/no fields (a :class:`ClaimKind`).  Which computed
lines cover it, and which of them need a value the notice leaves unspecified,
is read from the compiled graph: its COVERS and LOOKUP nodes visited on the
scenario's inputs (lint/graph_model.py), so lint decides coverage exactly as
the evaluator does.  The analyses of over-protection, monotonicity and lines
that never pay look at every scenario in turn.
"""

from __future__ import annotations

import itertools

import attrs

from yibao.compiler.conditions import condition_fields
from yibao.compiler.graph import EvaluationGraph, Op
from yibao.compiler.lower import CEILING
from yibao.dsl.model import UNSPECIFIED, VISITS, Policy
from yibao.lint.graph_model import ZERO, ClaimKind, ceiling_applies, visit as visit_graph

# Beyond this many yes/no fields in line conditions, conditions are taken as
# satisfiable one by one rather than enumerating every assignment.
MAX_ENUMERATED_FIELDS = 10

# What a scenario reads of the graph: coverage and the lines' values, before any money.
COVERAGE_OPS = frozenset((Op.INPUT, Op.IDENTITY, Op.COVERS, Op.LOOKUP))

# A looked-up quantity's word, as the analyses report a value left unspecified.
WORDS = {"deductible": "起付标准", "rate": "支付比例", "cap": "年度限额", "per_unit": "定额标准"}


@attrs.frozen
class Scenario(ClaimKind):
    lines: tuple[str, ...]                 # computed lines covering the claim, in order
    ceiling_applies: bool

    @property
    def line_names(self) -> tuple[str, ...]:
        return self.lines

    def describe(self) -> str:
        fields = ", ".join(f"{name}={'是' if value else '否'}" for name, value in self.fields)
        return self.visit + (f", {fields}" if fields else "")


def effective_identities(policy: Policy) -> list[str | None]:
    """Identities with their own treatment, in the policy's order, then no identity (None)."""
    return [i.name for i in policy.identities if not i.treated_as] + [None]


def scenarios(graph: EvaluationGraph, identity: str | None) -> list[Scenario]:
    """Every distinct scenario of ``identity``; the first assignment of fields found is kept."""
    found: dict[tuple, Scenario] = {}
    for visit in VISITS:
        for fields in _assignments(graph.policy):
            scenario = _scenario(graph, identity, visit, fields)
            key = (scenario.lines, scenario.unknown, scenario.ceiling_applies)
            found.setdefault(key, scenario)
    return list(found.values())


def _assignments(policy: Policy) -> list[dict[str, bool] | None]:
    names: list[str] = []
    for line in policy.computed_lines:
        for name in condition_fields(line.condition):
            if name not in names:
                names.append(name)
    if len(names) > MAX_ENUMERATED_FIELDS:
        return [None]
    # Each field's default first, so that the scenario reported is the ordinary claim.
    choices = []
    for name in names:
        field = policy.field(name)
        default = bool(field.default) if field is not None else False
        choices.append((default, not default))
    return [dict(zip(names, values)) for values in itertools.product(*choices)]


def _scenario(graph: EvaluationGraph, identity: str | None, visit: str,
              fields: dict[str, bool] | None) -> Scenario:
    relevant = tuple(sorted((fields or {}).items()))
    values, _ = visit_graph(graph, ClaimKind(identity, visit, relevant, ()), ZERO, ops=COVERAGE_OPS)
    lines: list[str] = []
    unknown: dict[str, str] = {}   # line → the word of its first unspecified value
    for node in graph.order:
        if node.op is Op.COVERS and values[node.id]:
            lines.append(node.line)
        elif node.op is Op.LOOKUP and values[node.id] is UNSPECIFIED:
            unknown.setdefault(node.line, WORDS[node.payload.quantity])
    ceiling = graph.node(CEILING) if CEILING in graph.graph else None
    applies = ceiling is not None and ceiling_applies(ceiling.payload, visit, identity)
    return Scenario(identity, visit, relevant, tuple(unknown.items()),
                    tuple(line for line in lines if line not in unknown), applies)
