"""The shipped corpus is exactly what scripts/make_corpus.py writes for its seed."""

from __future__ import annotations

import importlib.util
import json
from decimal import Decimal

from helpers import POLICIES, ROOT

CORPUS = POLICIES / "corpus" / "jiamusi-1000.jsonl"


def load_generator():
    spec = importlib.util.spec_from_file_location("make_corpus", ROOT / "scripts" / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shipped_corpus_is_regenerated_byte_for_byte():
    generator = load_generator()
    assert generator.corpus_text() == CORPUS.read_text(encoding="utf-8")


def test_the_seed_decides_the_corpus():
    generator = load_generator()
    assert generator.corpus_text(seed=1, count=50) == generator.corpus_text(seed=1, count=50)
    assert generator.corpus_text(seed=1, count=50) != generator.corpus_text(seed=2, count=50)


def test_claims_are_valid_exchange_records():
    """docs/claims.md: money as two-decimal strings, in-scope ≤ total, 基本医保 ≤ in-scope."""
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        claim = json.loads(line)
        amounts = [claim["total_cost"], claim["in_scope_cost"], claim["paid"]["基本医保"]]
        total, in_scope, basic = (Decimal(a) for a in amounts)
        assert all(Decimal(a).as_tuple().exponent == -2 for a in amounts)
        assert 0 < in_scope <= total and basic <= in_scope
