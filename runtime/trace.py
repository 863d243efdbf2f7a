"""The explanation trace: one step per evaluated node, as data.

The evaluator builds it; the renderers in :mod:`yibao.explain` only read it and
write its words (a step holds figures, never sentences: runtime/facts.py).
A step is an immutable named tuple rather than an attrs class: a trace holds
some forty steps a claim, and a tuple is built in a third of the time.
"""

from __future__ import annotations

from typing import NamedTuple

from yibao.runtime.facts import Facts, RecordedWords, facts_to_json


class Step(NamedTuple):
    node: str
    op: str
    facts: Facts                      # the figures the op computed (runtime/facts.py)
    clause: str = ""
    quote: str = ""
    candidate: str | None = None      # the identity being evaluated (take highest), if any
    line: str | None = None
    version: str = ""                 # the policy version whose text set the value read
    inherited: bool = False           # the value was carried over from an earlier version
    skipped: bool = False             # the node did not apply (visit, identity, condition)

    def to_json(self) -> dict:
        data = {
            "node": self.node,
            "op": self.op,
        }
        facts = self.facts
        if isinstance(facts, RecordedWords):   # an old record's step: its words, as recorded
            if facts.label:
                data["label"] = facts.label
            data["value"] = facts.value
            if facts.formula:
                data["formula"] = facts.formula
            if facts.inputs:
                data["inputs"] = {name: value for name, value in facts.inputs}
        else:
            data["facts"] = facts_to_json(facts)
        if self.clause:
            data["clause"] = f"§{self.clause}"
        if self.quote:
            data["quote"] = self.quote
        if self.candidate is not None:
            data["candidate"] = self.candidate
        if self.line:
            data["line"] = self.line
        if self.version:
            data["version"] = self.version
        if self.inherited:
            data["inherited"] = True
        if self.skipped:
            data["skipped"] = True
        return data
