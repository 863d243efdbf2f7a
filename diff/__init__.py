"""Revision regression: what changes between two policies, and what it does to claims.

    >>> from yibao.diff import diff_files
    >>> report = diff_files("policies/jiamusi-2022.policy", at=date(2021, 12, 31),
    ...                     vs=date(2022, 1, 1), claims="policies/corpus/jiamusi-1000.jsonl")
    >>> report.summary.count("changed")
"""

from yibao.diff.report import DiffReport, build_report, diff_files, read_records
from yibao.diff.sides import NoVersionInForce, PinnedEngine, Side, load_sides, make_side

__all__ = ["DiffReport", "build_report", "diff_files", "read_records", "NoVersionInForce",
           "PinnedEngine", "Side", "load_sides", "make_side"]
