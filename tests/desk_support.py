"""The auditors' desk for tests: the bundled examples settled into a book (as ``make
desk`` does), the desk in-process (Starlette's TestClient) and as a real server
(uvicorn in a thread, on a free port of 127.0.0.1).  Fixtures: tests/desk/conftest.py.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from helpers import EXAMPLES, POLICIES
from yibao.cli.main import main

TOKEN = "desk-test-token-0123456789"


def settle_examples(book, location: str | None = None) -> None:
    """What ``make desk`` does: each bundled example file settled into one book (``book``,
    or the store at ``location``: a PostgreSQL URL; outputs go beside ``book``)."""
    for claims in sorted(EXAMPLES.glob("*.jsonl")):
        policy = POLICIES / f"{claims.stem}.policy"
        # exit 1: the examples include claims refused on purpose (C307 …); they write nothing
        assert main(["settle", str(policy), str(claims), "--book", location or str(book),
                     "-o", str(book.parent / f"{claims.stem}.out")]) in (0, 1)


def make_client(book, token: str | None = None, **options):
    """The desk in-process; ``options``: DeskContext's (``verify_all``, ``index``)."""
    from starlette.testclient import TestClient

    from yibao.desk.app import create_app
    from yibao.desk.context import DeskContext

    return TestClient(create_app(DeskContext(str(book), POLICIES, token, **options),
                                 verify_in_background=False))


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_desk(book, token: str | None = None, **options):
    """The desk served by uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    import uvicorn

    from yibao.desk.app import create_app
    from yibao.desk.context import DeskContext

    app = create_app(DeskContext(str(book), POLICIES, token, **options),
                     verify_in_background=False)
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
