"""Fixtures for the auditors' desk (tests/desk_support.py): the bundled examples
settled into a book, as ``make desk`` does, and the desk over it.

Figures used across the desk's tests (Benxi 2023 §(五), 低保边缘家庭成员, the
bundled bx-0001..bx-0003 of p-01; docs/specification.md §6's worked example):
in-scope burdens after 基本医保 and 大病保险 of 35,000 − 17,000 − 3,000 =
15,000, then 10,000 and 20,000.  基本救助 (deductible 2,000, 60%, annual cap
20,000) pays (15,000 − 2,000) × 60% = 7,800, then 10,000 × 60% = 6,000, then
20,000 × 60% = 12,000 cut to what the cap leaves, 20,000 − 13,800 = 6,200:
running bases 15,000 / 25,000 / 45,000, running payouts 7,800 / 13,800 /
20,000, caps left 12,200 / 6,200 / 0.  倾斜救助 (deductible 3,000, 60%, no cap)
on what 基本救助 left (7,200; 4,000; 13,800) pays 2,520, 2,400 and 8,280.
"""

from __future__ import annotations

import pytest

from desk_support import make_client, settle_examples


@pytest.fixture(scope="session")
def demo_book(tmp_path_factory):
    book = tmp_path_factory.mktemp("desk") / "book.db"
    settle_examples(book)
    return book


@pytest.fixture(scope="session")
def client(demo_book):
    return make_client(demo_book)
