"""`yibao audit repage`: a book made with SQLite's 4 kB pages rewritten in 16 kB ones
(issue 22 §9: a COMMIT of a daily run writes and checkpoints half as much log with
them), in place or into a new file, verified before and after; a book that does not
verify is left alone.

tests/audit/fixtures/book-v3.db has 4 kB pages (21 records of Benxi's example claims,
tests/audit/test_old_formats.py).
"""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from helpers import EXAMPLES
from yibao.audit.sqlite_store import page_size_of, pragma_of
from yibao.cli.main import EXIT_CLAIMS_FAILED, EXIT_OK, EXIT_USAGE, main

FIXTURE = EXAMPLES.parent.parent / "tests" / "audit" / "fixtures" / "book-v3.db"


@pytest.fixture
def book(tmp_path):
    path = tmp_path / "book.db"
    shutil.copy(FIXTURE, path)
    return str(path)


def rows(path: str) -> list[tuple]:
    """Every table's rows, in key order: what the rewrite must keep byte for byte."""
    db = sqlite3.connect(path)
    try:
        tables = [name for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return [(table, db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall())
                for table in tables]
    finally:
        db.close()


def test_a_book_is_rewritten_in_16_kb_pages_in_place(book, capsys):
    kept = rows(book)
    assert page_size_of(book) == 4096
    assert main(["audit", "repage", book]) == EXIT_OK
    out = capsys.readouterr().out
    assert "in pages of 16384 bytes (were 4096); 21 record(s) verify; head #21" in out
    assert page_size_of(book) == 16384 and pragma_of(book, "journal_mode") == "wal"
    assert rows(book) == kept
    assert main(["audit", "verify", book]) == EXIT_OK


def test_into_a_new_file_the_book_is_left_as_it_is(book, tmp_path, capsys):
    kept = rows(book)
    new = str(tmp_path / "book-16k.db")
    assert main(["audit", "repage", book, "-o", new]) == EXIT_OK
    assert page_size_of(new) == 16384 and rows(new) == kept
    assert page_size_of(book) == 4096 and rows(book) == kept
    # And the rewritten book takes new entries: bx-0009 of p-01 on top of its year.
    claim = {**json.loads((EXAMPLES / "benxi-2023.jsonl").read_text(
        encoding="utf-8").splitlines()[0]), "claim_id": "bx-0009", "date": "2023-12-01"}
    claims = tmp_path / "claims.jsonl"
    claims.write_text(json.dumps(claim, ensure_ascii=False) + "\n", encoding="utf-8")
    chain = tmp_path / "chain"
    chain.mkdir()
    db = sqlite3.connect(new)
    for (text,) in db.execute("SELECT text FROM sources"):
        name = text.split()[1] if text.startswith("policy ") else "benxi-2023"
        (chain / f"{name}.policy").write_text(text, encoding="utf-8")
    db.close()
    capsys.readouterr()
    assert main(["settle", str(chain / "benxi-2023-07.policy"), str(claims),
                 "--book", new]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["seq"] == 22
    assert main(["audit", "verify", new]) == EXIT_OK


def test_a_book_that_does_not_verify_is_not_rewritten(book, capsys):
    db = sqlite3.connect(book)
    db.execute("DROP TRIGGER records_no_UPDATE")
    db.execute("UPDATE records SET body = replace(body, '\"7800.00\"', '\"9800.00\"') "
               "WHERE seq = 2")
    db.commit()
    db.close()
    assert main(["audit", "repage", book]) == EXIT_CLAIMS_FAILED
    err = capsys.readouterr().err
    assert "A401" in err and "record #2" in err and "left as it is" in err
    assert page_size_of(book) == 4096


@pytest.mark.parametrize("arguments, expected", [
    (["-o", "{book}"], "A436"),                          # the new file's path is taken
    (["--page-size", "10000"], "A436"),                  # not a power of two
])
def test_refused_with_a_code(book, capsys, arguments, expected):
    given = [argument.format(book=book) for argument in arguments]
    assert main(["audit", "repage", book, *given]) == EXIT_USAGE
    assert expected in capsys.readouterr().err
    assert page_size_of(book) == 4096


def test_a_postgresql_store_is_refused(capsys):
    assert main(["audit", "repage", "postgresql://yibao@/none"]) == EXIT_USAGE
    assert "A436" in capsys.readouterr().err


def test_a_book_another_process_has_open_is_refused_not_waited_for(book, capsys):
    assert main(["audit", "verify", book]) == EXIT_OK      # now in WAL mode, as settle leaves it
    other = sqlite3.connect(book)
    other.execute("SELECT count(*) FROM records").fetchone()
    try:
        assert main(["audit", "repage", book]) == EXIT_USAGE
        assert "A437" in capsys.readouterr().err
    finally:
        other.close()
    assert page_size_of(book) == 4096
    assert main(["audit", "repage", book]) == EXIT_OK
