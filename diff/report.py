"""A whole diff: the two sides, their value changes, and (with a corpus) its effect.

This is the one object the renderers read.
"""

from __future__ import annotations

import datetime
import pathlib
from typing import Sequence

import attrs

from yibao.diff.corpus import (
    CHANGED, FAILED_BOTH, FAILED_NEW_ONLY, FAILED_OLD_ONLY, CorpusDiff, Record, diff_corpus,
)
from yibao.diff.sides import Side, load_sides
from yibao.diff.summary import Summary, summarise
from yibao.diff.values import ValueChange, diff_values


@attrs.frozen
class DiffReport:
    old: Side
    new: Side
    values: tuple[ValueChange, ...]
    corpus: CorpusDiff | None = None
    summary: Summary | None = None
    corpus_name: str = ""

    @property
    def anything_changed(self) -> bool:
        """True when a value changed or any claim's outcome differs (for --fail-on-change)."""
        if self.values:
            return True
        if self.corpus is None:
            return False
        return any(c.category in (CHANGED, FAILED_OLD_ONLY, FAILED_NEW_ONLY)
                   or (c.category == FAILED_BOTH and _refused_differently(c.old, c.new))
                   for c in self.corpus.claims)


def _refused_differently(old, new) -> bool:
    # Messages name the version ("jiamusi-2021 does not cover…"): compare code and field.
    return (old.code, old.field) != (new.code, new.field)


def build_report(old: Side, new: Side, records: Sequence[Record] | None = None,
                 corpus_name: str = "") -> DiffReport:
    values = diff_values(old.policy, new.policy)
    if records is None:
        return DiffReport(old, new, values)
    corpus = diff_corpus(old.engine(), new.engine(), records)
    return DiffReport(old, new, values, corpus, summarise(corpus), corpus_name)


def diff_files(old_path: str | pathlib.Path, new_path: str | pathlib.Path | None = None,
               claims: str | pathlib.Path | None = None, at: datetime.date | None = None,
               vs: datetime.date | None = None) -> DiffReport:
    """The library's entry point: what `yibao diff` computes, before rendering."""
    old, new = load_sides(old_path, new_path, at, vs)
    records = None
    if claims is not None:
        records = read_records(claims)
    return build_report(old, new, records, pathlib.Path(claims).name if claims else "")


def read_records(path: str | pathlib.Path) -> list[Record]:
    """(line number, raw line) of each non-blank line: decoding is per claim."""
    lines = pathlib.Path(path).read_bytes().split(b"\n")
    return [(number, raw.rstrip(b"\r")) for number, raw in enumerate(lines, 1) if raw.strip()]
