"""The synthetic claims generator: deterministic by seed, valid, shaped like real claims."""

from __future__ import annotations

from collections import Counter

from yibao.api import evaluate_claims
from yibao.backends.synthetic import corrupt, synthetic_claims


def test_a_seed_gives_the_same_claims_every_time(benxi_engine):
    first = list(synthetic_claims(benxi_engine.loaded, 500, seed=4))
    assert list(synthetic_claims(benxi_engine.loaded, 500, seed=4)) == first
    assert list(synthetic_claims(benxi_engine.loaded, 500, seed=5)) != first


def test_claims_are_in_date_order_and_valid(benxi_engine):
    """Date order (Engine.stream_records needs it); every claim passes validation, and
    the only refusals are the C311 claims the notice cannot settle (§(五) per bed day)."""
    claims = list(synthetic_claims(benxi_engine.loaded, 2000, seed=1))
    assert [c["date"] for c in claims] == sorted(c["date"] for c in claims)
    outcomes = evaluate_claims(benxi_engine, claims)
    codes = Counter(getattr(o, "code", "ok") for o in outcomes)
    assert set(codes) == {"ok", "C311"} and codes["C311"] < 100


def test_the_identity_mix_is_realistic(benxi_engine):
    """No identity, one, two, and a change during the year, all present; several claims
    per person; visits the assistance lines do not cover (普通门诊, 高值药品)."""
    claims = list(synthetic_claims(benxi_engine.loaded, 5000, seed=2))
    sizes = Counter(len(c["identities"]) for c in claims)
    assert sizes[0] > 1000 and sizes[1] > 1000 and sizes[2] > 100
    by_person = Counter(c["person_id"] for c in claims)
    assert max(by_person.values()) >= 10 and len(claims) / len(by_person) > 2
    visits = Counter(c["visit"] for c in claims)
    assert visits["普通门诊"] > 300 and visits["高值药品"] > 200


def test_corruption_spoils_the_share_asked_for(benxi_engine):
    claims = list(synthetic_claims(benxi_engine.loaded, 1000, seed=3))
    spoilt = corrupt(claims, 0.1, seed=3)
    changed = sum(1 for a, b in zip(claims, spoilt) if a != b)
    assert 50 < changed < 150 and len(spoilt) == len(claims)
