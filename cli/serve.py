"""`yibao serve --book STORE --policies DIR`: the auditors' desk, a local web application.

Read-only and bound to 127.0.0.1 by default; the settlement API writes only
when a token is configured (``--token-file`` or ``YIBAO_DESK_TOKEN``).  Needs
the ``desk`` extra (``pip install 'yibao[desk]'``: Starlette, Jinja2, uvicorn).
See docs/desk.md.
"""

from __future__ import annotations

import os
import sys

from yibao.cli.main import EXIT_OK, EXIT_USAGE


def register(commands) -> None:
    serve = commands.add_parser(
        "serve", help="the auditors' desk: search, explain and replay the book in a browser")
    serve.add_argument("--book", required=True, metavar="STORE",
                       help="the settlement book (a SQLite file or a postgresql:// URL)")
    serve.add_argument("--policies", required=True, metavar="DIR",
                       help="the folder of .policy files the desk shows and settles with")
    serve.add_argument("--host", default="127.0.0.1",
                       help="the address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8765, help="the port (default 8765)")
    serve.add_argument("--token-file", metavar="FILE",
                       help="turn the settlement API on, with the token in FILE (else "
                            "YIBAO_DESK_TOKEN; never on the command line)")
    serve.add_argument("--verify-all", action="store_true",
                       help="at start-up verify the whole chain, not only what was appended "
                            "since the head the book last verified")
    serve.add_argument("--index", metavar="FILE",
                       help="keep the search index in FILE (a SQLite file of the desk's own, "
                            "created if missing), so a restart reads only the records "
                            "appended since; default: in memory, built at each start")
    serve.set_defaults(handler=run)


def run(args) -> int:
    try:
        import uvicorn

        from yibao.desk.app import create_app
        from yibao.desk.catalog import IndexUnusable
        from yibao.desk.context import DeskContext
        from yibao.desk.security import TokenError, read_token
    except ImportError as error:
        print(f"yibao serve needs the desk extra: pip install 'yibao[desk]' ({error})",
              file=sys.stderr)
        return EXIT_USAGE
    from yibao.audit.store import AuditError

    if not os.path.isdir(args.policies):
        print(f"yibao: {args.policies}: not a folder of policies", file=sys.stderr)
        return EXIT_USAGE
    try:
        token = read_token(args.token_file)
        ctx = DeskContext(args.book, args.policies, token, verify_all=args.verify_all,
                          index=args.index)
    except TokenError as error:
        print(f"yibao: {error}", file=sys.stderr)
        return EXIT_USAGE
    except AuditError as error:
        hint = f" — {error.hint}" if error.hint else ""
        print(f"yibao: {error.message}{hint}", file=sys.stderr)
        return EXIT_USAGE
    except IndexUnusable as error:
        print(f"yibao: {error} — {error.hint}", file=sys.stderr)
        return EXIT_USAGE
    app = create_app(ctx)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        # Plain HTTP: on a network, the token and every claim travel in clear text.
        print(f"yibao: warning: --host {args.host} opens the desk to the network over plain "
              "HTTP; put it behind the bureau's TLS proxy", file=sys.stderr)
    mode = "the settlement API is on (token)" if token else "read-only"
    print(f"yibao: the desk is at http://{args.host}:{args.port}/ ({mode}); Ctrl-C stops it",
          file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return EXIT_OK
