"""Fixtures for the auditors' desk: the bundled examples settled into a book (as
``make desk`` does), the desk over it in-process (Starlette's TestClient) and
as a real server (uvicorn in a thread, on a free port of 127.0.0.1).

Figures used across the desk's tests (Benxi 2023 §(五), 低保边缘家庭成员, the
bundled bx-0001..bx-0003 of p-01; docs/specification.md §6's worked example):
in-scope burdens after 基本医保 and 大病保险 of 35,000 − 17,000 − 3,000 =
15,000, then 10,000 and 20,000.  基本救助 (deductible 2,000, 60%, annual cap
20,000) pays (15,000 − 2,000) × 60% = 7,800, then 10,000 × 60% = 6,000, then
20,000 × 60% = 12,000 cut to what the cap leaves, 20,000 − 13,800 = 6,200:
running bases 15,000 / 25,000 / 45,000, running payouts 7,800 / 13,800 /
20,000, caps left 12,200 / 6,200 / 0.  倾斜救助 (deductible 3,000, 60%, no cap)
on what 基本救助 left (7,200; 4,000; 13,800) pays 2,520, 2,400 and 8,280.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest

from helpers import EXAMPLES, POLICIES
from yibao.cli.main import main

TOKEN = "desk-test-token-0123456789"


def settle_examples(book) -> None:
    """What ``make desk`` does: each bundled example file settled into one book."""
    for claims in sorted(EXAMPLES.glob("*.jsonl")):
        policy = POLICIES / f"{claims.stem}.policy"
        # exit 1: the examples include claims refused on purpose (C307 …); they write nothing
        assert main(["settle", str(policy), str(claims), "--book", str(book),
                     "-o", str(book.parent / f"{claims.stem}.out")]) in (0, 1)


@pytest.fixture(scope="session")
def demo_book(tmp_path_factory):
    book = tmp_path_factory.mktemp("desk") / "book.db"
    settle_examples(book)
    return book


def make_client(book, token: str | None = None):
    from starlette.testclient import TestClient

    from yibao.desk.app import create_app
    from yibao.desk.context import DeskContext

    return TestClient(create_app(DeskContext(str(book), POLICIES, token),
                                 verify_in_background=False))


@pytest.fixture(scope="session")
def client(demo_book):
    return make_client(demo_book)


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_desk(book, token: str | None = None):
    """The desk served by uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    import uvicorn

    from yibao.desk.app import create_app
    from yibao.desk.context import DeskContext

    app = create_app(DeskContext(str(book), POLICIES, token), verify_in_background=False)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the desk did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
