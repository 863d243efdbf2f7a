"""The settlement book's invariant (issue 22 §4), as a property.

For one person (two calendar years, so two person-years) under Benxi 2023:
claims arrive in any order over any number of runs of `yibao settle`, with
withdrawals and corrections (including a withdrawn claim reinstated by a
correction) interleaved, in transactions of any size.  Then:

- each claim's net per line in the book (its settlement plus every
  adjustment, read from the chain's records) equals what one run of `eval`
  over the final set of claims pays it, to the fen, that run's input listing
  the claims in their order of first arrival (the tie-break of date order,
  docs/specification.md §6.1); a withdrawn claim's net is zero;
- after every run, no line's net paid in a year exceeds its cap: Benxi §(五)
  基本救助 2万 for every identity, 倾斜救助 2万 for 因病致贫重病患者 (no cap for
  the others drawn here).

And the fast path (the ledger table, claims settled on top of a recorded
ledger: docs/book.md) writes, for any such history, the same records byte for
byte as reading every person-year whole and settling it again; and a run whose
worker (audit/work_ahead.py) prepares the claims it can, over days of three
people's claims with late ones, withdrawals, corrections and repeats, writes the
same records as the run without it.

CI runs the ``ci`` profile (derandomized, 25 examples); explore further with

    HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest tests/robustness/test_book_properties.py
"""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from helpers import POLICIES
from robustness.profiles import ROBUSTNESS
from yibao.api import load_engine
from yibao.audit.settle import BookSettler
from yibao.audit.sqlite_store import SQLiteStore

ENGINE = load_engine(POLICIES / "benxi-2023.policy")
BASIC, TILTED = "基本救助", "倾斜救助"
CAP = Decimal("20000.00")
IDENTITIES = ["低保对象", "低保边缘家庭成员", "因病致贫重病患者"]


@st.composite
def claim_texts(draw, claim_id: str, identity: str, year: int) -> dict:
    in_scope = draw(st.integers(1_000, 60_000))
    basic = draw(st.integers(0, in_scope // 2))
    serious = draw(st.integers(0, (in_scope - basic) // 3))
    return {
        "claim_id": claim_id, "person_id": "p-1",
        # Few distinct days, so that claims often share a date (ties go by arrival).
        "date": f"{year}-{draw(st.sampled_from(['02', '05', '09']))}-"
                f"{draw(st.sampled_from(['03', '17']))}",
        "identities": [identity], "scheme": "居民医保",
        "visit": draw(st.sampled_from(["住院", "住院", "门诊慢特病", "普通门诊"])),
        "total_cost": f"{in_scope + 1}.00", "in_scope_cost": f"{in_scope}.{draw(st.integers(0, 99)):02d}",
        "paid": {"基本医保": f"{basic}.00", "大病保险": f"{serious}.00"},
    }


@st.composite
def histories(draw):
    """(identity, runs: each a list of event lines, commit sizes, final claims in arrival order)."""
    identity = draw(st.sampled_from(IDENTITIES))
    count = draw(st.integers(1, 6))
    years = {f"c{n}": draw(st.sampled_from([2023, 2023, 2024])) for n in range(count)}
    order = draw(st.permutations(list(years)))
    current: dict[str, dict] = {}
    live: dict[str, bool] = {}
    arrival: list[str] = []
    events: list[dict] = []
    for claim_id in order:
        text = draw(claim_texts(claim_id, identity, years[claim_id]))
        events.append(text)
        current[claim_id], live[claim_id] = text, True
        arrival.append(claim_id)
        # After each arrival, maybe a withdrawal or a correction of a claim already sent.
        action = draw(st.sampled_from(["none", "none", "withdraw", "correct"]))
        target = draw(st.sampled_from(arrival))
        if action == "withdraw" and live[target]:
            events.append({"claim_id": target, "withdraw": True})
            live[target] = False
        elif action == "correct":
            corrected = draw(claim_texts(target, identity, years[target]))
            events.append({**corrected, "correction": True})
            current[target], live[target] = corrected, True
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(events) - 1)), max_size=3)))
    runs = [events[a:b] for a, b in zip([0, *cuts], [*cuts, len(events)]) if events[a:b]]
    commit_every = draw(st.integers(1, 4))
    final = [current[c] for c in arrival if live[c]]
    return identity, runs, commit_every, final, list(current)


def book_nets(store) -> dict[tuple[str, str], Decimal]:
    nets: dict[tuple[str, str], Decimal] = {}
    for record in store.records():
        body = record.data
        if body["kind"] == "settlement":
            for line, amount in body["payable"].items():
                key = (body["claim_id"], line)
                nets[key] = nets.get(key, Decimal(0)) + Decimal(amount)
        elif body["kind"] == "adjustment":
            key = (body["claim_id"], body["line"])
            nets[key] = nets.get(key, Decimal(0)) + Decimal(body["delta"])
    return nets


def year_of(store) -> dict[str, int]:
    return {r.claim_id: r.data["year"] for r in store.records()}


@ROBUSTNESS
@given(histories())
def test_any_arrival_over_any_runs_nets_to_one_run_of_the_final_claims(history):
    identity, runs, commit_every, final, every_id = history
    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStore(f"{folder}/book.db", create=True)
        try:
            for run in runs:
                settler = BookSettler(store, ENGINE)
                lines = [(n, json.dumps(e, ensure_ascii=False)) for n, e in enumerate(run, 1)]
                for report in settler.run(lines, commit_every):
                    assert all(entry["kind"] != "error" for entry in report), report
                # After every run: no line's net in a year above its cap.
                nets, years = book_nets(store), year_of(store)
                for year in set(years.values()):
                    paid = {line: sum((v for (c, name), v in nets.items()
                                       if name == line and years[c] == year), Decimal(0))
                            for line in (BASIC, TILTED)}
                    assert paid[BASIC] <= CAP
                    if identity == "因病致贫重病患者":
                        assert paid[TILTED] <= CAP
            one_run = ENGINE.evaluate_records(
                [(n, claim) for n, claim in enumerate(final, 1)])
            expected = {(o.claim_id, line): amount for o in one_run
                        for line, amount in o.payouts if line in (BASIC, TILTED)}
            nets = book_nets(store)
            for claim_id in every_id:
                for line in (BASIC, TILTED):
                    assert nets.get((claim_id, line), Decimal(0)) == \
                        expected.get((claim_id, line), Decimal(0)), (claim_id, line)
        finally:
            store.close()


def settle_runs(path: str, runs, commit_every: int, reading: bool = False) -> list[tuple]:
    """``reading``: each run's worker forked before the run opens the book, reading the
    book itself (settle.reading_worker, as ``yibao settle`` does)."""
    from yibao.audit.settle import reading_worker

    SQLiteStore(path, create=True).close()
    for run in runs:
        worker = reading_worker(ENGINE, path) if reading else None
        with SQLiteStore(path) as store:
            settler = BookSettler(store, ENGINE, clock=lambda: "2024-12-31T00:00:00+00:00",
                                  worker=worker)
            lines = [(n, json.dumps(e, ensure_ascii=False)) for n, e in enumerate(run, 1)]
            for _ in settler.run(lines, commit_every):
                pass
    with SQLiteStore(path) as store:
        return [(r.seq, r.hash, r.body) for r in store.records()]


@ROBUSTNESS
@given(histories())
def test_the_fast_path_writes_what_settling_every_person_year_again_writes(history):
    # The ledger table and settling on top of a recorded ledger (docs/book.md) against
    # reading every person-year whole and settling it again: the same records, byte for
    # byte, time frozen (tests/audit/test_book_fast_path.py does it for the seed policies).
    from unittest import mock

    from yibao.audit import settle

    _, runs, commit_every, _, _ = history
    with tempfile.TemporaryDirectory() as folder:
        fast = settle_runs(f"{folder}/fast.db", runs, commit_every)
        with mock.patch.object(settle._Session, "_tails", lambda *_: {}), \
                mock.patch.object(settle._Session, "_after_every_booked_claim",
                                  lambda *_: False):
            whole = settle_runs(f"{folder}/whole.db", runs, commit_every)
    assert fast == whole


@st.composite
def daily_runs(draw):
    """(runs, commit size): days of claims of three people, each day's dated after the day
    before's (on top of their ledgers: the worker's), with late claims, withdrawals and
    corrections now and then, and repeats of a line."""
    identity = draw(st.sampled_from(IDENTITIES))
    runs, sent, number = [], [], 0
    for day in range(draw(st.integers(2, 4))):
        run = []
        for _ in range(draw(st.integers(1, 8))):
            person = draw(st.integers(1, 3))
            event = draw(st.sampled_from(["new", "new", "new", "late", "withdraw", "correct",
                                          "repeat"]))
            if event in ("withdraw", "correct", "repeat") and sent:
                target = draw(st.sampled_from(sent))
                if event == "withdraw":
                    run.append({"claim_id": target["claim_id"], "withdraw": True})
                elif event == "correct":
                    run.append({**target, "in_scope_cost": "30000.00", "correction": True})
                else:
                    run.append(target)
                continue
            number += 1
            text = draw(claim_texts(f"c{number}", identity, 2023))
            month = draw(st.integers(1, 2)) if event == "late" else 3 + 2 * day
            text = {**text, "person_id": f"p-{person}", "date": f"2023-{month:02d}-{text['date'][-2:]}"}
            run.append(text)
            sent.append(text)
        runs.append(run)
    return runs, draw(st.integers(1, 4))


@ROBUSTNESS
@given(daily_runs(), st.integers(0, 2), st.booleans(), st.integers(1, 3))
def test_the_run_s_worker_writes_what_the_serial_run_writes(history, keep, reading, part):
    # The run's worker (audit/work_ahead.py) taking every transaction it can (its
    # threshold lowered to one line), the settling process keeping ``keep`` claims of
    # each, against no worker: the same records, byte for byte, time frozen.  The
    # worker forked before the book is opened, reading it itself, or (``reading``
    # False) forked by the first transaction and sent what it needs.  Requests sent in
    # parts of ``part`` claims (settle._PART), each reply read as its first
    # person-year is reached.
    from unittest import mock

    from yibao.audit import settle

    runs, commit_every = history
    with tempfile.TemporaryDirectory() as folder:
        with mock.patch.object(settle, "WORKER_FROM", 10**9):
            serial = settle_runs(f"{folder}/serial.db", runs, commit_every)
        with mock.patch.object(settle, "WORKER_FROM", 1), \
                mock.patch.object(settle, "_OWN_SHARE", 0), \
                mock.patch.object(settle.BookSettler, "keep", keep), \
                mock.patch.object(settle, "_PART", part), \
                mock.patch.object(settle.BookSettler, "_balance", lambda *_: None):
            with_worker = settle_runs(f"{folder}/worker.db", runs, commit_every, reading)
    assert with_worker == serial
