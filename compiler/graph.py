"""The evaluation graph: a directed acyclic graph over a closed set of pure operations.

Every backend (the scalar evaluator, the graphviz renderer, the vectorized
batch backend) is a visitor with one method per :class:`Op`; a test fails when
an op is added without an implementation in each.  An op is pure: its value is
a function of its inputs, the claim, the candidate identity and the person's
year-to-date ledger, which is passed in explicitly, never held by the graph.
"""

from __future__ import annotations

import enum
import heapq
from typing import TYPE_CHECKING, Any, Mapping

import attrs

from yibao.core.span import NO_SPAN, Span
from yibao.dsl.ast import Citation
from yibao.dsl.model import Policy

if TYPE_CHECKING:
    import networkx as nx


class Op(enum.Enum):
    INPUT = "input"                # a claim field
    UPSTREAM = "upstream"          # a payout settled by another system (claim.paid)
    IDENTITY = "identity"          # the candidate identity being evaluated (take highest)
    LOOKUP = "lookup"              # a value by identity from a table (deductible, rate, cap, …)
    COVERS = "covers"              # does the line apply: visit, condition, identity
    DIFFERENCE = "difference"      # a − b − c …, never below 0 (bases, burdens)
    YEAR_TO_DATE = "year_to_date"  # the line's cumulative base before and after this claim
    SCHEDULE = "schedule"          # round(G(C_after)) − round(G(C_before)): deductible, rate or bands
    PER_UNIT = "per_unit"          # amount × units, within the base (床日定额)
    CAP = "cap"                    # what is left of the annual cap after this year's payouts
    CEILING = "ceiling"            # ratio ceiling: combined payouts ≤ rate × in-scope cost
    CEILING_CUT = "ceiling_cut"    # one line's payout as the ratio ceiling leaves it
    SUM = "sum"                    # a total of payouts
    TAKE_HIGHEST = "take_highest"  # the candidate identity with the highest total
    ALERT = "alert"                # an annual cumulative burden reaching a threshold
    REFERRAL = "referral"          # a claim sent to case review (一事一议), never a payout



def handlers_by_op(namespace: Mapping[str, Any], prefix: str = "_") -> dict[Op, Any]:
    """One handler per op, found by its name in a module's ``namespace``
    (``_year_to_date`` for ``Op.YEAR_TO_DATE``), as ``ast.NodeVisitor`` finds
    ``visit_<Class>``.  Every table of what the ops mean (trace facts, node words, step
    words in each language, lint's model) is built this one way, and is complete: a
    module lacking a handler for some op does not import."""
    missing = [f"{prefix}{op.value}" for op in Op if f"{prefix}{op.value}" not in namespace]
    if missing:
        raise LookupError(f"{namespace.get('__name__')}: no handler {', '.join(missing)}")
    return {op: namespace[f"{prefix}{op.value}"] for op in Op}


def methods_by_op(visitor: Any, prefix: str = "_") -> dict[Op, Any]:
    """:func:`handlers_by_op` for a visitor class's methods: ``visitor._year_to_date``
    for ``Op.YEAR_TO_DATE`` (the scalar evaluator, the SQL lowering, the columnar
    engine).  A visitor lacking a method for some op is refused when it is built."""
    names = {f"{prefix}{op.value}" for op in Op}
    found = {name: getattr(visitor, name) for name in names if hasattr(visitor, name)}
    return handlers_by_op({"__name__": type(visitor).__qualname__, **found}, prefix)


class Role(enum.StrEnum):
    """What an input is to the node that reads it: every edge of the graph has one.

    A StrEnum, so a role reads and prints as its name ("covered")."""

    AMOUNT = "amount"
    BASE = "base"
    BURDEN = "burden"
    CAP = "cap"
    CEILING = "ceiling"
    CHOSEN = "chosen"
    COVERED = "covered"
    DEDUCTIBLE = "deductible"
    FIELD = "field"
    IDENTITIES = "identities"
    IDENTITY = "identity"
    IN_SCOPE_COST = "in_scope_cost"
    MINUEND = "minuend"
    PAYOUT = "payout"
    RATE = "rate"
    SCHEME = "scheme"
    SLICE = "slice"
    SUBTRAHEND = "subtrahend"
    TOTAL = "total"
    UNITS = "units"
    VISIT = "visit"
    YTD = "ytd"


def _roles(inputs) -> tuple[tuple[Role, str], ...]:
    """A node's inputs with each role a :class:`Role` (an unknown role is an error)."""
    return tuple((Role(role), source) for role, source in inputs)


class Phase(enum.Enum):
    """When a node is evaluated: once per claim, once per candidate identity, or after."""

    CLAIM = "claim"
    CANDIDATE = "candidate"
    RESULT = "result"


@attrs.frozen
class Node:
    id: str
    op: Op                           # (its words, Chinese or English, are explain/'s)
    phase: Phase
    inputs: tuple[tuple[Role, str], ...] = attrs.field(default=(), converter=_roles)  # (role, node id)
    # what the op needs beyond its inputs, as plain data (compiler/payloads.py)
    payload: Any = attrs.field(default=None, eq=False)
    line: str | None = None          # the line of defence it belongs to (a cluster when drawn)
    citation: Citation | None = None
    span: Span = attrs.field(default=NO_SPAN, eq=False)
    # role → the first input with it: traces read a node's inputs on every claim
    _by_role: dict[str, str] = attrs.field(init=False, eq=False, hash=False, repr=False)

    def __attrs_post_init__(self) -> None:
        roles: dict[str, str] = {}
        for role, node_id in self.inputs:
            roles.setdefault(role, node_id)
        object.__setattr__(self, "_by_role", roles)

    def input(self, role: str) -> str:
        try:
            return self._by_role[role]
        except KeyError:
            raise KeyError(f"{self.id} has no input {role}") from None

    def optional_input(self, role: str) -> str | None:
        """The input with ``role``, or None when the node has none (a line without a
        deductible or a cap)."""
        return self._by_role.get(role)


@attrs.frozen
class EvaluationGraph:
    """One compiled policy version: its nodes in evaluation order, each naming its inputs.

    The edges are the nodes' inputs; :attr:`graph` is the same graph as a networkx
    DiGraph, built when first asked for (drawing, a node's neighbours).  Building and
    settling never need it: networkx costs 0.2 s to import, a tenth of a daily
    ``settle`` (issues 22 and 28, fixed costs)."""

    policy: Policy
    order: tuple[Node, ...]
    _by_id: dict[str, Node] = attrs.field(init=False, eq=False, repr=False)
    _networkx: Any = attrs.field(init=False, default=None, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {node.id: node for node in self.order})

    def node(self, node_id: str) -> Node:
        return self._by_id[node_id]

    def __contains__(self, node_id: str) -> bool:
        return node_id in self._by_id

    def phase(self, phase: Phase) -> tuple[Node, ...]:
        return tuple(node for node in self.order if node.phase is phase)

    @property
    def graph(self) -> nx.DiGraph:
        """The graph as a networkx DiGraph: node attributes ``node`` and ``op``, edge
        attribute ``role``."""
        if self._networkx is None:
            import networkx as nx

            graph = nx.DiGraph(policy=self.policy.policy_id)
            for node in self.order:
                graph.add_node(node.id, node=node, op=node.op.value)
            for node in self.order:
                for role, source in node.inputs:
                    graph.add_edge(source, node.id, role=role)
            object.__setattr__(self, "_networkx", graph)
        return self._networkx

    def __getstate__(self) -> dict:
        # Pickled (the compiled-policy cache) without the networkx view, made again on demand.
        return {"policy": self.policy, "order": self.order}

    def __setstate__(self, state: dict) -> None:
        object.__setattr__(self, "policy", state["policy"])
        object.__setattr__(self, "order", state["order"])
        object.__setattr__(self, "_networkx", None)
        self.__attrs_post_init__()


def build_graph(policy: Policy, nodes: list[Node]) -> EvaluationGraph:
    """The nodes in topological order, ties kept in the order the lowering emitted them
    (which follows the document), so traces read like the notice: Kahn's algorithm
    taking the earliest emitted node whose inputs are all placed (what networkx's
    ``lexicographical_topological_sort`` keyed by position gives)."""
    position = {node.id: index for index, node in enumerate(nodes)}
    if len(position) != len(nodes):
        raise ValueError("evaluation graph has two nodes with one id")
    waiting = [0] * len(nodes)            # inputs not placed yet, by position
    readers: list[list[int]] = [[] for _ in nodes]
    for index, node in enumerate(nodes):
        for source in {source for _, source in node.inputs}:   # one edge per pair
            if source not in position:
                raise ValueError(f"evaluation graph: {node.id} reads {source}, no node")
            readers[position[source]].append(index)
            waiting[index] += 1
    ready = [index for index, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    order: list[Node] = []
    while ready:
        index = heapq.heappop(ready)
        order.append(nodes[index])
        for reader in readers[index]:
            waiting[reader] -= 1
            if waiting[reader] == 0:
                heapq.heappush(ready, reader)
    if len(order) != len(nodes):
        raise ValueError("evaluation graph has a cycle")
    return EvaluationGraph(policy, tuple(order))
