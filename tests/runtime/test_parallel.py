"""Several processes settle a file to the very text one process writes (``--jobs N``).

runtime/parallel.py sends each person to one worker and decides repeated ids
(C312) itself, in input order.  Every line's text must equal what
``outcome_line`` writes for ``Engine.stream_records`` / ``evaluate_records``
in one process, on synthetic Benxi claims with what makes the split hard
mixed in: ids repeated across people (so across workers), an invalid claim
whose id a later valid claim reuses (that one is settled: only admitted ids
count), a person id spelled with escapes on some of that person's lines, a
claim out of date order (C315 when streamed), and lines that are not claims.
"""

from __future__ import annotations

import datetime
import json
import multiprocessing
import random
import time

import pytest

from helpers import EXAMPLES, POLICIES
from yibao.api import load_engine
from yibao.backends.synthetic import synthetic_claims
from yibao.cli.main import main
from yibao.runtime.claims import ClaimError
from yibao.runtime.parallel import _Held, route, settle_in_processes
from yibao.runtime.results import outcome_line

BENXI = POLICIES / "benxi-2023.policy"


def _escaped(text: str) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in text)


def _hard_lines(engine, count: int, seed: int) -> list[tuple[int, bytes]]:
    claims = list(synthetic_claims(engine.loaded, count, seed=seed))
    rng = random.Random(seed)
    texts = [json.dumps(c, ensure_ascii=False) for c in claims]
    people: dict[str, list[int]] = {}
    for i, c in enumerate(claims):
        people.setdefault(c["person_id"], []).append(i)
    # ids repeated across people, near and far
    for _ in range(40):
        later = rng.randrange(100, count)
        earlier = rng.randrange(0, later)
        texts[later] = json.dumps({**claims[later], "claim_id": claims[earlier]["claim_id"]},
                                  ensure_ascii=False)
    # an invalid first copy: its id is taken by the valid claim after it
    texts[50] = json.dumps({**claims[50], "claim_id": "reused", "total_cost": "-1"},
                           ensure_ascii=False)
    texts[60] = json.dumps({**claims[60], "claim_id": "reused"}, ensure_ascii=False)
    # one frequent person's id written with escapes on every other line of theirs
    frequent = max(people.values(), key=len)
    person = claims[frequent[0]]["person_id"]
    for i in frequent[::2]:
        texts[i] = texts[i].replace(f'"person_id": "{person}"',
                                    f'"person_id": "{_escaped(person)}"')
    # a claim dated before that person's previous one (C315 when streamed)
    last = frequent[-1]
    texts[last] = json.dumps({**claims[last], "date": claims[frequent[0]]["date"]},
                             ensure_ascii=False)
    texts[70] = "{not json"
    texts[71] = "[1, 2]"
    texts[72] = json.dumps({**claims[72], "person_id": 7}, ensure_ascii=False)
    return [(n, t.encode("utf-8")) for n, t in enumerate(texts, 1)]


@pytest.fixture(scope="module")
def engine():
    return load_engine(BENXI)


@pytest.fixture(scope="module")
def lines(engine):
    return _hard_lines(engine, 4_000, seed=17)


def _one_process(engine, lines, trace: bool, stream: bool) -> list[str]:
    settle = engine.stream_records if stream else engine.evaluate_records
    return [outcome_line(o, trace) for o in settle(lines, trace)]


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "sorted"])
@pytest.mark.parametrize("jobs", [2, 3])
def test_the_same_lines_as_one_process(engine, lines, stream, jobs):
    expected = _one_process(engine, lines, False, stream)
    got = list(settle_in_processes(engine, lines, jobs, stream=stream, chunk=97))
    assert [text for text, _ in got] == expected
    codes = [json.loads(text).get("error") for text in expected]
    assert codes.count("C312") >= 34   # 40 copies, a few overwritten by the cases below
    assert "C315" in codes if stream else "C315" not in codes
    first, second = json.loads(expected[50]), json.loads(expected[60])
    assert (first["claim_id"], second["claim_id"]) == ("reused", "reused")
    assert "error" in first and "payouts" in second
    # the errors come with their lines, for the summary on stderr
    assert [error.code for _, error in got if error is not None] == [
        c for c in codes if c is not None]
    assert all(isinstance(e, ClaimError) for _, e in got if e is not None)


@pytest.mark.parametrize("jobs", [2, 3])
def test_a_sorted_batch_spilled_to_disk_writes_the_same_lines(engine, lines, jobs):
    """Past ``hold`` admitted claims a worker sorts them into runs on disk and merges the
    runs when it settles (issue 21: the whole batch in memory, 6.6 GB at 10^6 claims).
    4,000 lines over 2 or 3 workers with hold=150: a dozen or more runs each, read back
    in (date, input) order, to the same text; their lines go back 97 at a time."""
    expected = _one_process(engine, lines, False, stream=False)
    got = list(settle_in_processes(engine, lines, jobs, stream=False, chunk=97, hold=150))
    assert [text for text, _ in got] == expected
    assert [error.code for _, error in got if error is not None] == [
        json.loads(text)["error"] for text in expected if '"error"' in text]


def test_held_claims_come_back_in_date_then_input_order():
    held = _Held(limit=7)
    items = [(datetime.date(2023, 1 + (n * 5) % 12, 1), n, f"claim {n}", n + 1)
             for n in range(100)]
    for item in items:
        held.add(item)
    assert len(held.runs) == 14 and len(held.memory) == 2
    assert list(held.in_order()) == sorted(items, key=lambda item: item[:2])
    held.close()


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "sorted"])
def test_traces_too(engine, lines, stream):
    some = lines[:600]
    expected = _one_process(engine, some, True, stream)
    assert [text for text, _ in settle_in_processes(engine, some, 2, True, stream, chunk=64)
            ] == expected
    assert [text for text, _ in settle_in_processes(engine, some, 2, True, stream, chunk=64,
                                                    hold=50)] == expected


def test_a_person_goes_to_one_worker_however_the_id_is_spelled():
    plain = '{"claim_id": "a", "person_id": "张三-01", "date": "2023-01-01"}'.encode()
    escaped = ('{"claim_id": "b", "date": "2023-01-02", "person_id" : "'
               + _escaped("张三-01") + '"}').encode()
    for jobs in (2, 3, 5, 8):
        assert route(plain, jobs) == route(escaped, jobs)
        assert route(plain, jobs) == route(b"\xef\xbb\xbf" + escaped, jobs, 1)   # a BOM
    assert route(b"{not json", 4) == 0 and route(b'{"person_id": 7}', 4) == 0


def test_a_failing_worker_is_reported_not_waited_for(engine, lines, monkeypatch):
    def broken(*args):
        raise ZeroDivisionError("a bug in settlement")

    monkeypatch.setattr(engine, "settle_next", broken)   # the forked workers inherit it
    with pytest.raises(RuntimeError, match="ZeroDivisionError: a bug in settlement"):
        list(settle_in_processes(engine, lines[:300], 2, stream=True, chunk=50))


def test_a_reader_that_stops_early_stops_the_workers(engine, lines):
    """Closing the lines half way must not wait on workers in the middle of a reply."""
    more = _hard_lines(engine, 12_000, seed=5)
    # traced lines: a chunk's reply is megabytes, more than a pipe holds
    settled = settle_in_processes(engine, more, 2, trace=True, stream=True, chunk=2_000)
    for _ in range(10):   # the first chunk; the workers are busy with the next ones
        next(settled)
    start = time.perf_counter()
    settled.close()
    assert time.perf_counter() - start < 3
    assert multiprocessing.active_children() == []


def test_the_command_writes_what_one_process_writes(tmp_path, capsys):
    claims = str(EXAMPLES / "benxi-2023.jsonl")
    runs = {}
    for options in ((), ("--jobs", "2"), ("--stream", "--jobs", "3")):
        status = main(["eval", str(BENXI), claims, *options])
        runs[options] = (status, *capsys.readouterr())
    assert runs[()][0] == 1   # the example's deliberate C307 claim
    assert runs[("--jobs", "2")] == runs[()]
    assert runs[("--stream", "--jobs", "3")][:2] == runs[()][:2]
    assert main(["eval", str(BENXI), claims, "--jobs", "2", "--progress"]) == 1
    out, err = capsys.readouterr()
    assert out == runs[()][1] and "yibao scalar: claims" in err
    assert main(["eval", str(BENXI), claims, "--jobs", "2", "--format", "text"]) == 2
    assert "--jobs settles JSON Lines" in capsys.readouterr().err
    assert main(["eval", str(BENXI), claims, "--jobs", "256"]) == 2
    assert "--jobs is at most 255" in capsys.readouterr().err
