"""`yibao settle` walks the book's chain in a second process while it starts
(audit/verify_ahead.py), and still writes nothing into a book that does not verify.

The child is forked only from a process with one thread, which a test run is not
always (other tests leave threads behind): what needs the child runs in a fresh
interpreter, as the command does."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from helpers import EXAMPLES, POLICIES
from yibao.audit import verify_ahead
from yibao.audit.stores import open_store
from yibao.audit.verify import verify_store
from yibao.cli.main import EXIT_OK, EXIT_USAGE, main

POLICY = str(POLICIES / "benxi-2023.policy")
LINES = (EXAMPLES / "benxi-2023.jsonl").read_text(encoding="utf-8").splitlines()
TAMPER = "UPDATE records SET body = replace(body, '7800.00', '9800.00') WHERE seq = 2"


@pytest.fixture
def book(tmp_path, capsys):
    """A book holding bx-0001 (verified) and bx-0002 (appended since the verified head)."""
    path = str(tmp_path / "book.db")
    for index, line in enumerate(LINES[:2]):
        claims = tmp_path / f"day{index}.jsonl"
        claims.write_text(line + "\n", encoding="utf-8")
        assert main(["settle", POLICY, str(claims), "--book", path]) == EXIT_OK
    capsys.readouterr()
    return path


def _fresh(script: str, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script), *argv],
                          capture_output=True, text=True, timeout=300, check=False)


def _tables(path: str) -> dict[str, list]:
    db = sqlite3.connect(path)
    names = [name for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    found = {name: db.execute(f"SELECT * FROM {name}").fetchall() for name in names}
    db.close()
    return found


def test_the_report_is_the_childs(book):
    with open_store(book) as store:
        expected = verify_store(store, since=store.verified_head())
    assert expected.ok and expected.records == 2
    run = _fresh("""
        import sys
        from yibao.audit import verify, verify_ahead
        from yibao.audit.stores import open_store
        ahead = verify_ahead.VerificationAhead(sys.argv[1])
        assert ahead._child is not None
        # Started already: the walk in this process is not made again.
        def walked_here(*args, **kwargs):
            raise AssertionError("walked here")
        verify.verify_store = walked_here
        with open_store(sys.argv[1]) as store:
            report = ahead.report(store)
        print(report.records, report.head)
        """, book)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [str(expected.records), expected.head]


def test_a_child_that_dies_leaves_the_walk_to_the_parent(book, tamper):
    tamper(book, TAMPER)
    run = _fresh("""
        import os, sys
        from yibao.audit import verify_ahead
        from yibao.audit.stores import open_store
        verify_ahead._walk = lambda *args: os._exit(3)     # the child ends without a report
        ahead = verify_ahead.VerificationAhead(sys.argv[1])
        assert ahead._child is not None
        with open_store(sys.argv[1]) as store:
            report = ahead.report(store)
        print(report.problem.code, report.problem.seq)
        """, book)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["A401", "2"]


def test_a_record_tampered_since_the_verified_head_is_refused_with_nothing_written(
        book, tmp_path, tamper):
    with open_store(book) as store:
        assert store.verified_head()[0] == 1 and store.last_seq() == 2
    tamper(book, TAMPER)
    before = _tables(book)
    claims = tmp_path / "today.jsonl"
    claims.write_text(LINES[2] + "\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "yibao.cli.main", "settle", POLICY, str(claims),
                          "--book", book], capture_output=True, text=True, timeout=300,
                         check=False)
    assert run.returncode == EXIT_USAGE and run.stdout == ""
    assert f"A401 {book}: record #2 was altered" in run.stderr
    assert _tables(book) == before       # no batch, no record, no verified head: nothing


def test_a_process_with_threads_walks_itself(book, monkeypatch):
    monkeypatch.setattr(verify_ahead.threading, "active_count", lambda: 2)
    ahead = verify_ahead.VerificationAhead(book)
    assert ahead._child is None                # no fork beside another thread's locks
    with open_store(book) as store:
        assert ahead.report(store).records == 2


def test_an_untouched_book_is_marked_verified_and_settled(book, tmp_path, capsys):
    claims = tmp_path / "today.jsonl"
    claims.write_text(LINES[2] + "\n", encoding="utf-8")
    assert main(["settle", POLICY, str(claims), "--book", book]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["kind"] == "settlement"
    with open_store(book) as store:
        assert store.verified_head()[0] == 2 and store.last_seq() == 3


# In a fresh interpreter: the child walks only once the parent's first transaction is
# written (its records flushed into the open transaction), and says whether it waited
# for that; then `yibao settle` runs as the command does.
_LATE_WALK = """
    import os, sys, time
    from yibao.audit import sqlite_store, verify_ahead
    from yibao.cli.main import main
    policy, claims, book, written, seen = sys.argv[1:]
    walk, flush = verify_ahead._walk, sqlite_store._Tail.flush

    def late_walk(*args):
        for _ in range(1000):                 # 10 s at most: a parent that waits for the
            if os.path.exists(written):       # report before writing never writes
                open(seen, "w").close()
                break
            time.sleep(0.01)
        walk(*args)

    def flush_and_say(self):
        flush(self)
        open(written, "a").close()

    verify_ahead._walk, sqlite_store._Tail.flush = late_walk, flush_and_say
    sys.exit(main(["settle", policy, claims, "--book", book]))
    """


def _settle_with_late_walk(book, tmp_path):
    claims = tmp_path / "today.jsonl"
    claims.write_text(LINES[2] + "\n", encoding="utf-8")
    written, seen = tmp_path / "written", tmp_path / "seen"
    run = _fresh(_LATE_WALK, POLICY, str(claims), book, str(written), str(seen))
    return run, seen.exists()


def test_tampering_found_while_the_first_transaction_is_written_commits_nothing(
        book, tmp_path, tamper):
    tamper(book, TAMPER)
    before = _tables(book)
    run, walked_after_the_write = _settle_with_late_walk(book, tmp_path)
    assert walked_after_the_write         # the verdict came after bx-0003 was written…
    assert run.returncode == EXIT_USAGE and run.stdout == ""
    assert f"A401 {book}: record #2 was altered" in run.stderr
    assert _tables(book) == before        # …and it was rolled back: no batch, no record


def test_the_verdict_after_the_first_write_commits_it_with_the_head_verified(book, tmp_path):
    run, walked_after_the_write = _settle_with_late_walk(book, tmp_path)
    assert walked_after_the_write and run.returncode == EXIT_OK, run.stderr
    assert json.loads(run.stdout)["kind"] == "settlement"
    with open_store(book) as store:
        # the child's walk reached #2, the chain as committed; #3 is this run's own
        assert store.verified_head()[0] == 2 and store.last_seq() == 3


def test_a_child_that_dies_leaves_the_committed_chain_to_the_parent(book, tmp_path):
    claims = tmp_path / "today.jsonl"
    claims.write_text(LINES[2] + "\n", encoding="utf-8")
    run = _fresh("""
        import os, sys
        from yibao.audit import verify_ahead
        from yibao.cli.main import main
        verify_ahead._walk = lambda *args: os._exit(3)     # the child ends without a report
        sys.exit(main(["settle", *sys.argv[1:]]))
        """, POLICY, str(claims), "--book", book)
    assert run.returncode == EXIT_OK, run.stderr
    with open_store(book) as store:
        # Walked at the first COMMIT on a connection of its own: the chain up to #2, not
        # the run's own #3, which its transaction held uncommitted then.
        assert store.verified_head()[0] == 2 and store.last_seq() == 3


def test_a_run_with_nothing_to_settle_commits_its_batch_after_the_verdict(book, tmp_path):
    claims = tmp_path / "empty.jsonl"
    claims.write_text("", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "yibao.cli.main", "settle", POLICY, str(claims),
                          "--book", book], capture_output=True, text=True, timeout=300,
                         check=False)
    assert run.returncode == EXIT_OK, run.stderr
    with open_store(book) as store:
        assert store.verified_head()[0] == 2 and store.last_seq() == 2
        assert store.latest_batch().batch == 3


def test_a_refused_book_leaves_the_output_file_as_it_was(book, tmp_path, tamper):
    # The verdict now comes at the first COMMIT: the output is opened after it, not before.
    tamper(book, TAMPER)
    claims = tmp_path / "today.jsonl"
    claims.write_text(LINES[2] + "\n", encoding="utf-8")
    kept = tmp_path / "yesterday-report.jsonl"
    kept.write_text('{"kind": "settlement"}\n', encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "yibao.cli.main", "settle", POLICY, str(claims),
                          "--book", book, "-o", str(kept)], capture_output=True, text=True,
                         timeout=300, check=False)
    assert run.returncode == EXIT_USAGE and "A401" in run.stderr
    assert kept.read_text(encoding="utf-8") == '{"kind": "settlement"}\n'
