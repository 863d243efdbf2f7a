"""The claim ids a stream has seen (C312) stay exact when most of them are on disk.

``ClaimIds`` keeps the latest ``in_memory`` ids in a set and moves the rest to
a temporary SQLite file behind a Bloom filter (runtime/claim_ids.py).  The
answers must be exactly a plain set's, for ids repeated right away or long
after they moved, and whether the filter says "maybe" often or never.
"""

from __future__ import annotations

import os
import random

import pytest

from helpers import POLICIES
from yibao.api import load_engine, outcome_to_json
from yibao.backends.synthetic import synthetic_claims
from yibao.runtime import claim_ids
from yibao.runtime.claim_ids import ClaimIds


def _ids_with_repeats(count: int, seed: int) -> list[str]:
    """Fresh ids, with a repeat of an earlier one (near or far back) one time in five."""
    rng = random.Random(seed)
    ids: list[str] = []
    for n in range(count):
        if ids and rng.random() < 0.2:
            back = rng.choice([1, 2, rng.randrange(1, len(ids) + 1)])
            ids.append(ids[-min(back, len(ids))])
        else:
            ids.append(f"id-{n}-{rng.randrange(10 ** 6)}")
    return ids


@pytest.mark.parametrize("in_memory", [1, 7, 100, 10 ** 6])
def test_answers_are_a_plain_sets(tmp_path, in_memory):
    ids = _ids_with_repeats(3_000, seed=in_memory)
    reference: set[str] = set()
    with ClaimIds(in_memory, directory=str(tmp_path)) as seen:
        for claim_id in ids:
            assert seen.add(claim_id) is (claim_id not in reference), claim_id
            reference.add(claim_id)
            assert len(seen.recent) <= in_memory   # memory never holds more than the bound
        assert len(seen) == len(reference)
        if in_memory < 3_000:
            assert seen.moved > 0 and len(os.listdir(tmp_path)) == 1
            # the filter spares the file nearly every new id: only repeats and a few
            # false positives are looked up (repeats are ≈ 20% of the ids here)
            assert seen.disk_reads < 0.3 * len(ids)
    assert os.listdir(tmp_path) == []   # the file goes with the set


def test_the_file_decides_when_the_filter_always_says_maybe(tmp_path, monkeypatch):
    monkeypatch.setattr(ClaimIds, "_maybe_moved", lambda self, claim_id: True)
    ids = _ids_with_repeats(1_000, seed=5)
    reference: set[str] = set()
    looked_up = 0
    with ClaimIds(10, directory=str(tmp_path)) as seen:
        for claim_id in ids:
            # every id the set does not hold goes to the file, once there is one
            looked_up += seen.moved > 0 and claim_id not in seen.recent
            assert seen.add(claim_id) is (claim_id not in reference)
            reference.add(claim_id)
        assert seen.disk_reads == looked_up > 800


def test_a_moved_id_is_found_by_the_filter_and_the_file(tmp_path):
    with ClaimIds(2, directory=str(tmp_path)) as seen:
        assert seen.add("bx-1") and seen.add("bx-2") and seen.moved == 0
        assert seen.add("bx-3")                          # no room: bx-1 and bx-2 move
        assert seen.recent == {"bx-3"} and seen.moved == 2
        assert seen._maybe_moved("bx-1") and seen._maybe_moved("bx-2")
        assert not seen.add("bx-1") and not seen.add("bx-2") and not seen.add("bx-3")
        assert seen.disk_reads == 2 and len(seen) == 3


def test_a_bound_below_one_is_refused():
    with pytest.raises(ValueError):
        ClaimIds(0)


def test_a_stream_with_few_ids_in_memory_settles_as_with_all(tmp_path, monkeypatch):
    """Through Engine.stream_records: the same outcomes, C312 on the same later copies
    (copies placed right after, and thousands of claims after, the first), and the
    temporary file removed when the stream ends — or when its reader stops early."""
    monkeypatch.setattr(claim_ids.tempfile, "tempdir", str(tmp_path))
    engine = load_engine(POLICIES / "benxi-2023.policy")
    claims = list(synthetic_claims(engine.loaded, 4_000, seed=3))
    for position, source in ((10, 9), (2_500, 20), (3_990, 1_000)):
        claims[position] = {**claims[position], "claim_id": claims[source]["claim_id"]}
    records = list(enumerate(claims, 1))

    def outcomes(**bound):
        return [outcome_to_json(o, trace=False) for o in engine.stream_records(records, **bound)]

    everything = outcomes()
    bounded = outcomes(ids_in_memory=50)
    assert bounded == everything
    refused = [i for i, o in enumerate(bounded) if o.get("error") == "C312"]
    assert refused == [10, 2_500, 3_990]
    assert os.listdir(tmp_path) == []

    stream = engine.stream_records(records, ids_in_memory=50)
    for _ in range(500):
        next(stream)
    assert len(os.listdir(tmp_path)) == 1   # ids have moved to the file by now
    stream.close()
    assert os.listdir(tmp_path) == []
