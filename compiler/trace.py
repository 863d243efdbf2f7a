"""The explanation trace: one step per evaluated node, as data.

The evaluator builds it; the renderers in :mod:`yibao.explain` only read it.
A step is an immutable named tuple rather than an attrs class: a trace holds
some forty steps a claim, and a tuple is built in a third of the time.
"""

from __future__ import annotations

from typing import NamedTuple


class Step(NamedTuple):
    node: str
    op: str
    label: str
    value: str
    formula: str = ""
    inputs: tuple[tuple[str, str], ...] = ()
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
            "label": self.label,
            "value": self.value,
        }
        if self.formula:
            data["formula"] = self.formula
        if self.inputs:
            data["inputs"] = {name: value for name, value in self.inputs}
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
