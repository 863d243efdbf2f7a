"""`yibao serve`: what it refuses before starting, and the real command serving a book
on 127.0.0.1 (read-only unless a token is configured, from a file or the environment)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

from desk_support import TOKEN, free_port
from helpers import POLICIES, ROOT
from yibao.cli.main import build_parser, main


def test_the_desk_listens_on_this_machine_only_by_default():
    args = build_parser().parse_args(["serve", "--book", "b.db", "--policies", "p"])
    assert args.host == "127.0.0.1" and args.token_file is None


def test_a_missing_book_or_a_short_token_is_refused(tmp_path, capsys, monkeypatch):
    assert main(["serve", "--book", str(tmp_path / "none.db"), "--policies", str(POLICIES)]) == 2
    assert "no audit store there" in capsys.readouterr().err
    short = tmp_path / "token"
    short.write_text("abc\n", encoding="utf-8")
    assert main(["serve", "--book", str(tmp_path / "b.db"), "--policies", str(POLICIES),
                 "--token-file", str(short)]) == 2
    assert "at least 16 characters" in capsys.readouterr().err
    monkeypatch.setenv("YIBAO_DESK_TOKEN", "short")
    assert main(["serve", "--book", str(tmp_path / "b.db"), "--policies", str(POLICIES)]) == 2
    assert not (tmp_path / "b.db").exists()   # nothing was created


def test_yibao_serve_serves_the_book_and_writes_only_with_the_token(demo_book, tmp_path):
    token_file = tmp_path / "desk.token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "YIBAO_DESK_TOKEN"}
    server = subprocess.Popen(
        [sys.executable, "-m", "yibao.cli.main", "serve", "--book", str(demo_book),
         "--policies", str(POLICIES), "--port", str(port), "--token-file", str(token_file)],
        cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                page = httpx.get(base + "/", params={"person_id": "p-01"})
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.2)
        assert page.status_code == 200 and "共 3 条" in page.text
        refused = httpx.post(base + "/api/withdraw", json={"claim_id": "bx-0001"})
        assert refused.status_code == 401
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in err and "token" in err
