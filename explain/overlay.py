"""One claim's evaluation laid over the graph, read from its trace alone.

The renderer never evaluates: each node's figure, whether the claim's path
went through it, and what the losing take-highest candidates would have had,
all come from the :class:`~yibao.compiler.trace.Step` list the evaluator
recorded (docs/specification.md §8: every candidate is traced).
"""

from __future__ import annotations

import enum

import attrs

from yibao.compiler.evaluate import ClaimResult
from yibao.compiler.lower import CANDIDATE, TAKE_HIGHEST
from yibao.compiler.trace import Step
from yibao.dsl.model import NO_IDENTITY
from yibao.explain.identity_shown import identity_shown
from yibao.explain.step_words import covered
from yibao.explain.trace_zh import words


class Mark(enum.Enum):
    TAKEN = "taken"        # on the claim's path: evaluated and applied
    UNTAKEN = "untaken"    # evaluated but not applied: a line not covered, a value skipped


@attrs.frozen
class NodeOverlay:
    value: str                                 # the node's figure, in the graph's Chinese
    mark: Mark
    step: Step
    losers: tuple[tuple[str, str], ...] = ()   # (candidate, value) of losing candidates


@attrs.frozen
class Overlay:
    claim_id: str
    winner: str                                # the identity applied (or NO_IDENTITY)
    nodes: dict[str, NodeOverlay] = attrs.field(eq=False)
    # The winner as the person holds it: 监测帮扶对象（参照低保对象）(explain/identity_shown.py).
    winner_shown: str = ""

    def mark(self, node_id: str) -> Mark | None:
        entry = self.nodes.get(node_id)
        return entry.mark if entry else None


class MissingTrace(ValueError):
    """The result was settled without a trace, so there is nothing to overlay."""


def overlay_from_result(result: ClaimResult) -> Overlay:
    if not result.trace:
        raise MissingTrace(f"claim {result.claim_id} was settled without a trace")
    winner = result.identity or NO_IDENTITY
    chosen = [s for s in result.trace if s.candidate in (None, winner)]
    losing = [s for s in result.trace if s.candidate not in (None, winner)]
    uncovered = {s.line for s in chosen if s.op == "covers" and not covered(s)}
    shown = identity_shown(result.trace, result.identity)
    nodes: dict[str, NodeOverlay] = {}
    for step in chosen:
        applied = not step.skipped and step.line not in uncovered
        # The identity nodes name the winner as the person holds it (参照执行).
        value = shown if step.node in (CANDIDATE, TAKE_HIGHEST) else words(step).value
        nodes[step.node] = NodeOverlay(value, Mark.TAKEN if applied else Mark.UNTAKEN, step)
    for step in losing:
        entry = nodes.get(step.node)
        if entry is not None:
            nodes[step.node] = attrs.evolve(
                entry, losers=entry.losers + ((step.candidate, words(step).value),))
    return Overlay(result.claim_id, winner, nodes, shown)
