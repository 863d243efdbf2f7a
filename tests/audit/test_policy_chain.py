"""A policy that extends another: every version's text stored, the chain rebuilt from the store.

Jiamusi (policies/notices/jiamusi-2021.txt §二.1): jiamusi-2022 extends jiamusi-2021.
2021: 大病保险 deductible 1.2万, 60%; a base of 50,000 − 20,000 = 30,000 pays
(30,000 − 12,000) × 60% = 10,800.  From 2022-01-01 the bands (deductible
inherited): a base of 60,000 − 20,000 = 40,000 is 28,000 above it, paying
20,000 × 65% + 8,000 × 70% = 18,600.
"""

from __future__ import annotations

import hashlib

import pytest

from helpers import POLICIES, claim
from yibao.api import load_engine, load_policy
from yibao.audit.policies import PolicyRef, load_stored_policy, policy_chain
from yibao.audit.replay import replay_store
from yibao.audit.restore import recorded_settlement
from yibao.audit.verify import verify_store


@pytest.fixture
def jiamusi_store(store, record, as_lines):
    engine = load_engine(POLICIES / "jiamusi-2022.policy")
    record(store, engine, as_lines([
        claim("y21", "p", "2021-05-01", [], "50000.00", {"基本医保": "20000.00"}),
        claim("y22", "p", "2022-05-01", [], "60000.00", {"基本医保": "20000.00"}),
    ]))
    return store


def sha(name: str) -> str:
    return hashlib.sha256((POLICIES / name).read_bytes()).hexdigest()


def test_each_record_names_every_version_of_the_chain_and_the_one_applied(jiamusi_store):
    y21, y22 = (r.data for r in jiamusi_store.records())
    chain = [(ref["policy_id"], ref["sha256"]) for ref in y21["policies"]]
    assert chain == [("jiamusi-2021", sha("jiamusi-2021.policy")),
                     ("jiamusi-2022", sha("jiamusi-2022.policy"))]
    assert (y21["policy_id"], y21["policy_sha256"]) == ("jiamusi-2021", sha("jiamusi-2021.policy"))
    assert (y22["policy_id"], y22["policy_sha256"]) == ("jiamusi-2022", sha("jiamusi-2022.policy"))
    assert [y21["outcome"]["payouts"]["大病保险"], y22["outcome"]["payouts"]["大病保险"]] == [
        "10800.00", "18600.00"]
    assert sorted(s for s, _ in jiamusi_store.sources()) == sorted(s for _, s in chain)


def test_the_chain_is_rebuilt_from_stored_texts_alone(jiamusi_store):
    refs = [PolicyRef.from_json(ref) for ref in next(jiamusi_store.records()).data["policies"]]
    loaded = load_stored_policy(refs, jiamusi_store.source)
    first, second = loaded.versions
    assert (first.policy_id, second.policy_id, second.extends) == (
        "jiamusi-2021", "jiamusi-2022", "jiamusi-2021")
    assert [p.source_sha256 for p in loaded.versions] == [ref.sha256 for ref in refs]


def test_replay_and_show_use_the_stored_chain(jiamusi_store):
    assert verify_store(jiamusi_store).ok
    assert replay_store(jiamusi_store).ok
    shown = recorded_settlement(jiamusi_store, list(jiamusi_store.records())[1].data)
    assert shown.policy.policy_id == "jiamusi-2022"
    assert str(shown.result.payout("大病保险")) == "18600.00"


def test_an_amendment_stored_without_its_base_still_lacks_it():
    # Lhasa 2020 amends xizang-2019, which is not among the policies: as the loader does.
    loaded = load_policy(POLICIES / "lhasa-2020.policy")
    refs, texts = policy_chain(loaded)
    stored = load_stored_policy(refs, texts.get)
    assert (stored.missing_base, loaded.missing_base) == ("xizang-2019", "xizang-2019")
