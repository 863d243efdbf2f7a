"""A trace step in words: its value and its formula, written from the step's facts.

The trace holds figures (runtime/facts.py); :mod:`yibao.explain.trace_plan`
decides, per :class:`~yibao.compiler.graph.Op`, what a step says, and each
language's catalogue (:mod:`yibao.explain.trace_zh`, :mod:`yibao.explain.trace_en`)
words it.  A step read back from an old audit record
(:class:`~yibao.runtime.facts.RecordedWords`) has its Chinese words as recorded:
every language shows them as they are.
"""

from __future__ import annotations

import attrs

from yibao.runtime.facts import RecordedWords
from yibao.runtime.trace import Step
from yibao.explain.trace_plan import Catalogue, plan


@attrs.frozen
class StepWords:
    value: str
    formula: str = ""


def write(step: Step, catalogue: Catalogue) -> StepWords:
    """The step's words in the catalogue's language (an old record's, as recorded)."""
    facts = step.facts
    if isinstance(facts, RecordedWords):
        return StepWords(facts.value, facts.formula)
    said = plan(step)
    return StepWords(catalogue.word(said.value), catalogue.formula(said))


def condition_text(tree: tuple, negation: str, conjunction: str, disjunction: str) -> str:
    """A condition tree (compiler/conditions.py) in words, with the connectives given;
    every compound part parenthesised, as dsl.ast.condition_text writes a condition."""
    kind = tree[0]
    if kind == "field":
        return tree[-1]      # its display name (省内就医) when the tree carries one
    if kind == "not":
        return f"{negation} {condition_text(tree[1], negation, conjunction, disjunction)}"
    joiner = f" {conjunction} " if kind == "all" else f" {disjunction} "
    return "(" + joiner.join(condition_text(part, negation, conjunction, disjunction)
                             for part in tree[1:]) + ")"


def covered(step: Step) -> bool:
    """Whether a coverage step found the line applies (the facts say, in any format)."""
    return bool(step.facts.covered)
