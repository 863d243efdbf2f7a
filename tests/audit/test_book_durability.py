"""kill -9 during `yibao settle --book`, again and again, then resume: nothing lost, nothing twice.

The book's counterpart of test_durability.py.  An input of 600 Benxi claims
of 120 people in random date order (so many arrive after later-dated claims
of the same person), with withdrawals and corrections (some reinstating a
withdrawn claim) interleaved, is settled with ``--resume`` in transactions
of 20 lines; each run is killed with SIGKILL at a random point until one
completes.  After every kill the book verifies and holds every entry the
killed run had reported.  At the end every claim was settled exactly once
(one settlement entry), every withdrawal and correction was applied exactly
once, and each claim's net per line equals one run of `eval` over the final
claims: the book is as of its last commit after each kill, and resuming
continued it.
"""

from __future__ import annotations

import json
import os
import random
import signal
from collections import Counter
from decimal import Decimal

import pytest

from helpers import POLICIES
from killed_run import KilledRun
from yibao.audit.sqlite_store import SQLiteStore
from yibao.audit.verify import verify_store

POLICY = str(POLICIES / "benxi-2023.policy")
CLAIMS, PEOPLE, CHANGES, KILLS, EVERY = 600, 120, 80, 4, 20
IDENTITIES = ["特困人员", "低保对象", "低保边缘家庭成员", "因病致贫重病患者", "返贫致贫人口"]
LINES = ("基本救助", "倾斜救助")


def claim(rng: random.Random, claim_id: str, person: str) -> dict:
    in_scope = rng.randrange(1_000, 80_000)
    basic = rng.randrange(0, in_scope // 2)
    serious = rng.randrange(0, (in_scope - basic) // 3)
    return {"claim_id": claim_id, "person_id": person,
            "date": f"2023-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
            "identities": [rng.choice(IDENTITIES)], "scheme": "居民医保",
            "visit": rng.choice(["住院", "住院", "门诊慢特病", "普通门诊"]),
            "total_cost": f"{in_scope + 100}.00", "in_scope_cost": f"{in_scope}.00",
            "paid": {"基本医保": f"{basic}.00", "大病保险": f"{serious}.00"}}


def generated_events(rng: random.Random):
    """(event lines, final claims in order of first arrival, withdrawals, corrections)."""
    events, arrival, current, live = [], [], {}, {}
    withdrawals, corrections = Counter(), Counter()
    for number in range(CLAIMS):
        claim_id = f"k-{number:04d}"
        text = claim(rng, claim_id, f"p-{rng.randrange(PEOPLE):03d}")
        events.append(text)
        arrival.append(claim_id)
        current[claim_id], live[claim_id] = text, True
        if rng.random() < CHANGES / CLAIMS:
            target = rng.choice(arrival)
            if live[target] and rng.random() < 0.5:
                events.append({"claim_id": target, "withdraw": True})
                live[target] = False
                withdrawals[target] += 1
            else:   # a correction (of a withdrawn claim: reinstating it), same person
                fresh = claim(rng, target, current[target]["person_id"])
                events.append({**fresh, "correction": True})
                current[target], live[target] = fresh, True
                corrections[target] += 1
    final = [current[c] for c in arrival if live[c]]
    return [json.dumps(e, ensure_ascii=False) for e in events], final, withdrawals, corrections


def start_run(claims: str, book: str, every: int = EVERY) -> KilledRun:
    """One `yibao settle --book --resume` process, its output read as it comes."""
    return KilledRun(["settle", POLICY, claims, "--book", book, "--resume",
                      "--commit-every", str(every)], "yibao: booked #", timeout=300)


def book_bodies(path: str) -> list[dict]:
    if not os.path.exists(path):
        return []
    try:
        with SQLiteStore(path) as store:
            assert verify_store(store).ok
            return [record.data | {"seq": record.seq} for record in store.records()]
    except Exception as error:      # killed before the schema's transaction committed
        if "no meta table" in str(error) or "no audit store" in str(error):
            return []
        raise


# Transactions of 20 lines (many commits a run, no worker), or of 400: the run's worker
# (audit/work_ahead.py) forked before the book is opened and sent the first
# transaction's plain claims, which it reads the book for on a connection of its own
# (their person-years are new in the first run, and declined); the run killed with it
# running, which must neither hang (it sees its requests end and exits) nor change
# what the book holds.
@pytest.mark.parametrize("every, commits", [(EVERY, 6), (400, 2)])
def test_kill_9_at_random_points_then_resume_settles_each_event_once(
        tmp_path, benxi_engine, every, commits):
    rng = random.Random(20231231)
    lines, final, withdrawals, corrections = generated_events(rng)
    claims, book = tmp_path / "events.jsonl", str(tmp_path / "book.db")
    claims.write_text("\n".join(lines) + "\n", encoding="utf-8")
    kills_mid_run, code = 0, None
    for attempt in range(KILLS + 1):
        before = len(book_bodies(book))
        run = start_run(str(claims), book, every)
        if attempt < KILLS:
            if rng.random() < 0.3:
                run.kill_after(0, rng.uniform(0.5, 2.5))
            else:
                run.kill_after(rng.randrange(1, commits), rng.uniform(0, 0.02))
        code = run.wait()
        if code != -signal.SIGKILL:
            break
        bodies = book_bodies(book)
        stored = {body["seq"] for body in bodies}
        reported = {json.loads(line).get("seq") for line in run.out} - {None}
        assert reported <= stored, "reported but not in the book"
        kills_mid_run += len(bodies) > before
    assert code == 0, "".join(run.err[-10:])
    assert kills_mid_run >= 2, "the kills did not strike mid-run"

    bodies = book_bodies(book)
    kinds = Counter((body["kind"], body["claim_id"]) for body in bodies)
    assert {c for (kind, c), n in kinds.items() if kind == "settlement" and n != 1} == set()
    assert len({c for kind, c in kinds if kind == "settlement"}) == CLAIMS
    assert {c: n for (kind, c), n in kinds.items() if kind == "withdrawal"} == dict(withdrawals)
    assert {c: n for (kind, c), n in kinds.items() if kind == "correction"} == dict(corrections)

    nets: dict[tuple[str, str], Decimal] = {}
    for body in bodies:
        if body["kind"] == "settlement":
            for line in LINES:
                nets[body["claim_id"], line] = Decimal(body["payable"][line])
        elif body["kind"] == "adjustment":
            nets[body["claim_id"], body["line"]] += Decimal(body["delta"])
    one_run = benxi_engine.evaluate_records(enumerate(final, 1))
    expected = {(o.claim_id, line): o.payout(line) for o in one_run for line in LINES}
    assert {key: value for key, value in nets.items() if value or key in expected} == expected
