"""Where two evaluations of one claim part ways: the first trace step whose value differs.

Steps are aligned by (node id, candidate identity): the same node evaluated for
the same take-highest candidate.  Walking the old trace in order, the first
step whose value differs, or that the new evaluation does not have, is the
divergence; failing that, the first step only the new evaluation has.  Only
traces are read, never the policies.
"""

from __future__ import annotations

import attrs

from yibao.runtime.trace import Step
from yibao.explain.trace_zh import step_label, words


@attrs.frozen
class Divergence:
    node: str
    candidate: str | None
    label: str
    old_value: str | None        # None: the old evaluation has no such step
    new_value: str | None
    old_formula: str = ""
    new_formula: str = ""
    old_clause: str = ""
    new_clause: str = ""
    old_version: str = ""
    new_version: str = ""

    def to_json(self) -> dict:
        return {"node": self.node, "candidate": self.candidate, "label": self.label,
                "old": self.old_value, "new": self.new_value,
                "old_formula": self.old_formula, "new_formula": self.new_formula,
                "old_clause": _section(self.old_clause), "new_clause": _section(self.new_clause),
                "old_version": self.old_version, "new_version": self.new_version}


def _section(clause: str) -> str:
    return f"§{clause}" if clause else ""


def _key(step: Step) -> tuple[str, str | None]:
    return (step.node, step.candidate)


def first_divergence(old: tuple[Step, ...], new: tuple[Step, ...]) -> Divergence | None:
    new_by_key: dict[tuple[str, str | None], Step] = {}
    for step in new:
        new_by_key.setdefault(_key(step), step)
    old_keys = set()
    for step in old:
        old_keys.add(_key(step))
        other = new_by_key.get(_key(step))
        if other is None or words(other).value != words(step).value:
            return _divergence(step, other)
    for step in new:
        if _key(step) not in old_keys:
            return _divergence(None, step)
    return None


def _divergence(old: Step | None, new: Step | None) -> Divergence:
    either = old or new
    old_words, new_words = (words(old) if old else None), (words(new) if new else None)
    return Divergence(
        node=either.node, candidate=either.candidate, label=step_label(either),
        old_value=old_words.value if old_words else None,
        new_value=new_words.value if new_words else None,
        old_formula=old_words.formula if old_words else "",
        new_formula=new_words.formula if new_words else "",
        old_clause=old.clause if old else "", new_clause=new.clause if new else "",
        old_version=old.version if old else "", new_version=new.version if new else "")
